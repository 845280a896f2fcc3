package apply

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/plan"
)

// state indexes one read of the account.
type state struct {
	acct     *model.Account
	users    map[string]*model.User
	groups   map[string]*model.Group
	policies map[string]*model.ManagedPolicy
	// docOf maps the ARNs of the plan's new policies to "doc:" atoms: a
	// policy made from an inline document grants the same permissions.
	docOf map[string]string
}

func newState(acct *model.Account, p *plan.Plan) *state {
	s := &state{acct: acct, users: make(map[string]*model.User, len(acct.Users)),
		groups: make(map[string]*model.Group, len(acct.Groups)), policies: make(map[string]*model.ManagedPolicy, len(acct.Policies)),
		docOf: map[string]string{}}
	for _, u := range acct.Users {
		s.users[u.Name] = u
	}
	for i := range acct.Groups {
		s.groups[acct.Groups[i].Name] = &acct.Groups[i]
	}
	for i := range acct.Policies {
		s.policies[acct.Policies[i].ARN] = &acct.Policies[i]
	}
	for _, pol := range p.Policies {
		// The atom is the document the account holds, so that a policy
		// whose content differs from the plan's is a different atom.
		digest := pol.Digest
		if have := s.policies[pol.ARN]; have != nil && have.Digest != "" {
			digest = have.Digest
		}
		s.docOf[pol.ARN] = "doc:" + digest
	}
	return s
}

// atom names a permission source the way the planner does: a managed
// policy by ARN, an inline document (or a policy made from one) by digest.
func (s *state) managedAtom(arn string) string {
	if a, ok := s.docOf[arn]; ok {
		return a
	}
	return "arn:" + arn
}

func inlineAtom(digest string) string { return "doc:" + digest }

// atoms returns what a user holds directly and through its groups.
func (s *state) atoms(u *model.User) (direct, viaGroups map[string]bool) {
	direct, viaGroups = map[string]bool{}, map[string]bool{}
	for _, p := range u.AttachedPolicies {
		direct[s.managedAtom(p.ARN)] = true
	}
	for _, p := range u.InlinePolicies {
		direct[inlineAtom(p.Digest)] = true
	}
	for _, name := range u.Groups {
		g := s.groups[name]
		if g == nil {
			continue
		}
		for _, p := range g.AttachedPolicies {
			viaGroups[s.managedAtom(p.ARN)] = true
		}
		for _, p := range g.InlinePolicies {
			viaGroups[inlineAtom(p.Digest)] = true
		}
	}
	return direct, viaGroups
}

// userDigest fingerprints a user as plan.UserDigest does.
func userDigest(u *model.User) string {
	return policiesDigest(u.AttachedPolicies, u.InlinePolicies, u.Groups)
}

// groupDigest fingerprints a group as the plan's ExistingGroups do.
func groupDigest(g *model.Group) string {
	return policiesDigest(g.AttachedPolicies, g.InlinePolicies, nil)
}

func policiesDigest(attached []model.AttachedPolicy, inlines []model.InlinePolicy, groups []string) string {
	managed := make([]string, len(attached))
	for i, p := range attached {
		managed[i] = p.ARN
	}
	inline := make(map[string]string, len(inlines))
	for _, p := range inlines {
		inline[p.Name] = p.Digest
	}
	return plan.UserDigest(managed, inline, groups)
}

// Drift is one change found between the plan (or the backup) and the
// account as it is now.
type Drift struct {
	// Subject is "user NAME", "group NAME" or "policy ARN".
	Subject string
	What    string
}

func (d Drift) String() string { return d.Subject + ": " + d.What }

// freshDrift compares the account with the plan before a first run: every
// planned user and relied-on group exactly as planned, and none of the
// groups and policies the plan creates exists yet.
func freshDrift(s *state, p *plan.Plan) []Drift {
	var out []Drift
	for _, pu := range p.Users {
		u := s.users[pu.Name]
		if u == nil {
			out = append(out, Drift{"user " + pu.Name, "deleted since planning"})
			continue
		}
		if u.ARN != pu.ARN {
			out = append(out, Drift{"user " + pu.Name, fmt.Sprintf("replaced since planning (ARN %s, planned %s)", u.ARN, pu.ARN)})
			continue
		}
		if userDigest(u) != pu.Digest {
			out = append(out, Drift{"user " + pu.Name, describeUserChange(u, pu)})
		}
	}
	out = append(out, existingGroupDrift(s, p)...)
	for _, g := range p.Groups {
		if s.groups[g.Name] != nil || s.groupFold(g.Name) != "" {
			out = append(out, Drift{"group " + g.Name, "created since planning; the plan would create it"})
		}
	}
	for _, pol := range p.Policies {
		if s.policies[pol.ARN] != nil {
			out = append(out, Drift{"policy " + pol.ARN, "created since planning; the plan would create it"})
		}
	}
	return out
}

