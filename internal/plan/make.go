package plan

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/rule"
)

// Options tune a plan.
type Options struct {
	// GroupPrefix starts every new group's name.
	GroupPrefix string
	// Users, when set, is a glob: only failing users whose name matches
	// are planned.
	Users  string
	Quotas Quotas
}

// newPath is the IAM path of everything a plan creates.
const newPath = "/iamgroups/"

// atom is one permission source: a managed policy, or an inline document
// (which the plan turns into a new customer managed policy).
type atom struct {
	key    string // "managed <arn>" or "inline <digest>"
	arn    string // managed: the policy; inline: the policy to create
	name   string
	digest string
	doc    string
	size   int
	// names are the inline policy names the document had, for naming.
	names map[string]int
	users []string
}

// planner holds the state of one Make.
type planner struct {
	acct   *model.Account
	opts   Options
	atoms  []*atom
	byKey  map[string]int
	groups map[string]*model.Group // existing groups by name
}

func (p *planner) atomOf(key string, fill func(*atom)) int {
	if i, ok := p.byKey[key]; ok {
		return i
	}
	a := &atom{key: key, names: map[string]int{}}
	fill(a)
	p.byKey[key] = len(p.atoms)
	p.atoms = append(p.atoms, a)
	return len(p.atoms) - 1
}

func (p *planner) managed(pol model.AttachedPolicy) int {
	return p.atomOf("managed "+pol.ARN, func(a *atom) { a.arn, a.name = pol.ARN, pol.Name })
}

func (p *planner) inline(pol model.InlinePolicy) int {
	return p.atomOf("inline "+pol.Digest, func(a *atom) {
		a.digest, a.doc, a.size = pol.Digest, pol.Canonical, pol.Size
	})
}

// candidate is a failing user being planned.
type candidate struct {
	user    *model.User
	direct  []int    // atoms the plan moves
	keep    []string // direct policies an exemption allows
	groups  []string // current groups
	reuse   []string // existing groups to join
	R, A    bitset
	D, G    bitset // direct atoms moved; atoms the current groups grant
	roles   []int
	reason  string // why it cannot be planned
	digest  string
	managed []string // ARNs to detach
	inlines []string // names to delete
	// inlineAtoms[i] is the atom of inlines[i].
	inlineAtoms []int
}

