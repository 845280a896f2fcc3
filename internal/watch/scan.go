package watch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/iamgroups/iamgroups/internal/awsiam"
	"github.com/iamgroups/iamgroups/internal/demo"
	"github.com/iamgroups/iamgroups/internal/exempt"
	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/notify"
	"github.com/iamgroups/iamgroups/internal/rule"
	"github.com/iamgroups/iamgroups/internal/snapshot"
	"github.com/iamgroups/iamgroups/internal/store"
)

// Collection is what reading a target produced.
type Collection struct {
	Accounts []*model.Account
	// Calls counts the AWS API calls made, by operation (live targets),
	// also when the collection failed part way.
	Calls    map[string]int
	Warnings []string
}

// Collect reads a target: the demo, a snapshot file, one live account or
// a whole Organization. A live collection's calls are counted even when it
// fails.
func Collect(ctx context.Context, t *Target) (*Collection, error) {
	switch {
	case t.Demo:
		accounts, err := snapshot.Decode(demo.Account, demo.Name, snapshot.Options{Kind: "demo"})
		if err != nil {
			return &Collection{}, fmt.Errorf("load the demo account: %w", err)
		}
		return &Collection{Accounts: accounts}, nil
	case t.Snapshot != "":
		accounts, err := snapshot.ReadFile(t.Snapshot, snapshot.Options{})
		if err != nil {
			return &Collection{}, fmt.Errorf("read snapshot: %w", err)
		}
		return &Collection{Accounts: accounts}, nil
	}
	method := awsiam.MethodAuto
	if t.Method != "" {
		method = awsiam.Method(t.Method)
	}
	s, err := awsiam.NewSession(ctx, awsiam.Options{Profile: t.Profile, Region: t.Region, EndpointURL: t.EndpointURL,
		RoleARN: t.RoleARN, ExternalID: t.ExternalID})
	if err != nil {
		return &Collection{}, err
	}
	c := &Collection{}
	co := awsiam.CollectOptions{Method: method}
	if t.Org {
		c.Accounts, c.Warnings, err = awsiam.CollectOrg(ctx, s, co, awsiam.OrgOptions{RoleName: t.OrgRoleName, Accounts: t.Accounts})
	} else {
		var a *model.Account
		if a, err = awsiam.Collect(ctx, s, co); a != nil {
			c.Accounts = []*model.Account{a}
		}
	}
	c.Calls = s.Calls.Counts()
	return c, err
}

// Evaluate runs every rule over the accounts and applies the exemptions as
// of asOf: an exemption that expired before asOf no longer applies. The
// results are sorted; the warnings name expired exemptions and what the
// sources reported.
func Evaluate(accounts []*model.Account, exemptions *exempt.Config, asOf time.Time) ([]rule.Result, []string) {
	var results []rule.Result
	var warnings []string
	for _, a := range accounts {
		for _, r := range rule.Registry {
			results = append(results, r.Check(a)...)
		}
		warnings = append(warnings, a.Warnings...)
	}
	warnings = append(warnings, exemptions.Apply(accounts, results, asOf)...)
	rule.Sort(results)
	return results, warnings
}

// maxRunError bounds the error text recorded with a run.
const maxRunError = 2000

