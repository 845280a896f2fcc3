package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// run executes the CLI with args and returns stdout, stderr and the exit code.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := Execute(context.Background(), args, strings.NewReader(""), &out, &errOut)
	if err != nil {
		errOut.WriteString(err.Error())
	}
	return out.String(), errOut.String(), ExitCode(err)
}

type auditJSON struct {
	Schema  string `json:"schema"`
	Partial bool   `json:"partial"`
	Summary struct {
		Users, Pass, Fail, Exempt, Error int
	} `json:"summary"`
	Results []struct {
		Status    string `json:"status"`
		UserName  string `json:"user_name"`
		AccountID string `json:"account_id"`
	} `json:"results"`
}

func decodeAudit(t *testing.T, s string) auditJSON {
	t.Helper()
	var a auditJSON
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, s)
	}
	return a
}

func statuses(a auditJSON) map[string]string {
	m := map[string]string{}
	for _, r := range a.Results {
		m[r.UserName] = r.Status
	}
	return m
}

func TestDemoShowsEveryStatusAndExitsZero(t *testing.T) {
	out, errOut, code := run(t, "audit", "--demo", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d, want 0 (--demo implies --fail-on none); stderr %s", code, errOut)
	}
	a := decodeAudit(t, out)
	if a.Schema != "iamgroups.audit/v1" || a.Summary.Pass == 0 || a.Summary.Fail == 0 || a.Summary.Exempt == 0 || a.Summary.Error == 0 {
		t.Errorf("summary %+v: the demo must show every status", a.Summary)
	}
	s := statuses(a)
	for user, want := range map[string]string{
		"break-glass-admin": "EXEMPT", // by name
		"kestrel-auditor":   "EXEMPT", // by tag
		"emma.johansson":    "EXEMPT", // by policy, her only direct policy
		"fatima.zahra":      "FAIL",   // the policy exemption covers one of her five
		"ci-deployer":       "FAIL",   // expired exemption
		"chloe.martin":      "PASS",   // boundary only
		"julia.novak":       "FAIL",   // boundary and direct policies
		"diego.ramirez":     "FAIL",   // in a group and direct policies
		"vendor-sync":       "ERROR",
	} {
		if s[user] != want {
			t.Errorf("%s: %s, want %s", user, s[user], want)
		}
	}
}

func TestDemoTableFooter(t *testing.T) {
	out, _, code := run(t, "audit", "--demo")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || !strings.Contains(lines[len(lines)-1], "--fail-on none") {
		t.Errorf("exit %d, last line %q: want 0 and a line explaining --fail-on none", code, lines[len(lines)-1])
	}
}