// groupFold returns the name of an existing group equal to name ignoring
// case (IAM names are unique ignoring case), or "".
func (s *state) groupFold(name string) string {
	for n := range s.groups {
		if strings.EqualFold(n, name) {
			return n
		}
	}
	return ""
}

func existingGroupDrift(s *state, p *plan.Plan) []Drift {
	var out []Drift
	for _, eg := range p.ExistingGroups {
		g := s.groups[eg.Name]
		switch {
		case g == nil:
			out = append(out, Drift{"group " + eg.Name, "deleted since planning"})
		case groupDigest(g) != eg.Digest:
			out = append(out, Drift{"group " + eg.Name, "its policies changed since planning"})
		}
	}
	return out
}

// describeUserChange says how a user differs from what the plan saw, as far
// as the plan records it: the direct policies it removes or keeps.
func describeUserChange(u *model.User, pu plan.User) string {
	planned := map[string]bool{}
	for _, x := range pu.Detach {
		planned["managed "+x] = true
	}
	for _, x := range pu.DeleteInline {
		planned["inline "+x] = true
	}
	now := map[string]bool{}
	for _, p := range u.AttachedPolicies {
		now["managed "+p.ARN] = true
	}
	for _, p := range u.InlinePolicies {
		now["inline "+p.Name] = true
	}
	kept := map[string]bool{}
	for _, k := range pu.Keep {
		kept[k] = true
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(now)) {
		kind, name, _ := strings.Cut(k, " ")
		if !planned[k] && !kept[name] {
			parts = append(parts, kind+" policy "+name+" added")
		}
	}
	for _, k := range slices.Sorted(maps.Keys(planned)) {
		if !now[k] {
			kind, name, _ := strings.Cut(k, " ")
			parts = append(parts, kind+" policy "+name+" removed")
		}
	}
	if len(parts) == 0 {
		return "an inline policy document or a group membership changed since planning"
	}
	return strings.Join(parts, ", ") + " since planning"
}

// resumeDrift compares the account with the backup of a run in progress:
// each planned user may have lost only the direct policies the plan
// removes and gained only the memberships it adds; existing groups are as
// planned; the run's new groups and policies hold nothing the plan does
// not put there.
func resumeDrift(s *state, p *plan.Plan, b *Backup) []Drift {
	var out []Drift
	byName := b.users()
	for _, pu := range p.Users {
		u := s.users[pu.Name]
		bu := byName[pu.Name]
		if bu == nil {
			out = append(out, Drift{"user " + pu.Name, "missing from the backup; the journal does not belong to this plan"})
			continue
		}
		if u == nil {
			out = append(out, Drift{"user " + pu.Name, "deleted since the run started"})
			continue
		}
		if !bu.same(u) {
			out = append(out, Drift{"user " + pu.Name, "deleted and created again since the run started"})
			continue
		}
		orig := map[string]bool{}
		for _, a := range bu.Managed {
			orig[a] = true
		}
		for _, p := range u.AttachedPolicies {
			if !orig[p.ARN] {
				out = append(out, Drift{"user " + pu.Name, "managed policy " + p.ARN + " attached since the run started"})
			}
		}
		origInline := map[string]string{}
		for _, ip := range bu.Inline {
			origInline[ip.Name] = ip.Digest
		}
		for _, ip := range u.InlinePolicies {
			if d, ok := origInline[ip.Name]; !ok || d != ip.Digest {
				out = append(out, Drift{"user " + pu.Name, "inline policy " + ip.Name + " put since the run started"})
			}
		}
		allowed := map[string]bool{}
		for _, g := range bu.Groups {
			allowed[g] = true
		}
		for _, g := range pu.Join {
			allowed[g] = true
		}
		member := map[string]bool{}
		for _, g := range u.Groups {
			member[g] = true
			if !allowed[g] {
				out = append(out, Drift{"user " + pu.Name, "added to group " + g + " since the run started"})
			}
		}
		for _, g := range bu.Groups {
			if !member[g] {
				out = append(out, Drift{"user " + pu.Name, "removed from group " + g + " since the run started"})
			}
		}
	}
	out = append(out, existingGroupDrift(s, p)...)
	out = append(out, newEntityDrift(s, p)...)
	return out
}