// Outcome is what a completed collection hands the store: the status (ok,
// or partial when an account or a user could not be read), the collection
// method, the accounts covered and every result.
func Outcome(accounts []*model.Account, results []rule.Result, calls map[string]int, finished time.Time) store.RunEnd {
	end := store.RunEnd{Status: store.RunOK, FinishedAt: finished, APICalls: calls, Results: results}
	var methods, problems []string
	for _, a := range accounts {
		end.Accounts = append(end.Accounts, a.ID)
		m := a.Source.Method
		if a.Source.Kind == "demo" || a.Source.Kind == "snapshot" {
			m = a.Source.Kind
		}
		if m != "" && !slices.Contains(methods, m) {
			methods = append(methods, m)
		}
		if a.Error != "" {
			problems = append(problems, "account "+a.ID+": "+a.Error)
		}
		if a.Partial {
			problems = append(problems, a.Warnings...)
		}
	}
	slices.Sort(methods)
	end.Method = strings.Join(methods, "+")
	users := 0 // ERROR users; an unreadable account is one ERROR result without a user
	errored := false
	for i := range results {
		if results[i].Status == rule.Error {
			errored = true
			if results[i].UserName != "" {
				users++
			}
		}
	}
	if users > 0 {
		problems = append(problems, fmt.Sprintf("%d %s could not be evaluated", users, plural(users, "user", "users")))
	}
	if len(problems) > 0 || errored {
		end.Status = store.RunPartial
		end.Error = truncate(strings.Join(problems, "; "), maxRunError)
	}
	return end
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Notifier takes events; *notify.Notifier is one.
type Notifier interface {
	Notify(notify.Event)
}

// Scanner scans one target: it records the run, collects, evaluates and
// records the results, and notifies the changes or the failure.
type Scanner struct {
	Store      store.Store
	Exemptions *exempt.Config
	// Notifier, when set, receives the run's events.
	Notifier Notifier
	// Logger receives a line per run (default: discarded).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Collect reads a target (default Collect).
	Collect func(context.Context, *Target) (*Collection, error)
}

// storeTimeout bounds a store write that must complete after the scan's
// context ended (shutdown).
const storeTimeout = 30 * time.Second

// ErrInterrupted is returned by Scan when its context ended before the
// collection did. The run is left running in the store: the caller marks
// it interrupted (Store.InterruptRun with the run's ID).
var ErrInterrupted = errors.New("scan interrupted")

// Scan runs one scan of t. trigger is "schedule", "api" or "cli". A
// collection that fails is a failed run, not an error; Scan returns an
// error when the store cannot record the run, or ErrInterrupted (with the
// run's ID) when ctx ends during the collection.
func (s *Scanner) Scan(ctx context.Context, t *Target, trigger string) (store.Run, error) {
	now, collect, log := s.Now, s.Collect, s.Logger
	if now == nil {
		now = time.Now
	}
	if collect == nil {
		collect = Collect
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	started := now()
	id, err := s.Store.BeginRun(ctx, store.RunStart{Target: t.Name, Trigger: trigger, Source: t.Source(), StartedAt: started})
	if err != nil {
		return store.Run{}, fmt.Errorf("begin run of %s: %w", t.Name, err)
	}
	log = log.With("target", t.Name, "run", id)
	log.Info("scan started", "trigger", trigger, "source", t.Source())

	c, cerr := collect(ctx, t)
	if c == nil {
		c = &Collection{}
	}
	if ctx.Err() != nil {
		log.Warn("scan interrupted", "after", now().Sub(started).Round(time.Millisecond))
		return store.Run{ID: id, Target: t.Name, Status: store.RunRunning, StartedAt: started}, fmt.Errorf("scan %s (run %d): %w", t.Name, id, ErrInterrupted)
	}
	var end store.RunEnd
	if cerr != nil {
		end = store.RunEnd{Status: store.RunFailed, FinishedAt: now(), APICalls: c.Calls, Error: truncate(cerr.Error(), maxRunError)}
	} else {
		asOf := now()
		if t.Demo && len(c.Accounts) > 0 && !c.Accounts[0].Source.CapturedAt.IsZero() {
			// The demo is a picture of one day; its exemptions expire as
			// of that day, as in `audit --demo`.
			asOf = c.Accounts[0].Source.CapturedAt
		}
		results, warnings := Evaluate(c.Accounts, s.Exemptions, asOf)
		end = Outcome(c.Accounts, results, c.Calls, now())
		for _, w := range append(c.Warnings, warnings...) {
			log.Warn("scan warning", "warning", w)
		}
	}
	// The collection is done: record it even if shutdown began meanwhile.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	changes, err := s.Store.FinishRun(wctx, id, end)
	if err != nil {
		return store.Run{ID: id, Target: t.Name, Status: store.RunRunning, StartedAt: started}, fmt.Errorf("record run %d of %s: %w", id, t.Name, err)
	}
	run, err := s.Store.Run(wctx, id)
	if err != nil {
		return store.Run{}, fmt.Errorf("read run %d of %s: %w", id, t.Name, err)
	}
	attrs := []any{"status", run.Status, "method", run.Method, "duration", run.Duration().Round(time.Millisecond),
		"users", run.Summary.Users, "fail", run.Summary.Fail, "exempt", run.Summary.Exempt, "error", run.Summary.Error,
		"new", run.New + run.Reopened, "resolved", run.Resolved}
	if end.Status == store.RunFailed {
		log.Error("scan failed", append(attrs, "reason", end.Error)...)
	} else {
		log.Info("scan finished", attrs...)
	}
	if s.Notifier != nil {
		for _, e := range Events(run, changes) {
			s.Notifier.Notify(e)
		}
	}
	return run, nil
}

// Events are the notifications of a finished run: one for its new (and
// reopened) findings, one for its resolved ones, or one for its failure.
func Events(run store.Run, changes []store.Change) []notify.Event {
	at := run.FinishedAt
	if run.Status == store.RunFailed {
		return []notify.Event{{Kind: notify.KindFailed, Target: run.Target, RunID: run.ID, At: at, Error: run.Error}}
	}
	var opened, resolved []notify.Finding
	for _, c := range changes {
		f := notify.Finding{AccountID: c.Finding.AccountID, UserName: c.Finding.UserName, UserARN: c.Finding.UserARN}
		switch c.Kind {
		case store.ChangeNew, store.ChangeReopened:
			f.Reopened = c.Kind == store.ChangeReopened
			for _, v := range c.Finding.Evidence.Violations {
				if v.Kind == "inline" {
					f.Policies = append(f.Policies, "inline "+v.Name)
				} else {
					f.Policies = append(f.Policies, v.Name)
				}
			}
			opened = append(opened, f)
		case store.ChangeResolved:
			resolved = append(resolved, f)
		}
	}
	// People read names: list by account, then user name.
	byName := func(a, b notify.Finding) int {
		return cmp.Or(strings.Compare(a.AccountID, b.AccountID), strings.Compare(a.UserName, b.UserName), strings.Compare(a.UserARN, b.UserARN))
	}
	slices.SortFunc(opened, byName)
	slices.SortFunc(resolved, byName)
	var out []notify.Event
	if len(opened) > 0 {
		out = append(out, notify.Event{Kind: notify.KindNew, Target: run.Target, RunID: run.ID, At: at, Findings: opened})
	}
	if len(resolved) > 0 {
		out = append(out, notify.Event{Kind: notify.KindResolved, Target: run.Target, RunID: run.ID, At: at, Findings: resolved})
	}
	return out
}
