package terraform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/iamgroups/iamgroups/internal/iac"
)

// The fixtures under testdata are the test: each finding the scan must
// report is written as a `want:` comment above the resource it belongs to
// (in .tf.json, a "//" property right below the resource's name; for the
// plan, a line of plan.json.want), each user as `want-user:`, each parse
// error as `want-error` above the line it is on. Anything else the scan
// reports is a failure.

// expect is one expected finding, user or error.
type expect struct {
	file string
	line int
	kind string // "finding", "user", "error"
	typ  string
	kv   map[string]string
	src  string // the annotation, for messages
}

var resourceLine = regexp.MustCompile(`^\s*resource\s+"([^"]+)"\s+"([^"]+)"`)

// parseWant reads `type key=value key="quoted value" ...`.
func parseWant(s string) (typ string, kv map[string]string, err error) {
	kv = map[string]string{}
	s = strings.TrimSpace(s)
	for s != "" {
		var tok string
		if i := strings.IndexAny(s, " ="); i < 0 {
			tok, s = s, ""
		} else if s[i] == ' ' {
			tok, s = s[:i], strings.TrimSpace(s[i:])
		} else {
			key := s[:i]
			s = s[i+1:]
			var v string
			if strings.HasPrefix(s, `"`) {
				q, err := strconv.QuotedPrefix(s)
				if err != nil {
					return "", nil, fmt.Errorf("bad quoted value in %q: %v", s, err)
				}
				v, _ = strconv.Unquote(q)
				s = strings.TrimSpace(s[len(q):])
			} else if j := strings.IndexByte(s, ' '); j >= 0 {
				v, s = s[:j], strings.TrimSpace(s[j:])
			} else {
				v, s = s, ""
			}
			kv[key] = v
			continue
		}
		if typ != "" {
			return "", nil, fmt.Errorf("two bare words: %q and %q", typ, tok)
		}
		typ = tok
	}
	return typ, kv, nil
}

