package watch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/iamgroups/iamgroups/internal/store"
	"github.com/iamgroups/iamgroups/internal/web"
)

// Errors of Trigger: the web package's, which the API maps to 404 and 409.
var (
	// ErrUnknownTarget: no target has that name.
	ErrUnknownTarget = web.ErrUnknownTarget
	// ErrAlreadyRunning: the target is being scanned (or waits for a
	// slot); a second scan at once is refused.
	ErrAlreadyRunning = web.ErrAlreadyRunning
)

// ScanFunc scans one target; (*Scanner).Scan is one.
type ScanFunc func(ctx context.Context, t *Target, trigger string) (store.Run, error)

// SchedulerOptions tune a Scheduler; zero values take the defaults.
type SchedulerOptions struct {
	// Concurrency bounds the scans that run at once (default
	// DefaultConcurrency).
	Concurrency int
	// Logger receives skipped ticks and scan errors (default: discarded).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Store, when set, gives each target's last run at start, so that
	// Targets shows it before the first scan of this process.
	Store store.Store
}

// Scheduler scans each target on its schedule, first at start, never two
// scans of one target at once, at most Concurrency scans in all, and on
// demand through Trigger. It is the web server's web.Scheduler.
type Scheduler struct {
	targets []*Target
	scan    ScanFunc
	opts    SchedulerOptions
	sem     chan struct{}

	mu      sync.Mutex
	state   map[string]*targetState
	ctx     context.Context // the running scheduler's; nil when not running
	scans   sync.WaitGroup  // triggered scans
	stopped []int64         // runs cut short by the end of ctx
}

// targetState is what the scheduler knows of one target.
type targetState struct {
	busy bool // scanning, or waiting for a slot
	next time.Time
	last *store.Run
}

// NewScheduler returns a scheduler of targets; Run starts it.
func NewScheduler(targets []Target, scan ScanFunc, o SchedulerOptions) *Scheduler {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Scheduler{scan: scan, opts: o, sem: make(chan struct{}, o.Concurrency), state: map[string]*targetState{}}
	for i := range targets {
		t := targets[i]
		s.targets = append(s.targets, &t)
		s.state[t.Name] = &targetState{}
	}
	return s
}

// Run scans every target on its schedule until ctx ends, then waits for
// the scans in progress to return (their contexts end too) and returns
// the IDs of the runs that were cut short, which the caller records as
// interrupted.
func (s *Scheduler) Run(ctx context.Context) []int64 {
	if s.opts.Store != nil {
		s.loadLast(ctx)
	}
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
	var loops sync.WaitGroup
	for _, t := range s.targets {
		loops.Add(1)
		go func() {
			defer loops.Done()
			s.loop(ctx, t)
		}()
	}
	<-ctx.Done()
	s.mu.Lock()
	s.ctx = nil // Trigger refuses from now on
	s.mu.Unlock()
	loops.Wait()
	s.scans.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.stopped)
}

// loadLast reads each target's last run from the store.
func (s *Scheduler) loadLast(ctx context.Context) {
	for _, t := range s.targets {
		runs, err := s.opts.Store.Runs(ctx, store.RunQuery{Target: t.Name, Limit: 1})
		if err != nil {
			s.opts.Logger.Warn("cannot read the last run", "target", t.Name, "error", err)
			continue
		}
		if len(runs) == 1 {
			s.mu.Lock()
			s.state[t.Name].last = &runs[0]
			s.mu.Unlock()
		}
	}
}

// loop scans t at start and then on its schedule.
func (s *Scheduler) loop(ctx context.Context, t *Target) {
	next := s.opts.Now()
	for {
		s.mu.Lock()
		s.state[t.Name].next = next
		s.mu.Unlock()
		timer := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		planned := next
		if s.claim(t.Name) {
			s.execute(ctx, t, "schedule")
		} else {
			s.opts.Logger.Info("scheduled scan skipped: the previous scan of this target is still running", "target", t.Name)
		}
		next = t.Schedule.Next(planned)
		if now := s.opts.Now(); !next.After(now) {
			// The scan took longer than the interval: do not catch up.
			next = t.Schedule.Next(now)
		}
	}
}

// claim marks a target busy; false if it already is.
func (s *Scheduler) claim(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.state[name]
	if st.busy {
		return false
	}
	st.busy = true
	return true
}

// execute scans a claimed target once a slot is free, and releases it.
func (s *Scheduler) execute(ctx context.Context, t *Target, trigger string) {
	defer func() {
		s.mu.Lock()
		s.state[t.Name].busy = false
		s.mu.Unlock()
	}()
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return
	}
	defer func() { <-s.sem }()
	run, err := s.scan(ctx, t, trigger)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case errors.Is(err, ErrInterrupted):
		s.stopped = append(s.stopped, run.ID)
		run.Status = store.RunInterrupted
		s.state[t.Name].last = &run
	case err != nil:
		s.opts.Logger.Error("scan not recorded", "target", t.Name, "error", err)
		if run.ID != 0 {
			// Begun but not finished: it is still running in the
			// store, and must be marked like an interrupted one.
			s.stopped = append(s.stopped, run.ID)
		}
	default:
		s.state[t.Name].last = &run
	}
}

// Trigger starts a scan of the named target now, in the background, and
// returns true once it is started (it may wait for a free slot). It
// returns ErrUnknownTarget or ErrAlreadyRunning (wrapped) when it cannot,
// and false without an error when the scheduler is not running (not
// started yet, or shutting down). The scan outlives ctx: it ends with the
// scheduler.
func (s *Scheduler) Trigger(ctx context.Context, name string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	i := slices.IndexFunc(s.targets, func(t *Target) bool { return t.Name == name })
	if i < 0 {
		return false, fmt.Errorf("trigger %q: %w", name, ErrUnknownTarget)
	}
	t := s.targets[i]
	s.mu.Lock()
	defer s.mu.Unlock()
	runCtx := s.ctx
	if runCtx == nil {
		return false, nil
	}
	st := s.state[name]
	if st.busy {
		return false, fmt.Errorf("trigger %q: %w", name, ErrAlreadyRunning)
	}
	st.busy = true
	// Added under s.mu while s.ctx is set, so before Run's Wait.
	s.scans.Add(1)
	go func() {
		defer s.scans.Done()
		s.execute(runCtx, t, "api")
	}()
	return true, nil
}

// Targets describes every target, in config order.
func (s *Scheduler) Targets() []web.Target {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]web.Target, 0, len(s.targets))
	for _, t := range s.targets {
		st := s.state[t.Name]
		wt := web.Target{Name: t.Name, Schedule: t.Schedule.String(), Running: st.busy, Flags: t.PlanFlags(),
			Org: t.Org, OrgRoleName: t.OrgRoleName}
		if s.ctx != nil {
			wt.Next = st.next
		}
		if st.last != nil {
			wt.LastStatus, wt.LastRunAt = st.last.Status, st.last.StartedAt
		}
		out = append(out, wt)
	}
	return out
}