// Make designs the plan for one account from its IAM-071 results. Only
// FAIL users are planned; the account must have been collected with its
// groups (a snapshot, or live collection for planning).
func Make(acct *model.Account, results []rule.Result, opts Options) (*Plan, error) {
	if opts.Quotas == (Quotas{}) {
		opts.Quotas = DefaultQuotas()
	}
	q := opts.Quotas
	if q.GroupsPerUser < 1 || q.PoliciesPerGroup < 1 || q.GroupsPerAccount < 1 || q.PoliciesPerAccount < 1 || q.PolicySize < 1 {
		return nil, fmt.Errorf("make plan: every quota must be at least 1: %+v", q)
	}
	if opts.Users != "" {
		if _, err := path.Match(opts.Users, ""); err != nil {
			return nil, fmt.Errorf("make plan: users pattern %q: %w", opts.Users, err)
		}
	}
	if !acct.GroupsKnown {
		return nil, fmt.Errorf("make plan: account %s was read without its groups and customer managed policies, which a plan must know; "+
			"use a snapshot from `iamgroups snapshot` (or get-account-authorization-details output without --filter User), or plan live with GetAccountAuthorizationDetails allowed", acct.ID)
	}
	if len(acct.ID) != 12 || strings.Trim(acct.ID, "0123456789") != "" {
		return nil, fmt.Errorf("make plan: the account ID %q is not 12 digits; the input's ARNs name no account", acct.ID)
	}
	if err := checkPrefix(opts.GroupPrefix); err != nil {
		return nil, err
	}
	p := &planner{acct: acct, opts: opts, byKey: map[string]int{}, groups: map[string]*model.Group{}}
	for i := range acct.Groups {
		p.groups[acct.Groups[i].Name] = &acct.Groups[i]
	}
	byARN := map[string]*model.User{}
	for _, u := range acct.Users {
		byARN[u.ARN] = u
	}

	var cands []*candidate
	var unplanned []Unplanned
	for i := range results {
		r := &results[i]
		if r.Status != rule.Fail || r.AccountID != acct.ID {
			continue
		}
		u := byARN[r.UserARN]
		if u == nil {
			continue
		}
		if opts.Users != "" {
			if ok, _ := path.Match(opts.Users, u.Name); !ok {
				continue
			}
		}
		c, reason := p.candidate(u, r)
		if reason != "" {
			unplanned = append(unplanned, Unplanned{Name: u.Name, ARN: u.ARN, Reason: reason})
			continue
		}
		cands = append(cands, c)
	}
	// Every atom an existing group grants joins the universe, so that
	// what users already hold through groups is known exactly.
	for _, name := range slices.Sorted(maps.Keys(p.groups)) {
		g := p.groups[name]
		for _, pol := range g.AttachedPolicies {
			p.managed(pol)
		}
		for _, pol := range g.InlinePolicies {
			p.inline(pol)
		}
	}
	n := len(p.atoms)
	groupAtoms := map[string]bitset{}
	for name, g := range p.groups {
		groupAtoms[name] = p.groupSet(g, n)
	}
	for _, c := range cands {
		c.finish(p, groupAtoms, n)
	}

	// Solve; users that cannot fit the per-user quota leave, and the rest
	// are solved again without them.
	var roles []bitset
	for {
		var active []*candidate
		for _, c := range cands {
			if c.reason == "" && !c.R.empty() {
				active = append(active, c)
			}
		}
		classes := make([]class, len(active))
		for i, c := range active {
			classes[i] = class{R: c.R, A: c.A}
		}
		roles = solve(n, classes, q.PoliciesPerGroup)
		changed := false
		for i, c := range active {
			c.roles = assign(roles, classes[i])
			if c.roles == nil {
				// Cannot happen (a user's own sets are candidates), but a
				// user must never be planned without its cover.
				c.reason = "no cover found for its policies"
				changed = true
				continue
			}
			have := len(c.groups) + len(c.reuse)
			if have+len(c.roles) <= q.GroupsPerUser {
				continue
			}
			// Fewer, fuller groups of the user's own.
			own := chunks(c.R, q.PoliciesPerGroup)
			if have+len(own) <= q.GroupsPerUser {
				c.roles = nil
				for _, o := range own {
					idx := slices.IndexFunc(roles, o.equal)
					if idx < 0 {
						roles = append(roles, o)
						idx = len(roles) - 1
					}
					c.roles = append(c.roles, idx)
				}
				continue
			}
			if len(c.reuse) > 0 {
				// Joining existing groups used up the slots: try again
				// with new groups only.
				c.reuse, c.R = nil, c.D.andNot(c.G)
				changed = true
				continue
			}
			c.reason = fmt.Sprintf("needs %d new groups and is in %d already, but a user may be in at most %d groups",
				min(len(c.roles), len(own)), len(c.groups), q.GroupsPerUser)
			changed = true
		}
		if !changed {
			changed = p.accountQuotas(active, roles)
		}
		if !changed {
			break
		}
	}

	roles = trim(roles, cands)
	plan := p.build(cands, roles, unplanned)
	classesAll := []class{}
	for _, c := range cands {
		if c.reason == "" && !c.R.empty() {
			classesAll = append(classesAll, class{R: c.R, A: c.A})
		}
	}
	plan.Stats.LowerBound = lowerBound(dedupeClasses(classesAll))
	return plan, nil
}

