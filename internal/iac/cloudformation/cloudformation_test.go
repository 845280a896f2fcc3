package cloudformation

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/iamgroups/iamgroups/internal/iac"
)

// want is one expectation: a finding (typ set) or a declared user.
type want struct {
	line   int
	typ    string // "" for a user expectation
	user   string // user expectation: the name
	fields []field
	src    string
}

type field struct {
	key, op, val string // op is "=" (equal) or "~" (contains)
}

// parseWantSpec reads `AWS::IAM::Policy user=alice policy="x y" note~"..."`
// or `want-user: alice`.
func parseWantSpec(line int, spec string) (want, error) {
	w := want{line: line, src: spec}
	spec = strings.TrimSpace(spec)
	if rest, ok := strings.CutPrefix(spec, "want-user:"); ok {
		name := strings.TrimSpace(rest)
		if strings.HasPrefix(name, `"`) {
			var err error
			if name, err = strconv.Unquote(name); err != nil {
				return w, err
			}
		}
		w.user = name
		return w, nil
	}
	typ, rest, _ := strings.Cut(spec, " ")
	w.typ = typ
	rest = strings.TrimSpace(rest)
	for rest != "" {
		i := strings.IndexAny(rest, "=~")
		if i <= 0 {
			return w, fmt.Errorf("bad field in %q", rest)
		}
		f := field{key: rest[:i], op: rest[i : i+1]}
		rest = rest[i+1:]
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return w, fmt.Errorf("bad quoted value in %q: %v", rest, err)
			}
			f.val, _ = strconv.Unquote(q)
			rest = rest[len(q):]
		} else {
			v, r, _ := strings.Cut(rest, " ")
			f.val, rest = v, r
		}
		rest = strings.TrimSpace(rest)
		w.fields = append(w.fields, f)
	}
	return w, nil
}

// loadWants reads the expectations of a fixture: "# want:" and
// "# want-user:" comments above the line they describe (YAML), or a
// sidecar name.want file of "<line> <spec>" lines (JSON).
func loadWants(t *testing.T, path string) ([]want, bool) {
	t.Helper()
	var out []want
	side := strings.TrimSuffix(path, filepath.Ext(path)) + ".want"
	if data, err := os.ReadFile(side); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			l := strings.TrimSpace(sc.Text())
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			n, spec, _ := strings.Cut(l, " ")
			line, err := strconv.Atoi(n)
			if err != nil {
				t.Fatalf("%s: bad line %q", side, l)
			}
			w, err := parseWantSpec(line, spec)
			if err != nil {
				t.Fatalf("%s: %v", side, err)
			}
			out = append(out, w)
		}
		return out, true
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	var pending []string
	found := false
	for i, l := range lines {
		tl := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(tl, "# want:"):
			pending = append(pending, strings.TrimPrefix(tl, "# want:"))
			found = true
		case strings.HasPrefix(tl, "# want-user:"):
			pending = append(pending, strings.TrimPrefix(tl, "# "))
			found = true
		case tl == "" || strings.HasPrefix(tl, "#"):
		default:
			for _, p := range pending {
				w, err := parseWantSpec(i+1, p)
				if err != nil {
					t.Fatalf("%s:%d: %v", path, i+1, err)
				}
				out = append(out, w)
			}
			pending = nil
		}
	}
	return out, found
}

func findingFields(f iac.Finding) map[string]string {
	m := map[string]string{
		"user": f.User, "userref": f.UserRef, "kind": f.Kind,
		"policy": f.Policy, "policyref": f.PolicyRef, "note": f.Note,
		"supp": "", "expires": "", "suppline": "",
	}
	if s := f.Suppression; s != nil {
		m["supp"], m["expires"], m["suppline"] = s.Reason, s.Expires, strconv.Itoa(s.Line)
	}
	return m
}

func (w want) matches(f iac.Finding) bool {
	if f.Location.Line != w.line || f.Type != w.typ {
		return false
	}
	m := findingFields(f)
	// user and userref are both checked: naming one means the other is
	// empty.
	checked := map[string]bool{}
	for _, fl := range w.fields {
		v, ok := m[fl.key]
		if !ok {
			return false
		}
		checked[fl.key] = true
		if fl.op == "=" && v != fl.val || fl.op == "~" && !strings.Contains(v, fl.val) {
			return false
		}
	}
	for _, k := range []string{"user", "userref", "policy", "policyref", "supp"} {
		if !checked[k] && m[k] != "" && (k == "user" || k == "userref" || k == "supp" || k == "policy") {
			return false
		}
	}
	return true
}

