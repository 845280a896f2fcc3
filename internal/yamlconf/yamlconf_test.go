package yamlconf

import (
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestErrorFormat(t *testing.T) {
	for _, tt := range []struct {
		e    Error
		want string
	}{
		{Error{File: "c.yaml", Msg: "m"}, "c.yaml: m"},
		{Error{File: "c.yaml", Line: 3, Msg: "m"}, "c.yaml:3: m"},
		{Error{File: "c.yaml", Line: 3, Column: 5, Field: "a.b", Msg: "m"}, "c.yaml:3:5: a.b: m"},
		{Error{File: "c.yaml", Column: 5, Field: "a", Msg: "m"}, "c.yaml: a: m"},
	} {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.e, got, tt.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"users", "tags", "policies"}
	for key, want := range map[string]string{"user": "users", "Tags": "tags", "polices": "policies", "reason": "", "": ""} {
		if got := Suggest(key, known); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", key, got, want)
		}
	}
}

// TestPairs checks the problems Pairs reports, and MergeKeyAsName.
func TestPairs(t *testing.T) {
	const data = "name: a\nnmae: b\nname: c\n[x]: d\n<<: {e: f}\ncolour: g\n"
	want := []string{
		`c.yaml:2:1: t.nmae: unknown key; did you mean "name"? (known: name, every)`,
		`c.yaml:3:1: t.name: duplicate key (first on line 1); keep one`,
		`c.yaml:4:1: t: a key must be a plain name, found a list; use one of name, every`,
		`c.yaml:5:1: t: merge keys (<<) are not supported; write the keys out`,
		`c.yaml:6:1: t.colour: unknown key; use one of name, every`,
	}
	for _, asName := range []bool{false, true} {
		p := &Problems{File: "c.yaml", MergeKeyAsName: asName}
		doc, err := p.Decode([]byte(data))
		if err != nil {
			t.Fatal(err)
		}
		pairs := p.Pairs(doc.Content[0], "t", []string{"name", "every"})
		if len(pairs) != 1 || pairs[0].Key != "name" || pairs[0].Value.Value != "a" || pairs[0].KeyNode.Line != 1 {
			t.Errorf("pairs %+v", pairs)
		}
		w := append([]string(nil), want...)
		if asName {
			w[3] = `c.yaml:5:1: t: a key must be a plain name, found the string "<<"; use one of name, every`
		}
		if len(p.Errs) != len(w) {
			t.Fatalf("MergeKeyAsName %v: %d problems, want %d: %v", asName, len(p.Errs), len(w), p.Err())
		}
		for i, e := range p.Errs {
			if e.Error() != w[i] {
				t.Errorf("MergeKeyAsName %v: problem %d\n%s\nwant\n%s", asName, i, e, w[i])
			}
		}
	}
}

func TestDecode(t *testing.T) {
	p := &Problems{File: "c.yaml"}
	if doc, err := p.Decode([]byte("# only a comment\n")); doc != nil || err != nil || p.Err() != nil {
		t.Errorf("comments only: %v, %v, %v", doc, err, p.Err())
	}
	if _, err := p.Decode([]byte("a: [\n")); err == nil || err.Error() != "c.yaml:1: invalid YAML: did not find expected node content; check the indentation and quoting around this line" {
		t.Errorf("syntax error: %v", err)
	}
	doc, err := p.Decode([]byte("a: 1\n---\nb: 2\n"))
	if err != nil || doc == nil || doc.Content[0].Kind != yaml.MappingNode {
		t.Fatalf("two documents: %v, %v", doc, err)
	}
	if got, want := p.Err().Error(), "c.yaml:2:1: a second YAML document; the config is one document, remove the '---' and what follows or merge it into the first"; got != want {
		t.Errorf("two documents: %q, want %q", got, want)
	}
}