// accountQuotas keeps the plan within the account's group and policy
// quotas: the groups and new policies that serve the most users stay, and
// users who need one beyond the quota are left out (the caller then
// solves again without them). It reports whether it left anyone out.
func (p *planner) accountQuotas(active []*candidate, roles []bitset) bool {
	q := p.opts.Quotas
	members := map[int]int{}
	inlineUsers := map[int]int{}
	for _, c := range active {
		seen := map[int]bool{}
		for _, r := range c.roles {
			members[r]++
			for _, a := range roles[r].members() {
				if p.atoms[a].digest != "" && !seen[a] {
					seen[a] = true
					inlineUsers[a]++
				}
			}
		}
	}
	drop := func(counts map[int]int, avail int) map[int]bool {
		if len(counts) <= avail {
			return nil
		}
		keys := slices.Collect(maps.Keys(counts))
		slices.SortFunc(keys, func(a, b int) int {
			if counts[a] != counts[b] {
				return counts[b] - counts[a]
			}
			return a - b
		})
		out := map[int]bool{}
		for _, k := range keys[max(0, avail):] {
			out[k] = true
		}
		return out
	}
	droppedRoles := drop(members, q.GroupsPerAccount-len(p.acct.Groups))
	droppedAtoms := drop(inlineUsers, q.PoliciesPerAccount-p.existingCustomer())
	changed := false
	for _, c := range active {
		for _, r := range c.roles {
			if droppedRoles[r] {
				c.reason = fmt.Sprintf("the account may hold %d groups and has %d; the groups that serve the most users come first and this user needs another",
					q.GroupsPerAccount, len(p.acct.Groups))
			} else if slices.ContainsFunc(roles[r].members(), func(a int) bool { return droppedAtoms[a] }) {
				c.reason = fmt.Sprintf("the account may hold %d customer managed policies; the inline documents that serve the most users come first and this user needs another",
					q.PoliciesPerAccount)
			} else {
				continue
			}
			changed = true
			break
		}
	}
	return changed
}

// existingCustomer counts the account's customer managed policies.
func (p *planner) existingCustomer() int {
	n := 0
	for _, pol := range p.acct.Policies {
		if acct, _ := arnAccount(pol.ARN); acct != "aws" {
			n++
		}
	}
	return n
}

// arnAccount returns the account field of an ARN ("aws" for AWS managed
// policies).
func arnAccount(arn string) (string, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return "", false
	}
	return parts[4], true
}

// trim drops from each role the atoms none of its members needs (ones
// they all hold already), then merges roles that became equal: a group
// should carry only what it is for.
func trim(roles []bitset, cands []*candidate) []bitset {
	need := make([]bitset, len(roles))
	for _, c := range cands {
		if c.reason != "" {
			continue
		}
		for _, r := range c.roles {
			if need[r] == nil {
				need[r] = c.R.clone()
			} else {
				need[r] = need[r].or(c.R)
			}
		}
	}
	var out []bitset
	index := map[string]int{}
	remap := make([]int, len(roles))
	for r := range roles {
		remap[r] = -1
		if need[r] == nil {
			continue
		}
		t := roles[r].and(need[r])
		if i, ok := index[t.key()]; ok {
			remap[r] = i
			continue
		}
		index[t.key()] = len(out)
		remap[r] = len(out)
		out = append(out, t)
	}
	for _, c := range cands {
		if c.reason != "" {
			c.roles = nil
			continue
		}
		var rs []int
		for _, r := range c.roles {
			if !slices.Contains(rs, remap[r]) {
				rs = append(rs, remap[r])
			}
		}
		slices.Sort(rs)
		c.roles = rs
	}
	return out
}

func dedupeClasses(cs []class) []class {
	seen := map[string]bool{}
	var out []class
	for _, c := range cs {
		k := c.R.key() + "|" + c.A.key()
		if !seen[k] {
			seen[k] = true
			out = append(out, c)
		}
	}
	return out
}

