// Package apply carries out a plan on a live account and undoes it:
// DESIGN §8. It takes a per-account lock, refuses a stale plan, backs up
// every planned user's direct policies (inline documents verbatim) before
// the first change, journals the intent and outcome of each call, makes
// the additive calls, verifies from a fresh read that every planned user
// receives all its permissions through groups, and only then makes the
// subtractive ones. A run cut short resumes from its journal; rollback
// puts the planned users back exactly as the backup says and deletes what
// the run created.
//
// At no moment does a planned user hold fewer permission sources than
// before, or one it did not hold: memberships are added to complete
// groups, direct policies go only once the groups grant them, and
// rollback restores direct policies before it removes memberships.
//
// apply reaches AWS only through the Writer and Reader interfaces, which
// internal/awsiam implements; it never imports the SDK.
package apply

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/plan"
)

// Reader reads the account as it is now, with its groups and customer
// managed policies (model.Account.GroupsKnown) and inline documents
// verbatim (model.InlinePolicy.Document), in about ⌈entities/1000⌉ calls.
type Reader interface {
	Read(ctx context.Context) (*model.Account, error)
}

// Options tune a run.
type Options struct {
	// JournalRoot holds run directories and the per-account lock files.
	JournalRoot string
	// Settle is how long to wait for IAM's eventual consistency before a
	// verification read. Verification is retried VerifyAttempts times,
	// Settle apart, before it fails.
	Settle         time.Duration
	VerifyAttempts int
	// Concurrency bounds the calls in flight within a phase (default 4).
	Concurrency int
	// DryRun reads and checks but neither locks, journals nor verifies;
	// the Writer is expected to be apply.DryRun.
	DryRun bool
	// Out receives progress lines (nil: discarded).
	Out io.Writer
	// Command describes the run in the lock file.
	Command string
	// Now and Sleep are the clock; tests replace them.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// Runner runs plans against one account.
type Runner struct {
	W    Writer
	R    Reader
	Opts Options

	// counts are the calls made, by operation.
	mu     sync.Mutex
	counts map[string]int
}

// Report says what a run did.
type Report struct {
	// Dir is the run directory (empty for a dry run).
	Dir string
	// Skipped counts the plan's actions a fresh read showed as done
	// already (a resumed run); Runner.Calls counts the writes made.
	Skipped int
	Reads   int
	// Warnings are things rollback left in place on purpose.
	Warnings []string
}

// ErrStale is returned, wrapped in *StaleError, when the account changed
// since planning (or, for a resumed run, since the backup).
var ErrStale = errors.New("stale plan")

// StaleError lists what changed.
type StaleError struct {
	Drifts []Drift
	// Since is "planning" or "the run started".
	Since string
	// Run is an earlier run directory of the same plan, if there is one:
	// the likely cause.
	Run string
}

func (e *StaleError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "stale plan: the account changed since %s; nothing was changed", e.Since)
	for i, d := range e.Drifts {
		if i == 30 {
			fmt.Fprintf(&b, "\n  and %d more", len(e.Drifts)-i)
			break
		}
		b.WriteString("\n  " + d.String())
	}
	switch {
	case e.Run != "":
		fmt.Fprintf(&b, "\nthis plan was applied already, by the run in %s: resume or roll back that run, or plan again", e.Run)
	case e.Since == "planning":
		b.WriteString("\nplan again from the account as it is now")
	default:
		b.WriteString("\nundo those changes and resume, or roll back")
	}
	return b.String()
}

func (e *StaleError) Unwrap() error { return ErrStale }

// ErrVerify is returned, wrapped in *VerifyError, when a fresh read does
// not show what the run should have achieved.
var ErrVerify = errors.New("verification failed")

// VerifyError lists the users that differ.
type VerifyError struct {
	Stage string
	Gaps  []Gap
}

func (e *VerifyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "verification %s failed for %d user(s)", e.Stage, len(e.Gaps))
	for i, g := range e.Gaps {
		if i == 20 {
			fmt.Fprintf(&b, "\n  and %d more", len(e.Gaps)-i)
			break
		}
		b.WriteString("\n  " + g.String())
	}
	return b.String()
}

func (e *VerifyError) Unwrap() error { return ErrVerify }

