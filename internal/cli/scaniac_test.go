package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestScanIaC(t *testing.T) {
	root := filepath.Join("testdata", "iac")
	out, errOut, code := run(t, "scan-iac", root, "--format", "json")
	if code != ExitFail {
		t.Fatalf("exit %d, want 1; stderr %s", code, errOut)
	}
	got := statuses(decodeAudit(t, out))
	want := map[string]string{
		"alice":       "FAIL",   // managed attachment through a reference to aws_iam_user.alice
		"bob":         "PASS",   // groups only
		"break-glass": "EXEMPT", // suppressed in the source, not expired
		"carol":       "PASS",   // groups only
		"dave":        "FAIL",   // ManagedPolicyArns and a UserPolicy through !Ref
	}
	for user, st := range want {
		if got[user] != st {
			t.Errorf("%s: %s, want %s", user, got[user], st)
		}
	}
	// The module's user is decided by a variable: still a finding.
	var sawVariable bool
	for user, st := range got {
		if strings.Contains(user, "var.deployer") && st == "FAIL" {
			sawVariable = true
		}
	}
	if !sawVariable {
		t.Errorf("no finding for the user decided by var.deployer: %v", got)
	}
	// Locations and addresses reach the JSON.
	var rep struct {
		Results []struct {
			UserName         string `json:"user_name"`
			AttachedPolicies []struct {
				Location struct {
					File    string `json:"file"`
					Line    int    `json:"line"`
					Address string `json:"address"`
				} `json:"location"`
			} `json:"attached_policies"`
		} `json:"results"`
	}
	json.Unmarshal([]byte(out), &rep)
	for _, r := range rep.Results {
		if r.UserName == "alice" {
			l := r.AttachedPolicies[0].Location
			if !strings.HasSuffix(l.File, "main.tf") || l.Line != 14 || l.Address != "aws_iam_user_policy_attachment.alice_ro" {
				t.Errorf("alice's attachment located at %+v, want main.tf:14 aws_iam_user_policy_attachment.alice_ro", l)
			}
		}
	}
}

func TestScanIaCBrokenFileIsError(t *testing.T) {
	out, _, code := run(t, "scan-iac", filepath.Join("testdata", "iac-broken"), "--format", "json")
	a := decodeAudit(t, out)
	if code != ExitPartial || a.Summary.Error != 1 {
		t.Errorf("exit %d, summary %+v: want 3 and one ERROR for the broken template", code, a.Summary)
	}
	if _, errOut, code := run(t, "scan-iac", filepath.Join("testdata", "no-such-dir")); code != ExitUsage || !strings.Contains(errOut, "no-such-dir") {
		t.Errorf("missing path: exit %d %q", code, errOut)
	}
}

func TestScanIaCSARIF(t *testing.T) {
	out, _, code := run(t, "scan-iac", filepath.Join("testdata", "iac"), "--format", "sarif")
	if code != ExitFail || !json.Valid([]byte(out)) || !strings.Contains(out, `"version": "2.1.0"`) {
		t.Errorf("exit %d, output not SARIF:\n%.300s", code, out)
	}
	if !strings.Contains(out, "module.ci.aws_iam_user_policy.deploy") {
		t.Error("the module resource's address lacks its module path")
	}
}
