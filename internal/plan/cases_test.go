package plan

import (
	"fmt"
	"strings"
	"testing"

	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/rule"
)

const caseAccount = "210987654321"

func managedPolicy(i int) model.AttachedPolicy {
	return model.AttachedPolicy{Name: fmt.Sprintf("M%02d", i), ARN: fmt.Sprintf("arn:aws:iam::aws:policy/M%02d", i)}
}

// TestReuseNeverCostsAUserItsPlan: a user in 8 groups that grant nothing,
// holding 12 policies directly, one of which an existing group grants.
// Joining that group would leave room for only one new group, too few for
// 11 policies; without it, two new groups fit.
func TestReuseNeverCostsAUserItsPlan(t *testing.T) {
	a := &model.Account{ID: caseAccount, Partition: "aws", GroupsKnown: true}
	u := &model.User{Name: "u", ARN: "arn:aws:iam::" + caseAccount + ":user/u"}
	for i := range 8 {
		name := fmt.Sprintf("Empty%d", i)
		a.Groups = append(a.Groups, model.Group{Name: name})
		u.Groups = append(u.Groups, name)
	}
	a.Groups = append(a.Groups, model.Group{Name: "E1", AttachedPolicies: []model.AttachedPolicy{managedPolicy(0)}})
	for i := range 12 {
		u.AttachedPolicies = append(u.AttachedPolicies, managedPolicy(i))
	}
	a.Users = []*model.User{u}
	results := rule.IAM071.Check(a)
	p, err := Make(a, results, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Users) != 1 || len(p.Unplanned) != 0 {
		t.Fatalf("planned %d, unplanned %+v: the user fits without joining E1", len(p.Users), p.Unplanned)
	}
	checkInvariants(t, a, results, p)
}

func TestPlanRefusesAnAccountWithoutItsGroups(t *testing.T) {
	a := &model.Account{ID: caseAccount, Partition: "aws"}
	if _, err := Make(a, nil, Options{}); err == nil || !strings.Contains(err.Error(), "without its groups") {
		t.Errorf("err = %v", err)
	}
	a = &model.Account{ID: "", Partition: "aws", GroupsKnown: true}
	if _, err := Make(a, nil, Options{}); err == nil || !strings.Contains(err.Error(), "not 12 digits") {
		t.Errorf("err = %v", err)
	}
	a.ID = caseAccount
	for _, prefix := range []string{"bad prefix!", strings.Repeat("x", 65)} {
		if _, err := Make(a, nil, Options{GroupPrefix: prefix}); err == nil || !strings.Contains(err.Error(), "group prefix") {
			t.Errorf("prefix %q: err = %v", prefix, err)
		}
	}
}

func TestPlanFingerprintsTheExistingGroupsItReliesOn(t *testing.T) {
	a := &model.Account{ID: caseAccount, Partition: "aws", GroupsKnown: true,
		Groups: []model.Group{
			{Name: "Holds0", AttachedPolicies: []model.AttachedPolicy{managedPolicy(0)}},
			{Name: "Grants1", AttachedPolicies: []model.AttachedPolicy{managedPolicy(1)}},
			{Name: "Unrelated", AttachedPolicies: []model.AttachedPolicy{managedPolicy(9)}},
		},
		Users: []*model.User{
			{Name: "u", ARN: "arn:aws:iam::" + caseAccount + ":user/u", Groups: []string{"Holds0"},
				AttachedPolicies: []model.AttachedPolicy{managedPolicy(0), managedPolicy(1)}},
		},
	}
	p, err := Make(a, rule.IAM071.Check(a), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range p.ExistingGroups {
		names = append(names, g.Name)
		if len(g.Digest) != 64 {
			t.Errorf("group %s digest %q", g.Name, g.Digest)
		}
	}
	if strings.Join(names, ",") != "Grants1,Holds0" {
		t.Errorf("existing groups fingerprinted: %v, want the user's group and the one it joins", names)
	}
	if len(p.Groups) != 0 || strings.Join(p.Users[0].Join, ",") != "Grants1" {
		t.Errorf("plan %+v: the user should only join Grants1 and lose its direct policies", p.Users)
	}
}
