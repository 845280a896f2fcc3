package policydoc

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

const s3Read = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Read",
      "Effect": "Allow",
      "Action": ["s3:ListBucket", "s3:GetObject"],
      "Resource": ["arn:aws:s3:::reports", "arn:aws:s3:::reports/*"]
    }
  ]
}`

func mustParse(t *testing.T, s string) Document {
	t.Helper()
	d, err := ParseString(s)
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return d
}

func TestEquivalentFormsShareDigest(t *testing.T) {
	base := mustParse(t, s3Read)
	quoted, _ := json.Marshal(s3Read)
	forms := map[string]string{
		"compact":            `{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":["s3:ListBucket","s3:GetObject"],"Resource":["arn:aws:s3:::reports","arn:aws:s3:::reports/*"]}]}`,
		"keys reordered":     `{"Statement":[{"Resource":["arn:aws:s3:::reports/*","arn:aws:s3:::reports"],"Action":["s3:GetObject","s3:ListBucket"],"Effect":"Allow","Sid":"Read"}],"Version":"2012-10-17"}`,
		"statement object":   `{"Version":"2012-10-17","Statement":{"Sid":"Read","Effect":"Allow","Action":["s3:ListBucket","s3:GetObject"],"Resource":["arn:aws:s3:::reports","arn:aws:s3:::reports/*"]}}`,
		"duplicate action":   `{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":["s3:ListBucket","s3:GetObject","s3:GetObject"],"Resource":["arn:aws:s3:::reports","arn:aws:s3:::reports/*"]}]}`,
		"URL-encoded":        url.PathEscape(s3Read),
		"JSON string":        string(quoted),
		"JSON string of URL": `"` + url.PathEscape(s3Read) + `"`,
	}
	for name, form := range forms {
		t.Run(name, func(t *testing.T) {
			d := mustParse(t, form)
			if d.Digest != base.Digest {
				t.Errorf("digest differs:\n got %s\nwant %s", d.Canonical, base.Canonical)
			}
		})
	}
}

func TestStringOrListNormalised(t *testing.T) {
	a := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`)
	b := mustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["*"]}]}`)
	if a.Canonical != b.Canonical {
		t.Errorf("canonical differs:\n%s\n%s", a.Canonical, b.Canonical)
	}
	want := `{"Statement":[{"Action":["s3:GetObject"],"Effect":"Allow","Resource":["*"]}],"Version":"2012-10-17"}`
	if a.Canonical != want {
		t.Errorf("canonical = %s\nwant        %s", a.Canonical, want)
	}
}

func TestConditionAndPrincipal(t *testing.T) {
	a := mustParse(t, `{"Statement":[{"Effect":"Deny","NotAction":"iam:*","Resource":"*","Principal":{"AWS":"arn:aws:iam::111122223333:root"},
		"Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"},"StringEquals":{"aws:RequestedRegion":["eu-west-1","eu-central-1"]}}}]}`)
	b := mustParse(t, `{"Statement":[{"Condition":{"StringEquals":{"aws:RequestedRegion":["eu-central-1","eu-west-1"]},"BoolIfExists":{"aws:MultiFactorAuthPresent":["false"]}},
		"Principal":{"AWS":["arn:aws:iam::111122223333:root"]},"Resource":["*"],"NotAction":["iam:*"],"Effect":"Deny"}]}`)
	if a.Digest != b.Digest {
		t.Errorf("digests differ:\n%s\n%s", a.Canonical, b.Canonical)
	}
}

func TestDifferentDocumentsDiffer(t *testing.T) {
	pairs := [][2]string{
		{`{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`, `{"Statement":[{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}]}`},
		{`{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`, `{"Statement":[{"Effect":"Allow","NotAction":"s3:GetObject","Resource":"*"}]}`},
		{`{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`, `{"Statement":[{"Effect":"Allow","Action":"s3:getobject","Resource":"*"}]}`},
		{`{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"a"},{"Effect":"Deny","Action":"s3:*","Resource":"b"}]}`,
			`{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"b"},{"Effect":"Deny","Action":"s3:*","Resource":"a"}]}`},
	}
	for _, p := range pairs {
		if mustParse(t, p[0]).Digest == mustParse(t, p[1]).Digest {
			t.Errorf("same digest for\n%s\n%s", p[0], p[1])
		}
	}
}

func TestSizeExcludesWhiteSpace(t *testing.T) {
	d := mustParse(t, s3Read)
	if want := len(strings.Join(strings.Fields(d.Canonical), "")); d.Size != want {
		t.Errorf("size = %d, want %d", d.Size, want)
	}
	if got := Size("{ \"a\" :\n\t\"b c\" }"); got != 10 {
		t.Errorf("Size = %d, want 10", got)
	}
	if got := Size("é ü"); got != 2 {
		t.Errorf("Size counts characters, not bytes: got %d, want 2", got)
	}
}

func TestEscapesSurvive(t *testing.T) {
	d := mustParse(t, `{"Statement":[{"Sid":"a\"b\\c\u00e9\n","Effect":"Allow","Action":"*","Resource":"*"}]}`)
	var v map[string]any
	if err := json.Unmarshal([]byte(d.Canonical), &v); err != nil {
		t.Fatalf("canonical is not JSON: %v\n%s", err, d.Canonical)
	}
	sid := v["Statement"].([]any)[0].(map[string]any)["Sid"]
	if sid != "a\"b\\cé\n" {
		t.Errorf("Sid = %q", sid)
	}
}

func TestBadDocuments(t *testing.T) {
	for _, in := range []string{"", "   ", "[1]", "42", "%7Bbroken", "%zz", `{"a":}`, `{"a":1} x`, `"%22%22"`, `{"Statement":[}`} {
		if _, err := ParseString(in); err == nil {
			t.Errorf("ParseString(%q) succeeded, want an error", in)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{s3Read, url.PathEscape(s3Read), `"{}"`, `{"Statement":{"Action":"a","Condition":{"X":{"k":["v",1,true]}}}}`,
		`{"Statement":[{"Principal":"*"}]}`, `{"a":"\ud83d\ude00\u0000"}`, "%7B%7D"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data)
		if err != nil {
			return
		}
		if !json.Valid([]byte(d.Canonical)) {
			t.Fatalf("canonical form is not valid JSON: %q", d.Canonical)
		}
		again, err := ParseString(d.Canonical)
		if err != nil {
			t.Fatalf("canonical form does not parse: %v", err)
		}
		if again.Canonical != d.Canonical {
			t.Fatalf("canonicalisation is not idempotent:\n%s\n%s", d.Canonical, again.Canonical)
		}
	})
}

func TestDuplicateKeysAreNotSquashed(t *testing.T) {
	allow := mustParse(t, `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)
	dup := mustParse(t, `{"Statement":[{"Effect":"Deny","Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)
	swapped := mustParse(t, `{"Statement":[{"Effect":"Allow","Effect":"Deny","Action":"s3:*","Resource":"*"}]}`)
	if dup.Digest == allow.Digest || dup.Digest == swapped.Digest {
		t.Errorf("duplicate keys collapsed:\n%s\n%s\n%s", allow.Canonical, dup.Canonical, swapped.Canonical)
	}
}
