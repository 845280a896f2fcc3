package apply

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/iamgroups/iamgroups/internal/model"
)

// rootOf is the journal root of a run directory: where its lock lives.
func rootOf(dir string) string { return filepath.Dir(filepath.Clean(dir)) }

// Rollback puts every planned user of the run in dir back as its backup
// says, then deletes the groups and policies the run created: direct
// policies first (re-attach, re-put inline documents verbatim), then the
// memberships the run added, then the run's groups (only those nobody
// else joined) and policies (only those nothing else uses). It can be run
// again after it stops; each run does what a fresh read shows is left.
func (r *Runner) Rollback(ctx context.Context, dir string) (*Report, error) {
	o := r.opts()
	p, _, b, err := loadRun(dir)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return &Report{Dir: dir}, fmt.Errorf("rollback %s: the run stopped before its backup, so before any change; nothing to roll back", dir)
	}
	entries, err := ReadEntries(dir)
	if err != nil {
		return nil, err
	}
	// The groups and policies the run may have created: those it
	// announced. Anything else of the same name is not the run's.
	mayHaveCreated := map[string]bool{}
	for _, e := range entries {
		if e.Event == "intent" && e.Call != nil {
			switch e.Call.Op {
			case OpCreateGroup:
				mayHaveCreated["group "+e.Call.Group] = true
			case OpCreatePolicy:
				mayHaveCreated["policy "+e.Call.PolicyName] = true
			}
		}
	}
	var lock *Lock
	if !o.DryRun {
		lock, err = LockAccount(rootOf(dir), p.AccountID, o.Command)
		if err != nil {
			return nil, err
		}
		defer lock.Release()
	}
	x := &run{r: r, o: o, p: p, backup: b, rep: &Report{Dir: dir}}
	if !o.DryRun {
		j, err := openJournal(dir)
		if err != nil {
			return nil, err
		}
		defer j.Close()
		x.j = j
		if err := x.note(Entry{Event: "start", Note: "rollback"}); err != nil {
			return x.rep, err
		}
	}
	s, err := x.read(ctx)
	if err != nil {
		return x.rep, x.stopped(err)
	}

	// 1. Direct policies back, before anything is taken away.
	var restore []Call
	for _, bu := range b.Users {
		u := s.users[bu.Name]
		if u == nil || u.ARN != bu.ARN {
			x.rep.Warnings = append(x.rep.Warnings, fmt.Sprintf("user %s no longer exists (or was replaced); its backup is in %s", bu.Name, filepath.Join(dir, backupFile)))
			continue
		}
		for _, arn := range bu.Managed {
			if !hasManaged(u.AttachedPolicies, arn) {
				restore = append(restore, Call{Op: OpAttachUserPolicy, User: bu.Name, PolicyARN: arn})
			}
		}
	}
	for _, bu := range b.Users {
		u := s.users[bu.Name]
		if u == nil || u.ARN != bu.ARN {
			continue
		}
		for _, ip := range bu.Inline {
			if !hasInline(u.InlinePolicies, ip.Name, ip.Digest) {
				restore = append(restore, Call{Op: OpPutUserPolicy, User: bu.Name, PolicyName: ip.Name, Document: ip.Document})
			}
		}
	}
	if err := x.stage(ctx, "rollback-restore", restore); err != nil {
		return x.rep, err
	}

	// 2. The memberships the run added, once the direct policies are
	// back in effect.
	var leave []Call
	for _, pu := range p.Users {
		bu, u := b.users()[pu.Name], s.users[pu.Name]
		if bu == nil || u == nil || u.ARN != bu.ARN {
			continue
		}
		for _, g := range pu.Join {
			if !slices.Contains(bu.Groups, g) && slices.Contains(u.Groups, g) {
				leave = append(leave, Call{Op: OpRemoveUserFromGroup, User: pu.Name, Group: g})
			}
		}
	}
	if len(leave) > 0 && !o.DryRun && len(restore) > 0 {
		if err := o.Sleep(ctx, o.Settle); err != nil {
			return x.rep, x.stopped(err)
		}
	}
	if err := x.stage(ctx, "rollback-memberships", leave); err != nil {
		return x.rep, err
	}

	// 3. The run's groups: policies off, then the group, unless someone
	// else is in it.
	if len(leave) > 0 && !o.DryRun {
		if s, err = x.read(ctx); err != nil {
			return x.rep, x.stopped(err)
		}
	}
	var detach, deleteGroups []Call
	for _, pg := range p.Groups {
		g := s.groups[pg.Name]
		if g == nil || !mayHaveCreated["group "+pg.Name] {
			continue
		}
		if d := foreignGroupContent(s, g, pg); d != "" {
			x.rep.Warnings = append(x.rep.Warnings, fmt.Sprintf("group %s left in place: it %s", pg.Name, d))
			continue
		}
		if members := s.members(pg.Name); len(members) > 0 && !o.DryRun {
			x.rep.Warnings = append(x.rep.Warnings, fmt.Sprintf("group %s left in place: %s still in it", pg.Name, members[0]))
			continue
		}
		for _, ap := range g.AttachedPolicies {
			detach = append(detach, Call{Op: OpDetachGroupPolicy, Group: pg.Name, PolicyARN: ap.ARN})
		}
		deleteGroups = append(deleteGroups, Call{Op: OpDeleteGroup, Group: pg.Name})
	}
	if err := x.stage(ctx, "rollback-groups", append(detach, deleteGroups...)); err != nil {
		return x.rep, err
	}

	// 4. The run's policies, once nothing uses them.
	if len(detach)+len(deleteGroups) > 0 && !o.DryRun {
		if s, err = x.read(ctx); err != nil {
			return x.rep, x.stopped(err)
		}
	}
	var deletePolicies []Call
	for _, pol := range p.Policies {
		have := s.policies[pol.ARN]
		if have == nil || !mayHaveCreated["policy "+pol.Name] {
			continue
		}
		if have.Digest != pol.Digest {
			x.rep.Warnings = append(x.rep.Warnings, fmt.Sprintf("policy %s left in place: its document is not the one the run created", pol.ARN))
			continue
		}
		if have.AttachmentCount > 0 && !o.DryRun {
			x.rep.Warnings = append(x.rep.Warnings, fmt.Sprintf("policy %s left in place: attached to %d entities", pol.ARN, have.AttachmentCount))
			continue
		}
		deletePolicies = append(deletePolicies, Call{Op: OpDeletePolicy, PolicyARN: pol.ARN})
	}
	if err := x.stage(ctx, "rollback-policies", deletePolicies); err != nil {
		return x.rep, err
	}
	if o.DryRun {
		return x.rep, nil
	}

	// 5. Check that every user is back as the backup says.
	if err := o.Sleep(ctx, o.Settle); err != nil {
		return x.rep, x.stopped(err)
	}
	if s, err = x.read(ctx); err != nil {
		return x.rep, x.stopped(err)
	}
	if gaps := restored(s, b); len(gaps) > 0 {
		err := &VerifyError{Stage: "of the rollback", Gaps: gaps}
		return x.rep, x.stopped(err)
	}
	x.rep.Users = len(b.Users)
	x.logf("Rolled back: %d user(s) are as the backup says.", len(b.Users))
	return x.rep, x.note(Entry{Event: "complete", Note: "rollback"})
}