// newEntityDrift checks the plan's groups and policies that exist: a
// group with only planned policies and members, no inline policy; a
// policy with the planned document.
func newEntityDrift(s *state, p *plan.Plan) []Drift {
	var out []Drift
	for _, pg := range p.Groups {
		g := s.groups[pg.Name]
		if g == nil {
			if other := s.groupFold(pg.Name); other != "" {
				out = append(out, Drift{"group " + pg.Name, "a group named " + other + " holds the name"})
			}
			continue
		}
		if d := foreignGroupContent(s, g, pg); d != "" {
			out = append(out, Drift{"group " + pg.Name, d})
		}
	}
	for _, pol := range p.Policies {
		if have := s.policies[pol.ARN]; have != nil && have.Digest != pol.Digest {
			out = append(out, Drift{"policy " + pol.ARN, "exists with a document other than the planned one"})
		}
	}
	return out
}

// foreignGroupContent says what a group named like a planned one holds
// that the plan does not put there, or "".
func foreignGroupContent(s *state, g *model.Group, pg plan.Group) string {
	if g.Path != pg.Path {
		return fmt.Sprintf("exists with path %s, planned %s", g.Path, pg.Path)
	}
	pols := map[string]bool{}
	for _, a := range pg.Policies {
		pols[a] = true
	}
	for _, a := range g.AttachedPolicies {
		if !pols[a.ARN] {
			return "exists with policy " + a.ARN + " that the plan does not attach"
		}
	}
	if len(g.InlinePolicies) > 0 {
		return "exists with inline policy " + g.InlinePolicies[0].Name
	}
	members := map[string]bool{}
	for _, m := range pg.Members {
		members[m] = true
	}
	for _, u := range s.acct.Users {
		if !members[u.Name] && slices.Contains(u.Groups, g.Name) {
			return "exists with member " + u.Name + " that the plan does not add"
		}
	}
	return ""
}

// Gap is a planned user whose permissions differ from what they were.
type Gap struct {
	User string
	// Missing are atoms the user held directly that no group gives it
	// (verification before the subtractive phase); Lost and Gained
	// compare everything it holds with the backup.
	Missing, Lost, Gained []string
	// Direct are direct policies left that the plan removes (final check).
	Direct []string
}

func (g Gap) String() string {
	var parts []string
	add := func(label string, xs []string) {
		if len(xs) > 0 {
			parts = append(parts, label+" "+strings.Join(xs, ", "))
		}
	}
	add("not granted through groups:", g.Missing)
	add("lost:", g.Lost)
	add("gained:", g.Gained)
	add("still attached directly:", g.Direct)
	return "user " + g.User + ": " + strings.Join(parts, "; ")
}

// verify compares each planned user with its backup. Before the
// subtractive phase (final false) every atom the plan moves must come
// through groups; after it (final true) the user must hold no direct
// policy but the kept ones. In both, the user holds exactly the atoms it
// held before.
func verify(s *state, p *plan.Plan, b *Backup, final bool) []Gap {
	var out []Gap
	byName := b.users()
	for _, pu := range p.Users {
		u, bu := s.users[pu.Name], byName[pu.Name]
		if u == nil || bu == nil {
			out = append(out, Gap{User: pu.Name, Lost: []string{"the user no longer exists"}})
			continue
		}
		before := b.atoms(s, bu)
		direct, groups := s.atoms(u)
		now := maps.Clone(direct)
		maps.Copy(now, groups)
		gap := Gap{User: pu.Name, Lost: setMinus(before, now), Gained: setMinus(now, before)}
		kept := map[string]bool{}
		for _, k := range pu.Keep {
			kept[k] = true
		}
		for _, a := range pu.Detach {
			if !groups[s.managedAtom(a)] {
				gap.Missing = append(gap.Missing, a)
			}
		}
		for _, name := range pu.DeleteInline {
			if ip := bu.inline(name); ip != nil && !groups[inlineAtom(ip.Digest)] {
				gap.Missing = append(gap.Missing, "inline "+name)
			}
		}
		if final {
			for _, ap := range u.AttachedPolicies {
				if !kept[ap.ARN] {
					gap.Direct = append(gap.Direct, ap.ARN)
				}
			}
			for _, ip := range u.InlinePolicies {
				if !kept[ip.Name] {
					gap.Direct = append(gap.Direct, "inline "+ip.Name)
				}
			}
		}
		if len(gap.Missing)+len(gap.Lost)+len(gap.Gained)+len(gap.Direct) > 0 {
			out = append(out, gap)
		}
	}
	return out
}

func setMinus(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if !b[k] {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
