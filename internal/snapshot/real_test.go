package snapshot

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/rule"
	"github.com/iamgroups/iamgroups/internal/shareddata"
)

func statusByUser(t *testing.T, accounts []*model.Account) map[string]rule.Status {
	t.Helper()
	got := map[string]rule.Status{}
	for _, a := range accounts {
		for _, r := range rule.IAM071.Check(a) {
			got[r.UserName] = r.Status
		}
	}
	return got
}

func TestRealGAADOutputs(t *testing.T) {
	tests := []struct {
		file        string
		want        map[string]rule.Status
		wantPartial bool
	}{
		{"gaad/aws-cli-docs-example.json", map[string]rule.Status{"Alice": rule.Pass, "Bob": rule.Fail, "Charlie": rule.Pass}, true},
		{"gaad/cloudsplaining-example-authz-details.json", map[string]rule.Status{
			"obama": rule.Fail, "biden": rule.Fail, "userwithlotsofpermissions": rule.Fail}, false},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			for _, full := range []bool{false, true} {
				accounts, err := ReadFile(shareddata.Path(t, tt.file), Options{Full: full})
				if err != nil {
					t.Fatal(err)
				}
				got := statusByUser(t, accounts)
				if !maps(got, tt.want) {
					t.Errorf("full=%v: statuses = %v, want %v", full, got, tt.want)
				}
				if len(accounts) != 1 {
					t.Fatalf("full=%v: got %d accounts, want 1", full, len(accounts))
				}
				if accounts[0].Partial != tt.wantPartial {
					t.Errorf("full=%v: partial=%v, want %v", full, accounts[0].Partial, tt.wantPartial)
				}
			}
		})
	}
}

func maps(a, b map[string]rule.Status) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestBobEvidence(t *testing.T) {
	accounts, err := ReadFile(shareddata.Path(t, "gaad/aws-cli-docs-example.json"), Options{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	a := accounts[0]
	if a.ID != "123456789012" {
		t.Errorf("account = %q, want 123456789012 (derived from ARNs)", a.ID)
	}
	var bob *model.User
	for i := range a.Users {
		if a.Users[i].Name == "Bob" {
			bob = a.Users[i]
		}
	}
	if bob == nil {
		t.Fatal("Bob not decoded")
	}
	if !slices.Equal(bob.Groups, []string{"Admins"}) || len(bob.InlinePolicies) != 1 || len(bob.AttachedPolicies) != 0 {
		t.Errorf("Bob = %+v", bob)
	}
	if len(a.Groups) == 0 || len(a.Policies) == 0 {
		t.Errorf("full decode lost groups (%d) or policies (%d)", len(a.Groups), len(a.Policies))
	}
}