// candidate collects what the plan needs about u, or why it cannot plan it.
func (p *planner) candidate(u *model.User, r *rule.Result) (*candidate, string) {
	c := &candidate{user: u, groups: slices.Clone(u.Groups)}
	exempt := map[string]bool{}
	for _, v := range r.Violations {
		if v.Exemption != nil && !v.Exemption.Expired {
			exempt[v.Kind+" "+v.Name+" "+v.ARN] = true
		}
	}
	inlineDigests := map[string]string{}
	var managed []string
	for _, pol := range u.AttachedPolicies {
		managed = append(managed, pol.ARN)
		if exempt["managed "+pol.Name+" "+pol.ARN] {
			c.keep = append(c.keep, pol.ARN)
			continue
		}
		c.direct = append(c.direct, p.managed(pol))
		c.managed = append(c.managed, pol.ARN)
	}
	for _, pol := range u.InlinePolicies {
		inlineDigests[pol.Name] = pol.Digest
		if exempt["inline "+pol.Name+" "] {
			c.keep = append(c.keep, pol.Name)
			continue
		}
		if pol.Size > p.opts.Quotas.PolicySize {
			return nil, fmt.Sprintf("inline policy %s is %d characters; a managed policy holds at most %d", pol.Name, pol.Size, p.opts.Quotas.PolicySize)
		}
		i := p.inline(pol)
		c.direct = append(c.direct, i)
		c.inlineAtoms = append(c.inlineAtoms, i)
		c.inlines = append(c.inlines, pol.Name)
	}
	for _, g := range u.Groups {
		if p.groups[g] == nil {
			return nil, fmt.Sprintf("its group %s is not in the data, so what it holds is unknown", g)
		}
	}
	c.digest = UserDigest(managed, inlineDigests, u.Groups)
	if len(c.direct) == 0 {
		return nil, "every direct policy is exempt"
	}
	return c, ""
}

// groupSet is the atoms an existing group grants.
func (p *planner) groupSet(g *model.Group, n int) bitset {
	b := newBitset(n)
	for _, pol := range g.AttachedPolicies {
		b.set(p.byKey["managed "+pol.ARN])
	}
	for _, pol := range g.InlinePolicies {
		b.set(p.byKey["inline "+pol.Digest])
	}
	return b
}

// finish computes R and A and picks existing groups to join.
func (c *candidate) finish(p *planner, groupAtoms map[string]bitset, n int) {
	D := newBitset(n)
	for _, a := range c.direct {
		D.set(a)
	}
	G := newBitset(n)
	for _, g := range c.groups {
		if s := groupAtoms[g]; s != nil {
			G = G.or(s)
		}
	}
	c.D, c.G = D, G
	c.A = D.or(G)
	c.R = D.andNot(G)
	// Join existing groups that add nothing new, most useful first.
	for len(c.groups)+len(c.reuse) < p.opts.Quotas.GroupsPerUser && !c.R.empty() {
		best, bestGain := "", 0
		for _, name := range sortedGroupNames(groupAtoms) {
			s := groupAtoms[name]
			if s == nil || s.empty() || slices.Contains(c.groups, name) || slices.Contains(c.reuse, name) || !s.subsetOf(c.A) {
				continue
			}
			if g := s.andCount(c.R); g > bestGain {
				best, bestGain = name, g
			}
		}
		if best == "" {
			break
		}
		c.reuse = append(c.reuse, best)
		c.R = c.R.andNot(groupAtoms[best])
	}
}