func describe(f iac.Finding) string {
	return fmt.Sprintf("%d:%d %s %s %q", f.Location.Line, f.Location.Column, f.Type, f.Location.Address, findingFields(f))
}

// checkScan compares a scan with a fixture's expectations.
func checkScan(t *testing.T, path string, data []byte, scan *iac.Scan, wants []want) {
	t.Helper()
	lines := strings.Split(string(data), "\n")
	used := make([]bool, len(scan.Findings))
	var users []string
	for _, w := range wants {
		if w.typ == "" {
			users = append(users, fmt.Sprintf("%d %q", w.line, w.user))
			continue
		}
		ok := false
		for i, f := range scan.Findings {
			if !used[i] && w.matches(f) {
				used[i], ok = true, true
				break
			}
		}
		if !ok {
			t.Errorf("%s:%d: missing finding %s", path, w.line, w.src)
		}
	}
	for i, f := range scan.Findings {
		if !used[i] {
			t.Errorf("%s: unexpected finding %s", path, describe(f))
		}
		checkLocation(t, path, lines, f.Location.Line, f.Location.Column, f.Location.Address, f.Location.File)
		if f.User == "" && f.UserRef == "" {
			t.Errorf("%s: finding with neither User nor UserRef: %s", path, describe(f))
		}
		if f.Kind != "inline" && f.Kind != "managed" {
			t.Errorf("%s: bad kind: %s", path, describe(f))
		}
	}
	var got []string
	for _, u := range scan.Users {
		got = append(got, fmt.Sprintf("%d %q", u.Location.Line, u.Name))
		checkLocation(t, path, lines, u.Location.Line, u.Location.Column, u.Location.Address, u.Location.File)
	}
	sort.Strings(got)
	sort.Strings(users)
	if strings.Join(got, ",") != strings.Join(users, ",") {
		t.Errorf("%s: users\n got %v\nwant %v", path, got, users)
	}
}

// checkLocation checks that the position points at the logical ID.
func checkLocation(t *testing.T, path string, lines []string, line, col int, addr, file string) {
	t.Helper()
	if file != path {
		t.Errorf("%s: location file %q", path, file)
	}
	if line < 1 || line > len(lines) || col < 1 {
		t.Errorf("%s: bad position %d:%d for %s", path, line, col, addr)
		return
	}
	text := lines[line-1]
	if utf8.RuneCountInString(text) < col {
		t.Errorf("%s:%d: column %d beyond the line", path, line, col)
		return
	}
	at := strings.TrimPrefix(string([]rune(text)[col-1:]), `"`)
	if addr == "" || !strings.HasPrefix(at, addr) {
		t.Errorf("%s:%d:%d: position does not point at %q: %q", path, line, col, addr, text)
	}
}

// validFixtures are the templates with expectations (outside broken/).
func validFixtures(t *testing.T) []string {
	var out []string
	err := filepath.WalkDir("testdata", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "broken" || d.Name() == "nontemplate") {
			return filepath.SkipDir
		}
		if d.IsDir() || !IsCandidate(p) {
			return nil
		}
		if _, ok := loadWants(t, p); ok {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 6 {
		t.Fatalf("only %d fixtures found: %v", len(out), out)
	}
	return out
}

func TestFixtures(t *testing.T) {
	for _, path := range validFixtures(t) {
		t.Run(path, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			scan, err := ScanFile(path, data)
			if err != nil {
				t.Fatal(err)
			}
			if scan.Files != 1 || len(scan.Errors) != 0 {
				t.Fatalf("Files = %d, Errors = %v", scan.Files, scan.Errors)
			}
			wants, _ := loadWants(t, path)
			checkScan(t, path, data, scan, wants)
		})
	}
}

func TestNotTemplates(t *testing.T) {
	paths, _ := filepath.Glob("testdata/nontemplate/*")
	paths = append(paths, "testdata/cdk.out/manifest.json")
	extra := map[string]string{
		"empty":          "",
		"comment only":   "# Resources\n",
		"scalar":         "Resources",
		"list":           "- Resources\n- AWS::IAM::User\n",
		"json array":     `[{"Resources": {"A": {"Type": "AWS::IAM::User"}}}]`,
		"no aws type":    "Resources:\n  A:\n    Type: Foo\n",
		"types not text": "Resources:\n  A:\n    Type: [AWS::IAM::User]\n",
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		extra[p] = string(data)
	}
	for name, data := range extra {
		scan, err := ScanFile(name, []byte(data))
		if err != nil || scan.Files != 0 || len(scan.Findings)+len(scan.Users)+len(scan.Errors) != 0 {
			t.Errorf("%s: got %+v, %v; want an empty scan", name, scan, err)
		}
	}
}