func hasManaged(ps []model.AttachedPolicy, arn string) bool {
	return slices.ContainsFunc(ps, func(p model.AttachedPolicy) bool { return p.ARN == arn })
}

func hasInline(ps []model.InlinePolicy, name, digest string) bool {
	return slices.ContainsFunc(ps, func(p model.InlinePolicy) bool { return p.Name == name && p.Digest == digest })
}

// members lists the users in a group.
func (s *state) members(group string) []string {
	var out []string
	for _, u := range s.acct.Users {
		if slices.Contains(u.Groups, group) {
			out = append(out, u.Name)
		}
	}
	return out
}

// restored compares each backed-up user with its backup: exactly the
// same managed policies, inline policies (same documents) and groups.
func restored(s *state, b *Backup) []Gap {
	var out []Gap
	for _, bu := range b.Users {
		u := s.users[bu.Name]
		if u == nil || u.ARN != bu.ARN {
			continue // reported as a warning
		}
		var gap Gap
		gap.User = bu.Name
		want := map[string]bool{}
		for _, a := range bu.Managed {
			want["managed "+a] = true
		}
		for _, ip := range bu.Inline {
			want["inline "+ip.Name+" "+ip.Digest] = true
		}
		for _, g := range bu.Groups {
			want["group "+g] = true
		}
		have := map[string]bool{}
		for _, a := range u.AttachedPolicies {
			have["managed "+a.ARN] = true
		}
		for _, ip := range u.InlinePolicies {
			have["inline "+ip.Name+" "+ip.Digest] = true
		}
		for _, g := range u.Groups {
			have["group "+g] = true
		}
		gap.Lost, gap.Gained = setMinus(want, have), setMinus(have, want)
		if len(gap.Lost)+len(gap.Gained) > 0 {
			out = append(out, gap)
		}
	}
	return out
}