func sortedGroupNames(m map[string]bitset) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// build turns the solution into a Plan: names, policies, groups, actions.
func (p *planner) build(cands []*candidate, roles []bitset, unplanned []Unplanned) *Plan {
	acct := p.acct
	plan := &Plan{Schema: Schema, AccountID: acct.ID, Partition: acct.Partition, Quotas: p.opts.Quotas,
		Policies: []Policy{}, Groups: []Group{}, Users: []User{}, Unplanned: []Unplanned{}, Actions: []Action{}}
	for _, c := range cands {
		if c.reason != "" {
			unplanned = append(unplanned, Unplanned{Name: c.user.Name, ARN: c.user.ARN, Reason: c.reason})
		}
	}
	// Roles in use, in a stable order: by their atoms' keys.
	used := map[int][]string{}
	for _, c := range cands {
		if c.reason != "" {
			continue
		}
		for _, r := range c.roles {
			used[r] = append(used[r], c.user.Name)
		}
	}
	var order []int
	for r := range used {
		order = append(order, r)
	}
	roleKey := func(r int) string {
		var keys []string
		for _, a := range roles[r].members() {
			keys = append(keys, p.atoms[a].key)
		}
		slices.Sort(keys)
		return strings.Join(keys, "\n")
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(roleKey(a), roleKey(b)) })

	// Where each inline document came from, among planned users: it
	// names and describes the policy made from it.
	for _, c := range cands {
		if c.reason != "" {
			continue
		}
		for i, a := range c.inlineAtoms {
			p.atoms[a].names[c.inlines[i]]++
			p.atoms[a].users = append(p.atoms[a].users, c.user.Name)
		}
	}
	// New policies for the inline atoms the roles carry.
	names := newNamer(acct)
	inlineNeeded := map[int]bool{}
	for _, r := range order {
		for _, a := range roles[r].members() {
			if p.atoms[a].digest != "" {
				inlineNeeded[a] = true
			}
		}
	}
	var inlineAtoms []int
	for a := range inlineNeeded {
		inlineAtoms = append(inlineAtoms, a)
	}
	slices.SortFunc(inlineAtoms, func(x, y int) int { return strings.Compare(p.atoms[x].digest, p.atoms[y].digest) })
	for _, a := range inlineAtoms {
		at := p.atoms[a]
		at.name = names.policy(at)
		at.arn = "arn:" + acct.Partition + ":iam::" + acct.ID + ":policy" + newPath + at.name
		plan.Policies = append(plan.Policies, Policy{Name: at.name, Path: newPath, ARN: at.arn,
			Description: description(at), Digest: at.digest, Document: at.doc})
	}
	roleName := map[int]string{}
	for _, r := range order {
		var pols []string
		var polNames []string
		for _, a := range roles[r].members() {
			pols = append(pols, p.atoms[a].arn)
			polNames = append(polNames, p.atoms[a].name)
		}
		slices.Sort(pols)
		slices.Sort(polNames)
		name := names.group(p.opts.GroupPrefix, polNames, roleKey(r))
		roleName[r] = name
		members := slices.Clone(used[r])
		slices.Sort(members)
		plan.Groups = append(plan.Groups, Group{Name: name, Path: newPath, Policies: pols, Members: members})
	}
	reused := map[string]bool{}
	for _, c := range cands {
		if c.reason != "" {
			continue
		}
		u := User{Name: c.user.Name, ARN: c.user.ARN, Digest: c.digest, Join: slices.Clone(c.reuse),
			Detach: slices.Clone(c.managed), DeleteInline: slices.Clone(c.inlines), Keep: c.keep}
		for _, g := range c.reuse {
			reused[g] = true
		}
		for _, r := range c.roles {
			u.Join = append(u.Join, roleName[r])
		}
		slices.Sort(u.Join)
		slices.Sort(u.Detach)
		slices.Sort(u.DeleteInline)
		plan.Users = append(plan.Users, u)
	}
	slices.SortFunc(plan.Users, func(a, b User) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(unplanned, func(a, b Unplanned) int { return strings.Compare(a.Name, b.Name) })
	plan.Unplanned = append(plan.Unplanned, unplanned...)

	// Account quotas: Make already keeps within them; this guards the
	// invariant with an all-or-nothing refusal.
	existingCustomer := p.existingCustomer()
	q := p.opts.Quotas
	var over string
	switch {
	case len(plan.Groups) > 0 && len(acct.Groups)+len(plan.Groups) > q.GroupsPerAccount:
		over = fmt.Sprintf("the plan needs %d new groups and the account has %d; at most %d groups are allowed", len(plan.Groups), len(acct.Groups), q.GroupsPerAccount)
	case len(plan.Policies) > 0 && existingCustomer+len(plan.Policies) > q.PoliciesPerAccount:
		over = fmt.Sprintf("the plan needs %d new customer managed policies and the account has %d; at most %d are allowed", len(plan.Policies), existingCustomer, q.PoliciesPerAccount)
	}
	if over != "" {
		for _, u := range plan.Users {
			plan.Unplanned = append(plan.Unplanned, Unplanned{Name: u.Name, ARN: u.ARN, Reason: over})
		}
		slices.SortFunc(plan.Unplanned, func(a, b Unplanned) int { return strings.Compare(a.Name, b.Name) })
		plan.Users, plan.Groups, plan.Policies = []User{}, []Group{}, []Policy{}
	}
	plan.ExistingGroups = p.existingGroups(plan.Users)
	plan.Actions = actions(plan)
	plan.Stats = Stats{PlannedUsers: len(plan.Users), UnplannedUsers: len(plan.Unplanned), NewPolicies: len(plan.Policies),
		NewGroups: len(plan.Groups), ReusedGroups: len(reused)}
	if over != "" {
		plan.Stats.ReusedGroups = 0
	}
	for _, a := range plan.Actions {
		switch a.Op {
		case OpAddUser:
			plan.Stats.Memberships++
		case OpDetachUserPolicy:
			plan.Stats.Detachments++
		case OpDeleteUserPolicy:
			plan.Stats.Deletions++
		}
	}
	return plan
}

