package plan

import (
	"slices"
	"strings"
	"testing"

	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/policydoc"
	"github.com/iamgroups/iamgroups/internal/rule"
)

// checkInvariants applies the plan to a copy of the account, as IAM
// would, and checks DESIGN's invariants for every planned user.
func checkInvariants(t *testing.T, acct *model.Account, results []rule.Result, p *Plan) {
	if err := p.Validate(); err != nil {
		t.Errorf("the plan does not validate: %v", err)
	}
	t.Helper()
	q := p.Quotas
	// Permission sources: managed ARNs; inline documents by digest. A
	// new policy made from an inline document stands for that document.
	newDoc := map[string]string{}
	for _, pol := range p.Policies {
		newDoc[pol.ARN] = "inline " + pol.Digest
		if pol.Path != "/iamgroups/" || len(pol.Name) > 128 || pol.Digest == "" {
			t.Errorf("policy %+v", pol)
		}
	}
	source := func(arn string) string {
		if d, ok := newDoc[arn]; ok {
			return d
		}
		return "managed " + arn
	}
	groupAtoms := map[string][]string{}
	for _, g := range acct.Groups {
		for _, pol := range g.AttachedPolicies {
			groupAtoms[g.Name] = append(groupAtoms[g.Name], source(pol.ARN))
		}
		for _, pol := range g.InlinePolicies {
			groupAtoms[g.Name] = append(groupAtoms[g.Name], "inline "+pol.Digest)
		}
	}
	existing := map[string]bool{}
	for name := range groupAtoms {
		existing[name] = true
	}
	for _, g := range acct.Groups {
		existing[g.Name] = true
	}
	taken := map[string]bool{}
	for _, g := range acct.Groups {
		taken["group "+strings.ToLower(g.Name)] = true
	}
	for _, pol := range acct.Policies {
		taken["policy "+strings.ToLower(pol.Name)] = true
	}
	for _, pol := range p.Policies {
		if taken["policy "+strings.ToLower(pol.Name)] {
			t.Errorf("new policy %s clashes with a policy of the account or the plan (names ignore case)", pol.Name)
		}
		taken["policy "+strings.ToLower(pol.Name)] = true
		if size := policydoc.Size(pol.Document); size > q.PolicySize {
			t.Errorf("policy %s is %d characters; quota %d", pol.Name, size, q.PolicySize)
		}
	}
	if len(p.Policies) > 0 && len(acct.Policies)+len(p.Policies) > q.PoliciesPerAccount {
		t.Errorf("%d customer managed policies after the plan; quota %d", len(acct.Policies)+len(p.Policies), q.PoliciesPerAccount)
	}
	newGroups := map[string]Group{}
	for _, g := range p.Groups {
		if taken["group "+strings.ToLower(g.Name)] {
			t.Errorf("new group %s clashes with a group of the account or the plan (names ignore case)", g.Name)
		}
		taken["group "+strings.ToLower(g.Name)] = true
		if len(g.Policies) > q.PoliciesPerGroup || len(g.Policies) == 0 {
			t.Errorf("group %s has %d policies (quota %d)", g.Name, len(g.Policies), q.PoliciesPerGroup)
		}
		newGroups[g.Name] = g
		for _, arn := range g.Policies {
			groupAtoms[g.Name] = append(groupAtoms[g.Name], source(arn))
		}
	}
	// Invariant 2: no action touches an existing group's policies.
	for _, a := range p.Actions {
		if a.Op == OpAttachGroup && existing[a.Group] {
			t.Errorf("the plan modifies existing group %s", a.Group)
		}
	}
	if len(p.Groups) > 0 && len(acct.Groups)+len(p.Groups) > q.GroupsPerAccount {
		t.Errorf("%d groups in the account after the plan; quota %d", len(acct.Groups)+len(p.Groups), q.GroupsPerAccount)
	}
	byName := map[string]*model.User{}
	for _, u := range acct.Users {
		byName[u.Name] = u
	}
	planned := map[string]bool{}
	for _, pu := range p.Users {
		planned[pu.Name] = true
		u := byName[pu.Name]
		var direct, before []string
		for _, pol := range u.AttachedPolicies {
			if !slices.Contains(pu.Keep, pol.ARN) {
				direct = append(direct, "managed "+pol.ARN)
			}
		}
		for _, pol := range u.InlinePolicies {
			if !slices.Contains(pu.Keep, pol.Name) {
				direct = append(direct, "inline "+pol.Digest)
			}
		}
		before = append(before, direct...)
		for _, g := range u.Groups {
			before = append(before, groupAtoms[g]...)
		}
		groups := slices.Concat(u.Groups, pu.Join)
		if len(pu.Join) > 0 && len(groups) > q.GroupsPerUser {
			t.Errorf("%s is in %d groups; quota %d", u.Name, len(groups), q.GroupsPerUser)
		}
		var after []string
		for _, g := range groups {
			if _, ok := groupAtoms[g]; !ok && !existing[g] {
				t.Errorf("%s joins unknown group %s", u.Name, g)
			}
			after = append(after, groupAtoms[g]...)
			if ng, ok := newGroups[g]; ok && !slices.Contains(ng.Members, u.Name) {
				t.Errorf("%s joins %s but is not listed as a member", u.Name, g)
			}
		}
		// Invariant 1: every direct source through groups, nothing new.
		for _, d := range direct {
			if !slices.Contains(after, d) {
				t.Errorf("%s loses %s", u.Name, d)
			}
		}
		for _, a := range after {
			if !slices.Contains(before, a) {
				t.Errorf("%s gains %s", u.Name, a)
			}
		}
		// No direct policy is left but the exempt ones.
		if len(pu.Detach)+len(pu.DeleteInline)+len(pu.Keep) != len(u.AttachedPolicies)+len(u.InlinePolicies) {
			t.Errorf("%s: %d detached, %d deleted, %d kept of %d direct policies", u.Name, len(pu.Detach), len(pu.DeleteInline), len(pu.Keep), u.DirectPolicyCount())
		}
	}
	// Every FAIL user is planned or listed as unplanned, never both;
	// others are untouched.
	unplanned := map[string]bool{}
	for _, u := range p.Unplanned {
		unplanned[u.Name] = true
		if u.Reason == "" {
			t.Errorf("unplanned %s without a reason", u.Name)
		}
	}
	for _, r := range results {
		switch {
		case r.Status == rule.Fail && planned[r.UserName] == unplanned[r.UserName]:
			t.Errorf("FAIL user %s: planned %v, unplanned %v", r.UserName, planned[r.UserName], unplanned[r.UserName])
		case r.Status != rule.Fail && (planned[r.UserName] || unplanned[r.UserName]):
			t.Errorf("%s user %s is in the plan", r.Status, r.UserName)
		}
	}
	// Additive actions come before subtractive ones.
	seenSub := false
	for _, a := range p.Actions {
		sub := a.Op == OpDetachUserPolicy || a.Op == OpDeleteUserPolicy
		if !sub && seenSub {
			t.Errorf("additive %s after a subtractive action", a.Op)
		}
		seenSub = seenSub || sub
	}
}