// StepError is a run stopped by a failed call or a cancellation. The
// account is between two states; the run directory says how to go on.
type StepError struct {
	Dir  string
	Call Call
	Err  error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("%s: %v", e.Call.String(), e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

func (r *Runner) opts() Options {
	o := r.Opts
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.DryRun {
		o.Concurrency = 1 // list the calls in plan order
	}
	if o.VerifyAttempts <= 0 {
		o.VerifyAttempts = 3
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Command == "" {
		o.Command = "iamgroups apply"
	}
	return o
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// run is one apply, resume or rollback in progress.
type run struct {
	r      *Runner
	o      Options
	p      *plan.Plan
	j      *Journal // nil for a dry run
	backup *Backup
	rep    *Report
}

func (x *run) read(ctx context.Context) (*state, error) {
	x.rep.Reads++
	acct, err := x.r.R.Read(ctx)
	if err != nil {
		return nil, fmt.Errorf("read account: %w", err)
	}
	if acct.Error != "" {
		return nil, fmt.Errorf("read account %s: %s", acct.ID, acct.Error)
	}
	if acct.ID != x.p.AccountID {
		return nil, fmt.Errorf("the credentials reach account %s, but the plan is for account %s; use credentials for %s", acct.ID, x.p.AccountID, x.p.AccountID)
	}
	if !acct.GroupsKnown {
		return nil, fmt.Errorf("read account %s: groups and customer managed policies were not read (is iam:GetAccountAuthorizationDetails allowed?)", acct.ID)
	}
	return newState(acct, x.p), nil
}

func (x *run) logf(format string, args ...any) {
	fmt.Fprintf(x.o.Out, format+"\n", args...)
}

func (x *run) note(e Entry) error {
	if x.j == nil {
		return nil
	}
	_, err := x.j.append(e)
	return err
}

// Apply carries out a plan: lock, stale check, journal and backup, then
// the phases. planData is the plan file as read, kept in the run
// directory.
func (r *Runner) Apply(ctx context.Context, p *plan.Plan, planData []byte) (*Report, error) {
	o := r.opts()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	x := &run{r: r, o: o, p: p, rep: &Report{}}
	if !o.DryRun {
		lock, err := LockAccount(o.JournalRoot, p.AccountID, o.Command)
		if err != nil {
			return nil, err
		}
		defer lock.Release()
	}
	s, err := x.read(ctx)
	if err != nil {
		return nil, err
	}
	if drift := freshDrift(s, p); len(drift) > 0 {
		return nil, &StaleError{Drifts: drift, Since: "planning", Run: earlierRun(o.JournalRoot, p.AccountID, planData)}
	}
	if !o.DryRun {
		j, err := createJournal(o.JournalRoot, p.AccountID, planData, o.Now())
		if err != nil {
			return nil, err
		}
		defer j.Close()
		x.j = j
		x.rep.Dir = j.Dir
		if err := x.start(s, planData, "apply"); err != nil {
			return x.rep, err
		}
	}
	return x.rep, x.phases(ctx, s)
}

// start backs up the planned users and opens the log.
func (x *run) start(s *state, planData []byte, kind string) error {
	b, err := takeBackup(s, x.p, sha256Hex(planData), x.o.Now())
	if err != nil {
		return err
	}
	if err := x.j.writeBackup(b); err != nil {
		return err
	}
	x.backup = b
	x.logf("Backed up %d user(s) to %s.", len(b.Users), x.j.Dir)
	return x.note(Entry{Event: "start", Note: kind})
}

// Resume continues the run in dir, skipping what a fresh read shows done.
func (r *Runner) Resume(ctx context.Context, dir string) (*Report, error) {
	o := r.opts()
	p, planData, b, err := loadRun(dir)
	if err != nil {
		return nil, err
	}
	entries, err := ReadEntries(dir)
	if err != nil {
		return nil, err
	}
	if rolledBack(entries) {
		return nil, fmt.Errorf("resume %s: the run was rolled back (in part or in full); finish the rollback, or plan again", dir)
	}
	lock, err := LockAccount(rootOf(dir), p.AccountID, o.Command)
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	j, err := openJournal(dir)
	if err != nil {
		return nil, err
	}
	defer j.Close()
	x := &run{r: r, o: o, p: p, j: j, backup: b, rep: &Report{Dir: dir}}
	s, err := x.read(ctx)
	if err != nil {
		return x.rep, err
	}
	if b == nil {
		// Stopped before the backup, so before any change.
		if drift := freshDrift(s, p); len(drift) > 0 {
			return x.rep, &StaleError{Drifts: drift, Since: "planning"}
		}
		if err := x.start(s, planData, "apply"); err != nil {
			return x.rep, err
		}
	} else {
		if drift := resumeDrift(s, p, b); len(drift) > 0 {
			return x.rep, &StaleError{Drifts: drift, Since: "the run started"}
		}
		if err := x.note(Entry{Event: "start", Note: "resume"}); err != nil {
			return x.rep, err
		}
	}
	return x.rep, x.phases(ctx, s)
}

// rolledBack reports whether a rollback of the run made a call or
// finished: after that, resuming would undo the rollback.
func rolledBack(entries []Entry) bool {
	inRollback := false
	for _, e := range entries {
		if e.Event == "start" {
			inRollback = e.Note == "rollback"
		}
		if inRollback && (e.Event == "intent" || e.Event == "complete") {
			return true
		}
	}
	return false
}

// phases runs additive → settle → verify → subtractive → verify.
func (x *run) phases(ctx context.Context, s *state) error {
	additive, skipped := x.pending(s, true)
	x.rep.Skipped += skipped
	if err := x.stage(ctx, "additive", additive); err != nil {
		return err
	}
	if x.o.DryRun {
		subtractive, _ := x.pending(s, false)
		return x.stage(ctx, "subtractive", subtractive)
	}
	s, err := x.verify(ctx, "before removing direct policies", false)
	if err != nil {
		return err
	}
	subtractive, skipped := x.pending(s, false)
	x.rep.Skipped += skipped
	if err := x.stage(ctx, "subtractive", subtractive); err != nil {
		return err
	}
	if _, err := x.verify(ctx, "after removing direct policies", true); err != nil {
		return err
	}
	x.logf("Done: %d user(s) now receive their permissions through groups only.", len(x.p.Users))
	return x.note(Entry{Event: "complete"})
}

// verify waits for IAM to settle, then checks the planned users from a
// fresh read, retrying while IAM catches up.
func (x *run) verify(ctx context.Context, stage string, final bool) (*state, error) {
	if err := x.note(Entry{Event: "phase", Phase: "verify", Note: stage}); err != nil {
		return nil, err
	}
	var gaps []Gap
	for attempt := 1; ; attempt++ {
		if err := x.o.Sleep(ctx, x.o.Settle); err != nil {
			return nil, x.stopped(err)
		}
		s, err := x.read(ctx)
		if err != nil {
			return nil, x.stopped(err)
		}
		if gaps = verify(s, x.p, x.backup, final); len(gaps) == 0 {
			x.logf("Verified %d user(s) %s.", len(x.p.Users), stage)
			return s, x.note(Entry{Event: "verified", Phase: "verify", Note: stage})
		}
		if attempt >= x.o.VerifyAttempts {
			break
		}
	}
	err := &VerifyError{Stage: stage, Gaps: gaps}
	_ = x.note(Entry{Event: "stopped", Error: err.Error()})
	return nil, err
}

func (x *run) stopped(err error) error {
	_ = x.note(Entry{Event: "stopped", Error: err.Error()})
	return err
}

// pending lists the plan's additive (or subtractive) actions that the
// state does not show done, in plan order, and counts those it does.
func (x *run) pending(s *state, additive bool) (calls []Call, done int) {
	policies := map[string]plan.Policy{}
	for _, pol := range x.p.Policies {
		policies[pol.Name] = pol
	}
	groups := map[string]plan.Group{}
	for _, g := range x.p.Groups {
		groups[g.Name] = g
	}
	for _, a := range x.p.Actions {
		isAdd := a.Op != plan.OpDetachUserPolicy && a.Op != plan.OpDeleteUserPolicy
		if isAdd != additive {
			continue
		}
		if !x.o.DryRun && s.isDone(a) {
			done++
			continue
		}
		c := Call{Op: a.Op, User: a.User, Group: a.Group, PolicyARN: a.PolicyARN, PolicyName: a.PolicyName}
		switch a.Op {
		case plan.OpCreatePolicy:
			pol := policies[a.PolicyName]
			c.PolicyARN, c.Path, c.Description, c.Document = "", pol.Path, pol.Description, pol.Document
		case plan.OpCreateGroup:
			c.Path = groups[a.Group].Path
		}
		calls = append(calls, c)
	}
	return calls, done
}

// isDone reports whether the state shows an action's effect.
func (s *state) isDone(a plan.Action) bool {
	u := s.users[a.User]
	switch a.Op {
	case plan.OpCreatePolicy:
		return s.policies[a.PolicyARN] != nil
	case plan.OpCreateGroup:
		return s.groups[a.Group] != nil
	case plan.OpAttachGroup:
		g := s.groups[a.Group]
		return g != nil && slices.ContainsFunc(g.AttachedPolicies, func(p model.AttachedPolicy) bool { return p.ARN == a.PolicyARN })
	case plan.OpAddUser:
		return u != nil && slices.Contains(u.Groups, a.Group)
	case plan.OpDetachUserPolicy:
		return u == nil || !slices.ContainsFunc(u.AttachedPolicies, func(p model.AttachedPolicy) bool { return p.ARN == a.PolicyARN })
	case plan.OpDeleteUserPolicy:
		return u == nil || !slices.ContainsFunc(u.InlinePolicies, func(p model.InlinePolicy) bool { return p.Name == a.PolicyName })
	}
	return false
}

// stage makes calls, grouped by operation in the order given (each group
// completes before the next starts, so a group is complete before anyone
// joins it), up to Concurrency at a time within a group. The first
// failure stops the stage.
func (x *run) stage(ctx context.Context, phase string, calls []Call) error {
	if len(calls) == 0 {
		return nil
	}
	if err := x.note(Entry{Event: "phase", Phase: phase}); err != nil {
		return err
	}
	x.logf("%s: %d call(s).", phaseTitle[phase], len(calls))
	for len(calls) > 0 {
		n := 1
		for n < len(calls) && calls[n].Op == calls[0].Op {
			n++
		}
		batch := calls[:n]
		calls = calls[n:]
		exists, err := x.batch(ctx, phase, batch)
		if err != nil {
			return err
		}
		if len(exists) > 0 && !x.o.DryRun {
			// Something the run creates was there already: a call whose
			// answer a crash lost, or someone else's. Accept it only if
			// it holds nothing the plan does not put there, and check
			// before anything is attached to it or anyone joins it.
			s, err := x.read(ctx)
			if err != nil {
				return x.stopped(err)
			}
			if drift := newEntityDrift(s, x.p); len(drift) > 0 {
				var lines []string
				for _, d := range drift {
					lines = append(lines, d.String())
				}
				err := fmt.Errorf("what the plan creates exists already with other content (someone else's?): %s", strings.Join(lines, "; "))
				_ = x.note(Entry{Event: "stopped", Phase: phase, Error: err.Error()})
				return &StepError{Dir: x.rep.Dir, Call: exists[0], Err: err}
			}
		}
	}
	return nil
}

// phaseTitle names the phases for people.
var phaseTitle = map[string]string{
	"additive":             "Additive phase (policies, groups, attachments, memberships)",
	"subtractive":          "Subtractive phase (direct policies)",
	"rollback-restore":     "Restoring direct policies",
	"rollback-memberships": "Removing the memberships the run added",
	"rollback-groups":      "Deleting the groups the run created",
	"rollback-policies":    "Deleting the policies the run created",
}

// batch makes calls of one operation concurrently and returns the
// create calls answered "already exists".
func (x *run) batch(ctx context.Context, phase string, calls []Call) ([]Call, error) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(x.o.Concurrency)
	var mu sync.Mutex
	var exists []Call
	for _, c := range calls {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			outcome, err := x.call(gctx, phase, c)
			if outcome == "exists" {
				mu.Lock()
				exists = append(exists, c)
				mu.Unlock()
			}
			return err
		})
	}
	err := g.Wait()
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		var step *StepError
		if !errors.As(err, &step) {
			err = &StepError{Dir: x.rep.Dir, Call: calls[0], Err: err}
		}
		_ = x.note(Entry{Event: "stopped", Phase: phase, Error: err.Error()})
	}
	return exists, err
}