// existingGroups fingerprints the existing groups the plan relies on:
// those its users are in or join. If one changes before apply, what the
// plan removes may no longer be granted, so apply must refuse.
func (p *planner) existingGroups(users []User) []ExistingGroup {
	names := map[string]bool{}
	byName := map[string]*model.User{}
	for _, u := range p.acct.Users {
		byName[u.Name] = u
	}
	for _, u := range users {
		for _, g := range byName[u.Name].Groups {
			names[g] = true
		}
		for _, g := range u.Join {
			if p.groups[g] != nil {
				names[g] = true
			}
		}
	}
	out := []ExistingGroup{}
	for _, name := range slices.Sorted(maps.Keys(names)) {
		g := p.groups[name]
		var managed []string
		inline := map[string]string{}
		for _, pol := range g.AttachedPolicies {
			managed = append(managed, pol.ARN)
		}
		for _, pol := range g.InlinePolicies {
			inline[pol.Name] = pol.Digest
		}
		out = append(out, ExistingGroup{Name: name, Digest: UserDigest(managed, inline, nil)})
	}
	return out
}

// actions lists the calls: additive steps before subtractive ones.
func actions(p *Plan) []Action {
	var out []Action
	for _, pol := range p.Policies {
		out = append(out, Action{Op: OpCreatePolicy, PolicyName: pol.Name, PolicyARN: pol.ARN})
	}
	for _, g := range p.Groups {
		out = append(out, Action{Op: OpCreateGroup, Group: g.Name})
	}
	for _, g := range p.Groups {
		for _, arn := range g.Policies {
			out = append(out, Action{Op: OpAttachGroup, Group: g.Name, PolicyARN: arn})
		}
	}
	for _, u := range p.Users {
		for _, g := range u.Join {
			out = append(out, Action{Op: OpAddUser, User: u.Name, Group: g})
		}
	}
	for _, u := range p.Users {
		for _, arn := range u.Detach {
			out = append(out, Action{Op: OpDetachUserPolicy, User: u.Name, PolicyARN: arn})
		}
	}
	for _, u := range p.Users {
		for _, name := range u.DeleteInline {
			out = append(out, Action{Op: OpDeleteUserPolicy, User: u.Name, PolicyName: name})
		}
	}
	if out == nil {
		out = []Action{}
	}
	return out
}

func description(a *atom) string {
	names := sortedNames(a.names)
	users := slices.Clone(a.users)
	slices.Sort(users)
	users = slices.Compact(users)
	more := ""
	if len(users) > 5 {
		more = fmt.Sprintf(" and %d more", len(users)-5)
		users = users[:5]
	}
	d := fmt.Sprintf("Created by iamgroups from inline policy %s of user %s%s", strings.Join(names, ", "), strings.Join(users, ", "), more)
	if len(d) > 1000 {
		d = d[:1000]
	}
	return d
}

// sortedNames orders names by how many users used them, then by name.
func sortedNames(m map[string]int) []string {
	var names []string
	for k := range m {
		names = append(names, k)
	}
	slices.SortFunc(names, func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		return strings.Compare(a, b)
	})
	return names
}