func isCommentLine(s string) bool {
	s = strings.TrimSpace(s)
	return strings.HasPrefix(s, "#") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/*") || strings.HasPrefix(s, "*")
}

// hclExpectations reads the annotations of a .tf file.
func hclExpectations(t *testing.T, path string, src []byte) []expect {
	lines := strings.Split(string(src), "\n")
	var out []expect
	for i, l := range lines {
		c := strings.TrimSpace(l)
		c = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(c, "#"), "//"))
		var kind, rest string
		switch {
		case strings.HasPrefix(c, "want:"):
			kind, rest = "finding", c[len("want:"):]
		case strings.HasPrefix(c, "want-user:"):
			kind, rest = "user", "aws_iam_user "+c[len("want-user:"):]
		case c == "want-error":
			kind = "error"
		default:
			continue
		}
		if !isCommentLine(l) {
			continue
		}
		target := i + 1
		for target < len(lines) && isCommentLine(lines[target]) {
			target++
		}
		e := expect{file: path, line: target + 1, kind: kind, src: fmt.Sprintf("%s:%d: %s", path, i+1, c)}
		if kind == "error" {
			out = append(out, e)
			continue
		}
		typ, kv, err := parseWant(rest)
		if err != nil {
			t.Fatalf("%s: %v", e.src, err)
		}
		e.typ, e.kv = typ, kv
		if _, ok := kv["address"]; !ok {
			m := resourceLine.FindStringSubmatch(lines[target])
			if m == nil {
				t.Fatalf("%s: no resource line below", e.src)
			}
			kv["address"] = m[1] + "." + m[2]
		}
		out = append(out, e)
	}
	return out
}

var jsonWant = regexp.MustCompile(`^\s*"//":\s*("(?:[^"\\]|\\.)*")`)

// jsonExpectations reads the "//" want properties of a .tf.json file: the
// resource is on the line above.
func jsonExpectations(t *testing.T, path string, src []byte) []expect {
	var out []expect
	for i, l := range strings.Split(string(src), "\n") {
		m := jsonWant.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		var c string
		if err := json.Unmarshal([]byte(m[1]), &c); err != nil {
			t.Fatalf("%s:%d: %v", path, i+1, err)
		}
		kind, rest := "", ""
		switch {
		case strings.HasPrefix(c, "want:"):
			kind, rest = "finding", c[len("want:"):]
		case strings.HasPrefix(c, "want-user:"):
			kind, rest = "user", "aws_iam_user "+c[len("want-user:"):]
		default:
			continue
		}
		typ, kv, err := parseWant(rest)
		if err != nil {
			t.Fatalf("%s:%d: %v", path, i+1, err)
		}
		if kv["address"] == "" {
			t.Fatalf("%s:%d: a .tf.json want needs address=", path, i+1)
		}
		out = append(out, expect{file: path, line: i, kind: kind, typ: typ, kv: kv, src: fmt.Sprintf("%s:%d: %s", path, i+1, c)})
	}
	return out
}

// planExpectations reads <plan>.want; the line of each is that of the
// resource_changes element with the address, found independently of the
// scanner.
func planExpectations(t *testing.T, planPath string, plan []byte) []expect {
	want, err := os.ReadFile(planPath + ".want")
	if err != nil {
		t.Fatal(err)
	}
	rc := bytes.Index(plan, []byte(`"resource_changes"`))
	if rc < 0 {
		t.Fatalf("%s: no resource_changes", planPath)
	}
	var out []expect
	for i, l := range strings.Split(string(want), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		kind := "finding"
		if rest, ok := strings.CutPrefix(l, "user "); ok {
			kind, l = "user", rest
		}
		addr, rest, _ := strings.Cut(l, " ")
		if kind == "user" {
			rest = "aws_iam_user " + rest
		}
		typ, kv, err := parseWant(rest)
		if err != nil {
			t.Fatalf("%s.want:%d: %v", planPath, i+1, err)
		}
		kv["address"] = addr
		q, _ := json.Marshal(addr)
		at := bytes.Index(plan[rc:], []byte(`"address": `+string(q)))
		if at < 0 {
			t.Fatalf("%s.want:%d: %s is not in resource_changes", planPath, i+1, addr)
		}
		brace := bytes.LastIndexByte(plan[:rc+at], '{')
		out = append(out, expect{file: planPath, line: 1 + bytes.Count(plan[:brace], []byte("\n")), kind: kind, typ: typ, kv: kv,
			src: fmt.Sprintf("%s.want:%d: %s", planPath, i+1, l)})
	}
	return out
}

func collectExpectations(t *testing.T, root string) []expect {
	var out []expect
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		switch k := kindOf(path); {
		case k == kindHCL:
			out = append(out, hclExpectations(t, path, src)...)
		case k == kindHCLJSON:
			out = append(out, jsonExpectations(t, path, src)...)
		case k == kindJSON && looksLikePlan(src) && fileExists(path+".want"):
			out = append(out, planExpectations(t, path, src)...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func findingMatches(f iac.Finding, e expect) bool {
	kv := e.kv
	if f.Type != e.typ || f.Location.Address != kv["address"] ||
		f.User != kv["user"] || f.UserRef != kv["userref"] ||
		f.Policy != kv["policy"] || f.PolicyRef != kv["policyref"] {
		return false
	}
	if n, ok := kv["note"]; ok && f.Note != n {
		return false
	}
	wantKind := "managed"
	if strings.Contains(e.typ, "user_polic") && !strings.Contains(e.typ, "attachment") {
		wantKind = "inline"
	}
	if f.Kind != wantKind {
		return false
	}
	reason, suppressed := kv["suppressed"]
	if (f.Suppression != nil) != suppressed {
		return false
	}
	if suppressed && (f.Suppression.Reason != reason || f.Suppression.Expires != kv["exp"] || f.Suppression.Rule != RuleID || f.Suppression.Line <= 0) {
		return false
	}
	return f.User != "" || f.UserRef != ""
}

func describe(f iac.Finding) string {
	s := fmt.Sprintf("%s:%d:%d %s address=%s user=%q userref=%q policy=%q policyref=%q kind=%s note=%q",
		f.Location.File, f.Location.Line, f.Location.Column, f.Type, f.Location.Address, f.User, f.UserRef, f.Policy, f.PolicyRef, f.Kind, f.Note)
	if f.Suppression != nil {
		s += fmt.Sprintf(" suppressed=%q exp=%q", f.Suppression.Reason, f.Suppression.Expires)
	}
	return s
}

// checkScan compares a scan with the expectations.
func checkScan(t *testing.T, scan *iac.Scan, exps []expect) {
	t.Helper()
	usedF := make([]bool, len(scan.Findings))
	usedU := make([]bool, len(scan.Users))
	usedE := make([]bool, len(scan.Errors))
	for _, e := range exps {
		found := false
		switch e.kind {
		case "finding":
			for i, f := range scan.Findings {
				if !usedF[i] && f.Location.File == e.file && f.Location.Line == e.line && f.Location.Column > 0 && findingMatches(f, e) {
					usedF[i], found = true, true
					break
				}
			}
		case "user":
			for i, u := range scan.Users {
				if !usedU[i] && u.Location.File == e.file && u.Location.Line == e.line && u.Location.Column > 0 &&
					u.Location.Address == e.kv["address"] && u.Name == e.kv["name"] {
					usedU[i], found = true, true
					break
				}
			}
		case "error":
			for i, fe := range scan.Errors {
				if !usedE[i] && fe.File == e.file && fe.Line == e.line && fe.Column > 0 && fe.Msg != "" {
					usedE[i], found = true, true
				}
			}
		}
		if !found {
			t.Errorf("missing: %s (line %d)", e.src, e.line)
		}
	}
	for i, f := range scan.Findings {
		if !usedF[i] {
			t.Errorf("unexpected finding: %s", describe(f))
		}
	}
	for i, u := range scan.Users {
		if !usedU[i] {
			t.Errorf("unexpected user: %+v", u)
		}
	}
	for i, fe := range scan.Errors {
		if !usedE[i] {
			t.Errorf("unexpected error: %+v", fe)
		}
	}
}

func TestFixtures(t *testing.T) {
	scan, err := ScanDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	exps := collectExpectations(t, "testdata")
	if len(exps) < 40 {
		t.Fatalf("only %d expectations: fixtures not read?", len(exps))
	}
	checkScan(t, scan, exps)
	// 9 files in config (7 .tf, 1 module .tf, 1 .tf.json), broken.tf and
	// plan.json; policy.json and schema.json are not Terraform.
	if scan.Files != 11 {
		t.Errorf("Files = %d, want 11", scan.Files)
	}
}

// Each fixture scanned alone: no module prefix, references resolve within
// the file. The expectations that do not depend on other files hold.
func TestScanFileAlone(t *testing.T) {
	for _, name := range []string{"testdata/config/suppress.tf", "testdata/config/json_users.tf.json", "testdata/plan/plan.json", "testdata/broken/broken.tf"} {
		t.Run(filepath.Base(name), func(t *testing.T) {
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			scan, err := ScanFile(name, src)
			if err != nil {
				t.Fatal(err)
			}
			var exps []expect
			switch kindOf(name) {
			case kindHCL:
				exps = hclExpectations(t, name, src)
			case kindHCLJSON:
				exps = jsonExpectations(t, name, src)
			default:
				exps = planExpectations(t, name, src)
			}
			checkScan(t, scan, exps)
			if scan.Files != 1 {
				t.Errorf("Files = %d", scan.Files)
			}
		})
	}
}

func TestScanFileModuleAlone(t *testing.T) {
	name := "testdata/config/modules/iam/main.tf"
	src, _ := os.ReadFile(name)
	scan, err := ScanFile(name, src)
	if err != nil {
		t.Fatal(err)
	}
	if len(scan.Findings) != 2 {
		t.Fatalf("findings = %d, want 2 (one instance, no prefix)", len(scan.Findings))
	}
	f := scan.Findings[0]
	if f.Location.Address != "aws_iam_user_policy_attachment.deployer" || f.User != "deployer" || f.Location.Line != 16 || f.Location.Column != 1 {
		t.Errorf("got %s", describe(f))
	}
}

func TestScanFileKinds(t *testing.T) {
	if _, err := ScanFile("main.tf.bak", []byte("x")); !errors.Is(err, ErrUnsupported) {
		t.Errorf("unsupported extension: err = %v", err)
	}
	// Not Terraform: an empty scan, Files == 0, so the CLI tries
	// CloudFormation.
	for _, src := range []string{`{"Version":"2012-10-17"}`, `{"format_version":"1.0","provider_schemas":{}}`, `[1]`, `{"AWSTemplateFormatVersion":`} {
		scan, err := ScanFile("x.json", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if scan.Files != 0 || len(scan.Errors) != 0 || len(scan.Findings) != 0 {
			t.Errorf("%s: %+v, want an empty scan", src, scan)
		}
	}
	// A plan that does not parse: an error with a line.
	for _, src := range []string{`{"format_version":"1.0","resource_changes":[]} trailing`, `{"format_version":"1.0","resource_changes":{}}`} {
		scan, _ := ScanFile("x.json", []byte(src))
		if scan.Files != 1 || len(scan.Errors) != 1 || scan.Errors[0].Line == 0 {
			t.Errorf("%s: errors = %+v, want one with a line", src, scan.Errors)
		}
	}
	scan, _ := ScanFile("x.json", []byte(`{"format_version":"1.2","resource_changes":[]}`))
	if len(scan.Errors) != 0 || len(scan.Findings) != 0 {
		t.Errorf("empty plan: %+v", scan)
	}
	// Truncated plan: an error with the position of the problem.
	scan, _ = ScanFile("x.json", []byte("{\"format_version\":\"1.2\",\n\"resource_changes\":[{\"address\":"))
	if len(scan.Errors) != 1 || scan.Errors[0].Line != 2 {
		t.Errorf("truncated plan: %+v", scan.Errors)
	}
}

func TestScanDirErrors(t *testing.T) {
	if _, err := ScanDir(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing root: no error")
	}
	// Hidden directories and .terraform are skipped.
	dir := t.TempDir()
	for _, p := range []string{".terraform/modules/m/main.tf", ".git/x.tf", "ok/main.tf"} {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		os.WriteFile(full, []byte("resource \"aws_iam_user_policy_attachment\" \"a\" {\n  user = \"u\"\n  policy_arn = \"arn:aws:iam::aws:policy/ReadOnlyAccess\"\n}\n"), 0o644)
	}
	scan, err := ScanDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if scan.Files != 1 || len(scan.Findings) != 1 || scan.Findings[0].Location.File != filepath.Join(dir, "ok/main.tf") {
		t.Errorf("got files=%d findings=%+v", scan.Files, scan.Findings)
	}
	// A file root is scanned as a file.
	scan, err = ScanDir(filepath.Join(dir, "ok/main.tf"))
	if err != nil || len(scan.Findings) != 1 {
		t.Errorf("file root: %v %+v", err, scan)
	}
}

func TestModuleCycle(t *testing.T) {
	dir := t.TempDir()
	write := func(p, s string) {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), []byte(s), 0o644)
	}
	write("a/main.tf", `module "b" { source = "../b" }`)
	write("b/main.tf", `module "a" { source = "../a" }
resource "aws_iam_user_policy" "p" {
  name = "p"
  user = "u"
  policy = "{}"
}`)
	scan, err := ScanDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(scan.Findings) != 1 || scan.Findings[0].Location.Address != "aws_iam_user_policy.p" {
		for _, f := range scan.Findings {
			t.Log(describe(f))
		}
		t.Errorf("cycle: %d findings", len(scan.Findings))
	}
}

func TestParseDirective(t *testing.T) {
	for _, c := range []struct {
		in           string
		reason, exp  string
		isSuppressed bool
	}{
		{"# iamgroups:ignore IAM-071 because", "because", "", true},
		{"// iamgroups:ignore IAM-071 two words exp:2025-02-28", "two words", "2025-02-28", true},
		{"/* iamgroups:ignore IAM-071 exp:2025-02-28 reason after */", "reason after", "2025-02-28", true},
		{"# iamgroups:ignore IAM-001,IAM-071 both", "both", "", true},
		{"# iamgroups:ignore iam-071 lower case", "lower case", "", true},
		{"# iamgroups:ignore IAM-071", "", "", false},
		{"# iamgroups:ignore IAM-071 exp:2025-02-28", "", "", false},
		{"# iamgroups:ignore IAM-071 x exp:2025-02-30", "", "", false},
		{"# iamgroups:ignore", "", "", false},
		{"# iamgroups:ignoreIAM-071 x", "", "", false},
		{"# iamgroups:ignore IAM-0711 x", "", "", false},
	} {
		s := parseDirective(c.in, 3)
		if (s != nil) != c.isSuppressed || s != nil && (s.Reason != c.reason || s.Expires != c.exp || s.Line != 3 || s.Rule != RuleID) {
			t.Errorf("%q: got %+v", c.in, s)
		}
	}
}