func TestBroken(t *testing.T) {
	type wantErr struct {
		line, col int
		msg       string
	}
	tests := []struct {
		path     string
		errs     []wantErr
		findings int
	}{
		{"testdata/broken/syntax.yaml", []wantErr{{7, 7, "did not find expected ',' or ']'"}}, 0},
		{"testdata/broken/resources-list.yaml", []wantErr{{4, 3, "Resources is not a mapping"}}, 0},
		{"testdata/broken/syntax.json", []wantErr{{5, 5, "after object key:value pair"}}, 0},
		{"testdata/broken/resource-not-mapping.yaml", []wantErr{{3, 3, "Alice is not a mapping"}, {4, 3, "Bob has no Type"}}, 1},
	}
	for _, tt := range tests {
		data, err := os.ReadFile(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		scan, err := ScanFile(tt.path, data)
		if err != nil {
			t.Fatal(err)
		}
		if scan.Files != 1 {
			t.Errorf("%s: Files = %d", tt.path, scan.Files)
		}
		if len(scan.Errors) != len(tt.errs) {
			t.Errorf("%s: errors %+v, want %d", tt.path, scan.Errors, len(tt.errs))
			continue
		}
		for i, e := range scan.Errors {
			w := tt.errs[i]
			if e.File != tt.path || e.Line != w.line || e.Column != w.col || !strings.Contains(e.Msg, w.msg) {
				t.Errorf("%s: error %+v, want %d:%d %q", tt.path, e, w.line, w.col, w.msg)
			}
		}
		if len(scan.Findings) != tt.findings {
			t.Errorf("%s: %d findings, want %d", tt.path, len(scan.Findings), tt.findings)
		}
		if wants, ok := loadWants(t, tt.path); ok {
			checkScan(t, tt.path, data, scan, wants)
		}
	}
}

func TestIsCandidate(t *testing.T) {
	for p, want := range map[string]bool{
		"a.json": true, "a.yaml": true, "a.yml": true, "a.template": true, "A.YAML": true,
		"cdk.out/App.template.json": true, "main.tf.json": false, "x.TF.JSON": false,
		"main.tf": false, "a.txt": false, "yaml": false, "dir.json/file": false,
	} {
		if got := IsCandidate(p); got != want {
			t.Errorf("IsCandidate(%q) = %v", p, got)
		}
	}
}

func TestJSONQuirks(t *testing.T) {
	long := strings.Repeat("k", 1500)
	data := "\xef\xbb\xbf{\"Resources\": {\"U\": {\"Type\": \"AWS::IAM::UserPolicy\", \"Properties\": {\"UserName\": \"a\\/b\", \"PolicyName\": \"p\", \"" + long + "\": 1}}}}"
	scan, _ := ScanFile("q.json", []byte(data))
	if len(scan.Findings) != 1 || scan.Findings[0].User != "a/b" || scan.Findings[0].Location.Column != 16 {
		t.Fatalf("got %+v", scan)
	}
	// Flow-style YAML that is not JSON is read as YAML.
	scan, _ = ScanFile("q.template", []byte("{Resources: {U: {Type: AWS::IAM::UserPolicy, Properties: {UserName: !Ref X, PolicyName: p}}}}"))
	if len(scan.Findings) != 1 || scan.Findings[0].UserRef != "Ref: X" {
		t.Fatalf("got %+v", scan)
	}
	// Trailing garbage after a JSON template.
	scan, _ = ScanFile("q.json", []byte("{\"AWSTemplateFormatVersion\": \"2010-09-09\"}\n{\"Resources\": {}}"))
	if len(scan.Errors) != 1 || scan.Errors[0].Line != 2 {
		t.Fatalf("got %+v", scan)
	}
}

func TestForEachAndAliases(t *testing.T) {
	src := `AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::LanguageExtensions
Resources:
  Fn::ForEach::Users:
    - Name
    - [a, b]
    - ${Name}Policy:
        Type: AWS::IAM::UserPolicy
        Properties:
          UserName: !Ref Name
          PolicyName: p
  Base: &base
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Users: [x]
  Copy: *base
`
	scan, _ := ScanFile("t.yaml", []byte(src))
	if len(scan.Errors) != 0 || len(scan.Findings) != 3 {
		t.Fatalf("got %+v", scan)
	}
	f := scan.Findings[0]
	if f.Location.Address != "${Name}Policy" || !strings.Contains(f.Note, "Fn::ForEach::Users") || f.UserRef != "Ref: Name" {
		t.Errorf("ForEach finding %+v", f)
	}
	if scan.Findings[2].Location.Address != "Copy" || scan.Findings[2].User != "x" {
		t.Errorf("alias finding %+v", scan.Findings[2])
	}
}

func TestNestedIfBounded(t *testing.T) {
	// 2^14 branches must not be expanded.
	expr := "x"
	for i := 0; i < 14; i++ {
		expr = fmt.Sprintf("!If [c, %s, %s]", expr, expr)
	}
	src := "Resources:\n  P:\n    Type: AWS::IAM::Policy\n    Properties:\n      Users: [" + expr + "]\n"
	scan, _ := ScanFile("t.yaml", []byte(src))
	if n := len(scan.Findings); n == 0 || n > maxVariants {
		t.Fatalf("%d findings", n)
	}
}

func TestAliasBombBounded(t *testing.T) {
	// A tree of 2^40 Fn::If whose leaves are all AWS::NoValue, in a few
	// lines of YAML.
	var b strings.Builder
	b.WriteString("Metadata:\n  l0: &l0 !Ref AWS::NoValue\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&b, "  l%d: &l%d !If [c, *l%d, *l%d]\n", i, i, i-1, i-1)
	}
	b.WriteString("Resources:\n  P:\n    Type: AWS::IAM::Policy\n    Properties:\n      Users: [*l40, *l40, x]\n")
	done := make(chan *iac.Scan)
	go func() {
		s, _ := ScanFile("bomb.yaml", []byte(b.String()))
		done <- s
	}()
	select {
	case s := <-done:
		// Branches nested deeper than the expansion allows are reported
		// as unresolved expressions, never dropped.
		n := len(s.Findings)
		if n == 0 || n > 2*maxVariants+1 || s.Findings[n-1].User != "x" {
			t.Fatalf("%d findings", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("alias bomb not bounded")
	}
}

func TestParseSuppressionString(t *testing.T) {
	for in, want := range map[string]string{
		"ignore IAM-071 because [exp:2026-01-02]":           "IAM-071|because|2026-01-02",
		"iamgroups:ignore IAM-071 two words exp:2026-01-02": "IAM-071|two words|2026-01-02",
		"ignore IAM-071":  "IAM-071||",
		"allow IAM-071 x": "nil",
		"ignore":          "nil",
	} {
		s := parseSuppressionString(in)
		got := "nil"
		if s != nil {
			got = s.Rule + "|" + s.Reason + "|" + s.Expires
		}
		if got != want {
			t.Errorf("%q: got %q want %q", in, got, want)
		}
	}
}

// TestCfnLint checks that the valid fixtures are real CloudFormation: cfn-lint
// parses them (no E0000). It is skipped when cfn-lint is not installed,
// except under CI.
func TestCfnLint(t *testing.T) {
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("cfn-lint is not on PATH")
		}
		t.Skip("cfn-lint is not on PATH")
	}
	if testing.Short() {
		t.Skip("short")
	}
	for _, path := range validFixtures(t) {
		out, err := exec.Command(bin, "--format", "json", path).Output()
		// cfn-lint exits non-zero when it reports anything; the JSON is
		// what matters.
		if len(out) == 0 && err != nil {
			t.Errorf("%s: cfn-lint: %v", path, err)
			continue
		}
		var matches []struct {
			Rule     struct{ Id string }
			Message  string
			Location struct{ Start struct{ LineNumber int } }
		}
		if err := json.Unmarshal(out, &matches); err != nil {
			t.Errorf("%s: cfn-lint output: %v\n%s", path, err, out)
			continue
		}
		for _, m := range matches {
			if m.Rule.Id == "E0000" || m.Rule.Id == "E0001" {
				t.Errorf("%s:%d: cfn-lint %s: %s", path, m.Location.Start.LineNumber, m.Rule.Id, m.Message)
			}
		}
	}
}

func FuzzScanFile(f *testing.F) {
	_ = filepath.WalkDir("testdata", func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
		return nil
	})
	f.Add([]byte(`{"Resources": {"A": {"Type": "AWS::IAM::User", "Properties": {"Policies": [{"Fn::If": ["c", {"Ref": "AWS::NoValue"}, {"PolicyName": 1}]}]}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		scan, err := ScanFile("f.yaml", data)
		if err != nil || scan == nil {
			t.Fatalf("ScanFile: %v", err)
		}
		if scan.Files > 1 || (scan.Files == 0 && len(scan.Findings)+len(scan.Users)+len(scan.Errors) > 0) {
			t.Fatalf("inconsistent scan %+v", scan)
		}
		for _, fd := range scan.Findings {
			if fd.User == "" && fd.UserRef == "" {
				t.Fatalf("finding without user: %+v", fd)
			}
			if fd.Location.Line < 1 {
				t.Fatalf("finding without line: %+v", fd)
			}
		}
	})
}

func benchTemplate(n int) []byte {
	var b strings.Builder
	b.WriteString("AWSTemplateFormatVersion: \"2010-09-09\"\nParameters:\n  Who:\n    Type: String\nResources:\n")
	doc := "      PolicyDocument:\n        Version: \"2012-10-17\"\n        Statement:\n          - Effect: Allow\n            Action: s3:GetObject\n            Resource: \"*\"\n"
	for i := 0; i < n; i++ {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, "  User%d:\n    Type: AWS::IAM::User\n    Properties:\n      UserName: user%d\n      ManagedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n      Policies:\n        - PolicyName: p%d\n  ", i, i, i)
			b.WriteString(strings.ReplaceAll(doc, "\n      ", "\n            ")[4:])
		case 1:
			fmt.Fprintf(&b, "  Policy%d:\n    Type: AWS::IAM::Policy\n    Properties:\n      PolicyName: p%d\n      Users: [!Ref User%d, !Ref Who, !If [c, a, !Ref AWS::NoValue]]\n%s", i, i, i-1, doc)
		case 2:
			fmt.Fprintf(&b, "  Managed%d:\n    Type: AWS::IAM::ManagedPolicy\n    Metadata:\n      iamgroups: ignore IAM-071 bench [exp:2030-01-01]\n    Properties:\n      Users: [u%d]\n%s", i, i, doc)
		case 3:
			fmt.Fprintf(&b, "  UserPolicy%d:\n    Type: AWS::IAM::UserPolicy\n    Properties:\n      PolicyName: p%d\n      UserName: !Sub ${User%d}\n%s", i, i, i-3, doc)
		}
	}
	return []byte(b.String())
}

func TestBenchTemplate(t *testing.T) {
	scan, _ := ScanFile("bench.yaml", benchTemplate(200))
	if len(scan.Errors) != 0 || len(scan.Users) != 50 || len(scan.Findings) != 50*2+50*3+50+50 {
		t.Fatalf("errors %v, %d users, %d findings", scan.Errors, len(scan.Users), len(scan.Findings))
	}
}

func BenchmarkScanFile(b *testing.B) {
	data := benchTemplate(200)
	b.Run("yaml", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := ScanFile("bench.yaml", data); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The same template as JSON (CDK output).
	var v any
	if err := yamlToAny(data, &v); err != nil {
		b.Fatal(err)
	}
	js, _ := json.MarshalIndent(v, "", " ")
	b.Run("json", func(b *testing.B) {
		b.SetBytes(int64(len(js)))
		for b.Loop() {
			if _, err := ScanFile("bench.template.json", js); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// yamlToAny converts a YAML template to plain values, short-form tags to
// long form, as `cfn-flip` would.
func yamlToAny(data []byte, v *any) error {
	n, perr := parse(data, false)
	if perr != nil {
		return perr
	}
	*v = nodeToAny(n)
	return nil
}

func nodeToAny(n *yaml.Node) any {
	n = deref(n)
	if name, arg, ok := intrinsic(n); ok && customTag(n) {
		if name == "Fn::GetAtt" && arg.Kind == yaml.ScalarNode {
			a, b, _ := strings.Cut(arg.Value, ".")
			return map[string]any{name: []any{a, b}}
		}
		return map[string]any{name: nodeToAny(arg)}
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = nodeToAny(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		s := []any{}
		for _, c := range n.Content {
			s = append(s, nodeToAny(c))
		}
		return s
	}
	return n.Value
}
