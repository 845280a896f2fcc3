package cli

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamgroups/iamgroups/internal/apply"
	"github.com/iamgroups/iamgroups/internal/mototest"
	"github.com/iamgroups/iamgroups/internal/plan"
)

// writeOps are the IAM operations that change an account.
var writeOps = []string{"CreatePolicy", "CreateGroup", "AttachGroupPolicy", "AddUserToGroup", "DetachUserPolicy",
	"DeleteUserPolicy", "AttachUserPolicy", "PutUserPolicy", "RemoveUserFromGroup", "DetachGroupPolicy", "DeleteGroup", "DeletePolicy"}

func writes(p *mototest.Proxy) int {
	n := 0
	calls := p.Calls()
	for _, op := range writeOps {
		n += calls[op]
	}
	return n
}

// demoApply seeds the demo into moto behind a proxy, plans it live with
// --out, and returns the proxy, the plan file and the flags that reach the
// demo account.
func demoApply(t *testing.T) (*mototest.Proxy, string, []string) {
	t.Helper()
	srv := mototest.Require(t)
	demoInMoto(t, srv.URL)
	p := mototest.NewProxy(t, srv)
	live := []string{"--endpoint-url", p.URL, "--role-arn", "arn:aws:iam::" + demoAccountID + ":role/admin"}
	planFile := filepath.Join(t.TempDir(), "plan.json")
	_, errOut, code := run(t, append([]string{"plan", "--config", "../demo/exemptions.yaml", "--out", planFile, "--format", "json"}, live...)...)
	if code != 0 {
		t.Fatalf("plan: exit %d: %s", code, errOut)
	}
	p.ResetCounts()
	return p, planFile, live
}

func readPlan(t *testing.T, path string) *plan.Plan {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := plan.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	return pl
}

// TestApplyDemoCLI applies the live demo plan and rolls it back through
// the commands, as a user would.
func TestApplyDemoCLI(t *testing.T) {
	p, planFile, live := demoApply(t)
	journal := t.TempDir()
	out, errOut, code := run(t, append([]string{"apply", planFile, "--yes", "--settle", "0", "--max-rate", "0", "--journal", journal}, live...)...)
	if code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	m := regexp.MustCompile(`Apply complete\. Run directory: (\S+)`).FindStringSubmatch(out)
	if m == nil || filepath.Dir(m[1]) != journal {
		t.Fatalf("apply did not name its run directory under %s:\n%s", journal, out)
	}
	for _, want := range []string{"Backed up 14 user(s)", "Verified 14 user(s) before removing direct policies", "API calls: ", "3 GetAccountAuthorizationDetails"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("apply's progress lacks %q:\n%s", want, errOut)
		}
	}
	if got, want := writes(p), len(readPlan(t, planFile).Actions); got != want {
		t.Errorf("%d writes, the plan has %d actions", got, want)
	}
	// The demo is now clean but for its exemptions and the user the
	// plan leaves alone.
	audit, _, _ := run(t, append([]string{"audit", "--config", "../demo/exemptions.yaml", "--format", "json"}, live...)...)
	if a := decodeAudit(t, audit); a.Summary.Fail != 0 {
		t.Errorf("%d users still fail after apply", a.Summary.Fail)
	}

	_, errOut, code = run(t, append([]string{"rollback", m[1], "--yes", "--settle", "0", "--max-rate", "0"}, live...)...)
	if code != 0 {
		t.Fatalf("rollback: exit %d\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "Rolled back: 14 user(s) are as the backup says.") {
		t.Errorf("rollback's progress:\n%s", errOut)
	}
	audit, _, _ = run(t, append([]string{"audit", "--config", "../demo/exemptions.yaml", "--format", "json"}, live...)...)
	if a := decodeAudit(t, audit); a.Summary.Fail < 10 {
		t.Errorf("only %d users fail after rollback", a.Summary.Fail)
	}
	// A rolled-back run cannot be resumed.
	_, errOut, code = run(t, append([]string{"apply", "--resume", m[1], "--yes"}, live...)...)
	if code != ExitUsage || !strings.Contains(errOut, "was rolled back") {
		t.Errorf("resume after rollback: exit %d: %s", code, errOut)
	}
}