// call journals the intent, makes the call and journals the outcome.
func (x *run) call(ctx context.Context, phase string, c Call) (string, error) {
	logged := c
	logged.Document = "" // the plan file and the backup hold the documents
	intent, err := x.jAppend(Entry{Event: "intent", Phase: phase, Call: &logged})
	if err != nil {
		return "", err
	}
	x.r.count(c.Op)
	err = x.r.W.Do(ctx, c)
	outcome := "done"
	switch code := errorCode(err); {
	case err == nil:
	case code == codeExists && (c.Op == OpCreatePolicy || c.Op == OpCreateGroup):
		outcome, err = "exists", nil
	case code == codeNoSuchEntity && isRemoval(c.Op):
		outcome, err = "absent", nil
	default:
		outcome = "failed"
	}
	e := Entry{Event: outcome, Phase: phase, Step: intent.Step}
	if err != nil {
		e.Error = err.Error()
	}
	if _, jerr := x.jAppend(e); jerr != nil && err == nil {
		err = jerr
	}
	if err != nil {
		return outcome, &StepError{Dir: x.rep.Dir, Call: c, Err: err}
	}
	return outcome, nil
}

// jAppend journals an entry unless this is a dry run.
func (x *run) jAppend(e Entry) (Entry, error) {
	if x.j == nil {
		return e, nil
	}
	return x.j.append(e)
}

// isRemoval reports operations whose "no such entity" answer means the
// effect is in place.
func isRemoval(op string) bool {
	switch op {
	case OpDetachUserPolicy, OpDeleteUserPolicy, OpRemoveUserFromGroup, OpDetachGroupPolicy, OpDeleteGroup, OpDeletePolicy:
		return true
	}
	return false
}

func (r *Runner) count(op string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.counts == nil {
		r.counts = map[string]int{}
	}
	r.counts[op]++
}

// Calls returns the writes made so far, by operation.
func (r *Runner) Calls() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.counts)
}
