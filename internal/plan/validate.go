package plan

import (
	"fmt"
	"slices"
	"strings"
)

// Validate checks that a plan file agrees with itself, as a plan edited by
// hand may not: the actions are exactly those its policies, groups and
// users imply, in order; each new policy's ARN is its account, path and
// name; each new group's members are the users that join it; a user joins
// only the plan's new groups and the existing groups it fingerprints; no
// kept policy is removed; names are unique ignoring case. Apply relies on
// this: it backs up, checks and verifies the planned users only, so an
// action that touched anyone or anything else would go unchecked. Stats
// are recomputed from the plan.
func (p *Plan) Validate() error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("the plan does not agree with itself: "+format+"; make it again with iamgroups plan", args...)
	}
	if len(p.AccountID) != 12 || strings.Trim(p.AccountID, "0123456789") != "" {
		return fail("account_id %q is not a 12-digit account ID", p.AccountID)
	}
	if p.Partition == "" {
		return fail("partition is empty")
	}
	names := map[string]string{}
	unique := func(kind, name string) error {
		key := kind + " " + strings.ToLower(name)
		if prev, ok := names[key]; ok {
			return fail("%s %q and %q have the same name ignoring case", kind, prev, name)
		}
		names[key] = name
		return nil
	}
	for i, pol := range p.Policies {
		if err := unique("policy", pol.Name); err != nil {
			return err
		}
		if want := "arn:" + p.Partition + ":iam::" + p.AccountID + ":policy" + pol.Path + pol.Name; pol.ARN != want {
			return fail("policies[%d] (%s) has ARN %s, its path and name give %s", i, pol.Name, pol.ARN, want)
		}
		if pol.Document == "" {
			return fail("policies[%d] (%s) has no document", i, pol.Name)
		}
	}
	newGroup := map[string]*Group{}
	for i := range p.Groups {
		g := &p.Groups[i]
		if err := unique("group", g.Name); err != nil {
			return err
		}
		if g.Path == "" {
			return fail("groups[%d] (%s) has no path", i, g.Name)
		}
		newGroup[g.Name] = g
	}
	existing := map[string]bool{}
	for _, eg := range p.ExistingGroups {
		existing[eg.Name] = true
	}
	joined := map[string][]string{}
	users := map[string]bool{}
	for i, u := range p.Users {
		if users[u.Name] {
			return fail("users[%d]: user %s is listed twice", i, u.Name)
		}
		users[u.Name] = true
		for _, g := range u.Join {
			switch {
			case newGroup[g] != nil:
				joined[g] = append(joined[g], u.Name)
			case !existing[g]:
				return fail("user %s joins group %s, which is neither a new group of the plan nor an existing group it fingerprints", u.Name, g)
			}
		}
		for _, k := range u.Keep {
			if slices.Contains(u.Detach, k) || slices.Contains(u.DeleteInline, k) {
				return fail("user %s keeps %s and also removes it", u.Name, k)
			}
		}
	}
	for _, g := range p.Groups {
		members := slices.Sorted(slices.Values(g.Members))
		if got := slices.Sorted(slices.Values(joined[g.Name])); !slices.Equal(members, got) {
			return fail("group %s lists members %v, but the users that join it are %v", g.Name, members, got)
		}
	}
	want := actions(p)
	if len(want) != len(p.Actions) {
		return fail("it has %d actions, its policies, groups and users imply %d", len(p.Actions), len(want))
	}
	for i := range want {
		if p.Actions[i] != want[i] {
			return fail("actions[%d] is %+v, its policies, groups and users imply %+v", i, p.Actions[i], want[i])
		}
	}
	p.recount()
	return nil
}

// recount recomputes the stats that follow from the plan's content.
func (p *Plan) recount() {
	s := &p.Stats
	s.PlannedUsers, s.UnplannedUsers = len(p.Users), len(p.Unplanned)
	s.NewPolicies, s.NewGroups = len(p.Policies), len(p.Groups)
	s.Memberships, s.Detachments, s.Deletions = 0, 0, 0
	for _, a := range p.Actions {
		switch a.Op {
		case OpAddUser:
			s.Memberships++
		case OpDetachUserPolicy:
			s.Detachments++
		case OpDeleteUserPolicy:
			s.Deletions++
		}
	}
}
