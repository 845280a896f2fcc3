package apply

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/plan"
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
	s, err := x.read(ctx)
	if err != nil {
		return x.rep, err
	}
	if !o.DryRun {
		// Journaled once the account is known to be the right one, so a
		// rollback refused at once leaves the run resumable.
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
	byName := b.users()
	present := func(bu *BackupUser) bool {
		if u := s.users[bu.Name]; bu.same(u) {
			return true
		}
		return false
	}
	for _, bu := range b.Users {
		if !present(&bu) {
			x.rep.Warnings = append(x.rep.Warnings, fmt.Sprintf("user %s was deleted (or deleted and created again) since the run; left alone, its backup is in %s", bu.Name, filepath.Join(dir, backupFile)))
		}
	}

	// 1. Direct policies back, before anything is taken away.
	var restore []Call
	for _, bu := range b.Users {
		u := s.users[bu.Name]
		if !present(&bu) {
			continue
		}
		for _, arn := range bu.Managed {
			if hasManaged(u.AttachedPolicies, arn) {
				continue
			}
			if strings.Contains(arn, ":"+p.AccountID+":") && s.policies[arn] == nil {
				x.rep.Warnings = append(x.rep.Warnings, fmt.Sprintf("user %s: policy %s was deleted since the run, so it cannot be attached again", bu.Name, arn))
				continue
			}
			restore = append(restore, Call{Op: OpAttachUserPolicy, User: bu.Name, PolicyARN: arn})
		}
	}
	for _, bu := range b.Users {
		u := s.users[bu.Name]
		if !present(&bu) {
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

	// 2. The memberships the run added, once a fresh read shows the
	// direct policies back (IAM is eventually consistent).
	if len(restore) > 0 && !o.DryRun {
		if s, err = x.settled(ctx, "direct policies restored", func(s *state) []Gap { return restoredDirect(s, b) }); err != nil {
			return x.rep, err
		}
	}
	var leave []Call
	for _, pu := range p.Users {
		bu, u := byName[pu.Name], s.users[pu.Name]
		if bu == nil || !present(bu) {
			continue
		}
		for _, g := range pu.Join {
			if !slices.Contains(bu.Groups, g) && slices.Contains(u.Groups, g) {
				leave = append(leave, Call{Op: OpRemoveUserFromGroup, User: pu.Name, Group: g})
			}
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

	// 4. The run's policies, once a fresh read shows nothing uses them.
	var deletePolicies []Call
	var inUse []string
	if len(detach)+len(deleteGroups) > 0 && !o.DryRun {
		s, err = x.settled(ctx, "the run's groups deleted", func(s *state) []Gap {
			var gaps []Gap
			for _, c := range deleteGroups {
				if s.groups[c.Group] != nil {
					gaps = append(gaps, Gap{User: "(group " + c.Group + ")", Lost: []string{"still listed"}})
				}
			}
			return gaps
		})
		if err != nil {
			return x.rep, err
		}
	}
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
			inUse = append(inUse, fmt.Sprintf("policy %s left in place: attached to %d entities", pol.ARN, have.AttachmentCount))
			continue
		}
		deletePolicies = append(deletePolicies, Call{Op: OpDeletePolicy, PolicyARN: pol.ARN})
	}
	x.rep.Warnings = append(x.rep.Warnings, inUse...)
	if err := x.stage(ctx, "rollback-policies", deletePolicies); err != nil {
		return x.rep, err
	}
	if o.DryRun {
		return x.rep, nil
	}

	// 5. Check that every user is back as the backup says, in what the
	// run touched; report anything else that changed since.
	s, err = x.settled(ctx, "of the rollback", func(s *state) []Gap { return restored(s, b, p) })
	if err != nil {
		return x.rep, err
	}
	x.rep.Warnings = append(x.rep.Warnings, changedSince(s, b)...)
	x.logf("Rolled back: %d user(s) are as the backup says.", len(b.Users))
	return x.rep, x.note(Entry{Event: "complete", Note: "rollback"})
}

// settled waits for IAM to settle and reads until check finds nothing,
// VerifyAttempts times at most.
func (x *run) settled(ctx context.Context, stage string, check func(*state) []Gap) (*state, error) {
	var gaps []Gap
	for attempt := 1; attempt <= x.o.VerifyAttempts; attempt++ {
		if err := x.o.Sleep(ctx, x.o.Settle); err != nil {
			return nil, x.stopped(err)
		}
		s, err := x.read(ctx)
		if err != nil {
			return nil, x.stopped(err)
		}
		if gaps = check(s); len(gaps) == 0 {
			return s, nil
		}
	}
	err := &VerifyError{Stage: stage, Gaps: gaps}
	_ = x.note(Entry{Event: "stopped", Error: err.Error()})
	return nil, err
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

// restoredDirect lists the users whose backed-up direct policies are not
// all back.
func restoredDirect(s *state, b *Backup) []Gap {
	var out []Gap
	for i := range b.Users {
		bu := &b.Users[i]
		u := s.users[bu.Name]
		if !bu.same(u) {
			continue
		}
		gap := Gap{User: bu.Name}
		for _, arn := range bu.Managed {
			if !hasManaged(u.AttachedPolicies, arn) && (!strings.Contains(arn, ":"+b.AccountID+":") || s.policies[arn] != nil) {
				gap.Lost = append(gap.Lost, arn)
			}
		}
		for _, ip := range bu.Inline {
			if !hasInline(u.InlinePolicies, ip.Name, ip.Digest) {
				gap.Lost = append(gap.Lost, "inline "+ip.Name)
			}
		}
		if len(gap.Lost) > 0 {
			out = append(out, gap)
		}
	}
	return out
}

// restored checks what the run touched: every backed-up direct policy is
// back (inline ones with the backed-up document), every backed-up group
// membership is there, and no membership the run added is left.
func restored(s *state, b *Backup, p *plan.Plan) []Gap {
	out := restoredDirect(s, b)
	byName := b.users()
	for _, pu := range p.Users {
		bu := byName[pu.Name]
		u := s.users[pu.Name]
		if bu == nil || !bu.same(u) {
			continue
		}
		gap := Gap{User: pu.Name}
		for _, g := range bu.Groups {
			if !slices.Contains(u.Groups, g) {
				gap.Lost = append(gap.Lost, "group "+g)
			}
		}
		for _, g := range pu.Join {
			if !slices.Contains(bu.Groups, g) && slices.Contains(u.Groups, g) {
				gap.Gained = append(gap.Gained, "group "+g)
			}
		}
		if len(gap.Lost)+len(gap.Gained) > 0 {
			out = append(out, gap)
		}
	}
	return out
}

// changedSince describes what else differs from the backup: changes made
// by others after the run, which rollback leaves alone.
func changedSince(s *state, b *Backup) []string {
	var out []string
	for i := range b.Users {
		bu := &b.Users[i]
		u := s.users[bu.Name]
		if !bu.same(u) {
			continue
		}
		for _, ap := range u.AttachedPolicies {
			if !slices.Contains(bu.Managed, ap.ARN) {
				out = append(out, fmt.Sprintf("user %s: managed policy %s was attached by someone else since the run; left in place", bu.Name, ap.ARN))
			}
		}
		for _, ip := range u.InlinePolicies {
			if bu.inline(ip.Name) == nil {
				out = append(out, fmt.Sprintf("user %s: inline policy %s was put by someone else since the run; left in place", bu.Name, ip.Name))
			}
		}
		for _, g := range u.Groups {
			if !slices.Contains(bu.Groups, g) {
				out = append(out, fmt.Sprintf("user %s: in group %s, which the backup does not list; left in place", bu.Name, g))
			}
		}
	}
	return out
}