func TestDemoFailOnFail(t *testing.T) {
	_, _, code := run(t, "audit", "--demo", "--fail-on", "fail", "--format", "csv")
	if code != ExitPartial {
		t.Errorf("exit %d, want %d: the demo has an ERROR user, which outranks FAIL", code, ExitPartial)
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const oneFailing = `{"UserDetailList": [
  {"UserName": "a", "Arn": "arn:aws:iam::210987654321:user/a", "AttachedManagedPolicies": [{"PolicyName": "ReadOnlyAccess", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]},
  {"UserName": "b", "Arn": "arn:aws:iam::210987654321:user/b", "GroupList": ["g"]}]}`

func TestSnapshotExitCodes(t *testing.T) {
	dir := t.TempDir()
	failing := writeFile(t, dir, "fail.json", oneFailing)
	passing := writeFile(t, dir, "pass.json", `{"UserDetailList": [{"UserName": "b", "Arn": "arn:aws:iam::333344445555:user/b"}]}`)
	truncated := writeFile(t, dir, "trunc.json", `{"UserDetailList": [{"UserName": "b", "Arn": "arn:aws:iam::444455556666:user/b"}], "IsTruncated": true, "Marker": "m"}`)

	if _, _, code := run(t, "audit", "--snapshot", passing); code != 0 {
		t.Errorf("passing snapshot: exit %d, want 0", code)
	}
	if _, _, code := run(t, "audit", "--snapshot", failing); code != 1 {
		t.Errorf("failing snapshot: exit %d, want 1", code)
	}
	if _, _, code := run(t, "audit", "--snapshot", failing, "--fail-on", "none"); code != 0 {
		t.Errorf("--fail-on none: exit %d, want 0", code)
	}
	out, _, code := run(t, "audit", "--snapshot", truncated, "--format", "json")
	if code != ExitPartial || !decodeAudit(t, out).Partial {
		t.Errorf("truncated snapshot: exit %d, want 3 and partial output", code)
	}
	out, _, code = run(t, "audit", "--snapshot", failing, "--snapshot", passing, "--format", "json")
	a := decodeAudit(t, out)
	if code != 1 || a.Summary.Users != 3 || a.Results[0].AccountID != "210987654321" || a.Results[2].AccountID != "333344445555" {
		t.Errorf("two snapshots: exit %d, %+v", code, a)
	}
	if _, errOut, code := run(t, "audit", "--snapshot", failing, "--snapshot", failing); code != 2 || !strings.Contains(errOut, "is in both") {
		t.Errorf("same account twice: exit %d, %s", code, errOut)
	}
}

func TestBadInputExitsTwoWithoutOutputFile(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.json", oneFailing)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing file", []string{"--snapshot", filepath.Join(dir, "missing.json")}, "missing.json: cannot read snapshot: no such file or directory"},
		{"empty file", []string{"--snapshot", writeFile(t, dir, "empty.json", "")}, "empty.json: file is empty"},
		{"invalid JSON", []string{"--snapshot", writeFile(t, dir, "broken.json", "{\n \"UserDetailList\": [\n  {,\n")}, "broken.json:3:4: UserDetailList[0]: invalid JSON"},
		{"not GAAD", []string{"--snapshot", writeFile(t, dir, "other.json", `{"Roles": []}`)}, "is not a get-account-authorization-details output"},
		{"unknown format", []string{"--snapshot", good, "--format", "xml"}, `--format: unknown format "xml"`},
		{"bad fail-on", []string{"--snapshot", good, "--fail-on", "warn"}, `--fail-on: "warn" is not a choice`},
		{"malformed config", []string{"--snapshot", good, "--config", writeFile(t, dir, "bad.yaml", "exemptions:\n  - users: [a]\n    reson: typo\n")}, "bad.yaml:3"},
		{"missing config", []string{"--snapshot", good, "--config", filepath.Join(dir, "none.yaml")}, "none.yaml"},
		{"live flag offline", []string{"--demo", "--profile", "prod"}, "--profile: only for live audits"},
		{"demo and snapshot", []string{"--demo", "--snapshot", good}, "--help"},
		{"unknown flag", []string{"--snapshots", good}, "unknown flag: --snapshots"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outFile := filepath.Join(dir, "report-"+strings.ReplaceAll(tt.name, " ", "-"))
			args := append([]string{"audit", "--output", outFile}, tt.args...)
			_, errOut, code := run(t, args...)
			if code != ExitUsage {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", errOut, tt.want)
			}
			// One line per problem: a config may list several, each
			// naming the file.
			for _, line := range strings.Split(strings.TrimSpace(errOut), "\n")[1:] {
				if !strings.Contains(line, "bad.yaml:") {
					t.Errorf("want one line per problem, got %q", errOut)
				}
			}
			if _, err := os.Stat(outFile); err == nil {
				t.Error("an output file was written despite the error")
			}
		})
	}
}

func TestOutputFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "audit.csv")
	stdout, _, code := run(t, "audit", "--demo", "--format", "csv", "--output", out)
	if code != 0 || stdout != "" {
		t.Errorf("exit %d, stdout %q: want 0 and nothing on stdout", code, stdout)
	}
	b, err := os.ReadFile(out)
	if err != nil || !strings.HasPrefix(string(b), "rule_id,status") {
		t.Errorf("output file: %v %q", err, b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func TestDefaultConfigIsRead(t *testing.T) {
	dir := t.TempDir()
	snap := writeFile(t, dir, "s.json", oneFailing)
	writeFile(t, dir, ".iamgroups.yaml", "exemptions:\n  - users: [a]\n    reason: test account\n")
	t.Chdir(dir)
	out, _, code := run(t, "audit", "--snapshot", snap, "--format", "json")
	if code != 0 || statuses(decodeAudit(t, out))["a"] != "EXEMPT" {
		t.Errorf("exit %d, want 0 with user a EXEMPT through .iamgroups.yaml", code)
	}
}

func TestExplain(t *testing.T) {
	out, _, code := run(t, "explain", "iam-071")
	for _, want := range []string{"IAM-071", "Why it matters", "How to check by hand", "list-attached-user-policies", "How to fix", "CIS AWS Foundations v5.0", "1.14", "IAM.2", "CKV_AWS_40"} {
		if !strings.Contains(out, want) {
			t.Errorf("explain output lacks %q", want)
		}
	}
	if code != 0 {
		t.Errorf("exit %d", code)
	}
	if out, _, _ := run(t, "explain"); !strings.Contains(out, "IAM-071") {
		t.Errorf("explain without a rule should list the rules: %q", out)
	}
	if _, errOut, code := run(t, "explain", "IAM-1"); code != 2 || !strings.Contains(errOut, "unknown rule") {
		t.Errorf("unknown rule: exit %d %q", code, errOut)
	}
}

func TestVersion(t *testing.T) {
	out, _, code := run(t, "version")
	if code != 0 || !strings.HasPrefix(out, "iamgroups ") {
		t.Errorf("version: %d %q", code, out)
	}
}

func TestDemoIsTheSameWheneverItRuns(t *testing.T) {
	later := auditOptions{Demo: true, Format: "json", FailOn: "none", now: func() time.Time { return time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC) }}
	var out, errOut bytes.Buffer
	if err := runAudit(context.Background(), later, streams{out: &out, err: &errOut}); err != nil {
		t.Fatal(err)
	}
	now, _, _ := run(t, "audit", "--demo", "--format", "json")
	if got, want := statuses(decodeAudit(t, out.String())), statuses(decodeAudit(t, now)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("in 2031 the demo shows %v\nnow it shows %v", got, want)
	}
}

func TestOutputSafety(t *testing.T) {
	dir := t.TempDir()
	snap := writeFile(t, dir, "s.json", oneFailing)
	if _, errOut, code := run(t, "audit", "--snapshot", snap, "--output", snap); code != 2 || !strings.Contains(errOut, "also a --snapshot input") {
		t.Errorf("output over input: exit %d %q", code, errOut)
	}
	if b, _ := os.ReadFile(snap); string(b) != oneFailing {
		t.Error("the snapshot was overwritten")
	}
	if _, errOut, code := run(t, "audit", "--snapshot", snap, "--output", ""); code != 2 || !strings.Contains(errOut, "--output: empty") {
		t.Errorf("empty output: exit %d %q", code, errOut)
	}
	if _, errOut, code := run(t, "audit", "--snapshot", snap, "--output", filepath.Join(dir, "no", "r.json")); code != 2 || !strings.Contains(errOut, "does not exist") {
		t.Errorf("missing directory: exit %d %q", code, errOut)
	}
}

func TestCSVWarningsGoToStderr(t *testing.T) {
	dir := t.TempDir()
	trunc := writeFile(t, dir, "t.json", `{"UserDetailList": [{"UserName": "b", "Arn": "arn:aws:iam::444455556666:user/b"}], "IsTruncated": true, "Marker": "m"}`)
	out, errOut, code := run(t, "audit", "--snapshot", trunc, "--format", "csv", "--fail-on", "none")
	if code != 0 || !strings.Contains(errOut, "warning:") || !strings.Contains(errOut, "incomplete") || strings.Contains(out, "warning") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