// TestApplyDryRunCLI lists every call and makes none.
func TestApplyDryRunCLI(t *testing.T) {
	p, planFile, live := demoApply(t)
	out, errOut, code := run(t, append([]string{"apply", planFile, "--dry-run"}, live...)...)
	if code != 0 {
		t.Fatalf("dry run: exit %d: %s", code, errOut)
	}
	pl := readPlan(t, planFile)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(pl.Actions) {
		t.Fatalf("the dry run listed %d calls, the plan has %d actions", len(lines), len(pl.Actions))
	}
	for i, a := range pl.Actions {
		prefix := "aws iam " + a.Op + " "
		if !strings.HasPrefix(lines[i], prefix) {
			t.Errorf("call %d is %q, want %s…", i+1, lines[i], prefix)
		}
		for _, v := range []string{a.User, a.Group, a.PolicyName} {
			if v != "" && !strings.Contains(lines[i], v) {
				t.Errorf("call %d %q does not name %s", i+1, lines[i], v)
			}
		}
	}
	if n := writes(p); n != 0 {
		t.Errorf("the dry run made %d writes", n)
	}
	if !strings.Contains(errOut, "Dry run: ") {
		t.Errorf("no dry-run summary: %s", errOut)
	}
}

// TestApplyRefusalsCLI: a stale plan and a held lock exit 4 before any
// write; no terminal and no --yes is refused before anything is read.
func TestApplyRefusalsCLI(t *testing.T) {
	p, planFile, live := demoApply(t)
	journal := t.TempDir()
	args := append([]string{"apply", planFile, "--settle", "0", "--journal", journal}, live...)

	_, errOut, code := run(t, args...)
	if code != ExitUsage || !strings.Contains(errOut, "no terminal to confirm on") {
		t.Errorf("without --yes and a terminal: exit %d: %s", code, errOut)
	}
	if n := len(p.Calls()); n != 0 {
		t.Errorf("%d calls before the refusal", n)
	}

	lock, err := apply.LockAccount(journal, demoAccountID, "iamgroups apply (another terminal)")
	if err != nil {
		t.Fatal(err)
	}
	_, errOut, code = run(t, append(args, "--yes")...)
	lock.Release()
	if code != ExitRefused || !strings.Contains(errOut, "holds the lock") || !strings.Contains(errOut, "another terminal") {
		t.Errorf("under a held lock: exit %d: %s", code, errOut)
	}

	user := readPlan(t, planFile).Users[0].Name
	cfg, _, err := mototest.InAccount(context.Background(), p.URL, demoAccountID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iam.NewFromConfig(cfg).AttachUserPolicy(context.Background(), &iam.AttachUserPolicyInput{UserName: aws.String(user),
		PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}); err != nil {
		t.Fatal(err)
	}
	p.ResetCounts()
	_, errOut, code = run(t, append(args, "--yes")...)
	want := "user " + user + ": managed policy arn:aws:iam::aws:policy/ReadOnlyAccess added since planning"
	if code != ExitRefused || !strings.Contains(errOut, want) {
		t.Errorf("stale plan: exit %d, want %d and %q:\n%s", code, ExitRefused, want, errOut)
	}
	if n := writes(p); n != 0 {
		t.Errorf("%d writes despite the refusals", n)
	}
	if entries, _ := os.ReadDir(journal); len(entries) > 1 {
		t.Errorf("a refused run left files in the journal: %v", entries)
	}
}

// TestApplyBadInput names the file or flag at fault.
func TestApplyBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"schema":"iamgroups.plan/v1","surprise":1}`), 0o600)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"apply"}, "apply needs the plan file"},
		{[]string{"apply", filepath.Join(dir, "missing.json"), "--yes"}, "read plan: open "},
		{[]string{"apply", bad, "--yes"}, `bad.json: decode plan: json: unknown field "surprise"`},
		{[]string{"apply", bad, "--concurrency", "0"}, "--concurrency: 0 is out of range"},
		{[]string{"apply", "--resume", dir, "x.json"}, "drop x.json"},
		{[]string{"apply", "--resume", dir, "--yes", "--endpoint-url", "http://127.0.0.1:1"}, "is not a run directory of iamgroups apply"},
		{[]string{"rollback", dir, "--yes", "--endpoint-url", "http://127.0.0.1:1"}, "is not a run directory of iamgroups apply"},
	} {
		_, errOut, code := run(t, c.args...)
		if code != ExitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, want 2 and %q:\n%s", c.args, code, c.want, errOut)
		}
	}
}
