package watch

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iamgroups/iamgroups/internal/store"
	"github.com/iamgroups/iamgroups/internal/web"
)

// fakeScans records the scans a scheduler starts and how many overlap.
type fakeScans struct {
	mu        sync.Mutex
	calls     map[string]int
	triggers  []string
	running   map[string]int
	maxTarget int // most scans of one target at once
	inFlight  int
	maxAll    int
	hold      time.Duration
	release   chan struct{} // when set, scans wait for it (or ctx)
	nextID    atomic.Int64
}

func newFakeScans(hold time.Duration) *fakeScans {
	return &fakeScans{calls: map[string]int{}, running: map[string]int{}, hold: hold}
}

func (f *fakeScans) scan(ctx context.Context, t *Target, trigger string) (store.Run, error) {
	id := f.nextID.Add(1)
	f.mu.Lock()
	f.calls[t.Name]++
	f.triggers = append(f.triggers, t.Name+"/"+trigger)
	f.running[t.Name]++
	f.inFlight++
	f.maxTarget = max(f.maxTarget, f.running[t.Name])
	f.maxAll = max(f.maxAll, f.inFlight)
	release := f.release
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.running[t.Name]--
		f.inFlight--
		f.mu.Unlock()
	}()
	var wait <-chan time.Time
	if release == nil {
		wait = time.After(f.hold)
	}
	select {
	case <-wait:
	case <-release:
	case <-ctx.Done():
		return store.Run{ID: id, Target: t.Name, Status: store.RunRunning}, ErrInterrupted
	}
	return store.Run{ID: id, Target: t.Name, Status: store.RunOK, StartedAt: time.Now()}, nil
}

func (f *fakeScans) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[name]
}

// every is a target scanned at a fixed, test-sized interval.
func every(name string, d time.Duration) Target {
	return Target{Name: name, Demo: true, Schedule: interval{every: d, text: d.String()}}
}

// eventually waits for cond, failing the test after a few seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func start(t *testing.T, s *Scheduler) (stop func() []int64) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan []int64, 1)
	go func() { done <- s.Run(ctx) }()
	eventually(t, "the scheduler to start", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.ctx != nil
	})
	var once sync.Once
	var stopped []int64
	stop = func() []int64 {
		once.Do(func() {
			cancel()
			select {
			case stopped = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not return after cancellation")
			}
		})
		return stopped
	}
	t.Cleanup(func() { stop() })
	return stop
}

func TestScansAtStartThenOnInterval(t *testing.T) {
	f := newFakeScans(0)
	s := NewScheduler([]Target{every("a", 30*time.Millisecond), every("b", time.Hour)}, f.scan, SchedulerOptions{})
	begin := time.Now()
	stop := start(t, s)
	eventually(t, "three scans of a", func() bool { return f.count("a") >= 3 })
	if d := time.Since(begin); d < 60*time.Millisecond {
		t.Errorf("three scans in %v: the interval was not waited", d)
	}
	eventually(t, "the first scan of b", func() bool { return f.count("b") == 1 })
	var next time.Time
	for _, ts := range s.Targets() {
		if ts.Name == "b" {
			next = ts.Next
			if ts.Schedule != "every 1h0m0s" || len(ts.Flags) != 1 || ts.Flags[0] != "--demo" || ts.LastStatus != store.RunOK || ts.LastRunAt.IsZero() {
				t.Errorf("status of b: %+v", ts)
			}
		}
	}
	if until := time.Until(next); until < 59*time.Minute || until > time.Hour {
		t.Errorf("b's next scan in %v, want about 1h", until)
	}
	stop()
	if f.count("b") != 1 {
		t.Errorf("b scanned %d times in its first hour", f.count("b"))
	}
}

func TestNoOverlappingScansOfOneTarget(t *testing.T) {
	f := newFakeScans(120 * time.Millisecond)
	s := NewScheduler([]Target{every("slow", 10*time.Millisecond)}, f.scan, SchedulerOptions{})
	stop := start(t, s)
	eventually(t, "the first scan", func() bool { return f.count("slow") >= 1 })
	for range 5 {
		if ok, err := s.Trigger(context.Background(), "slow"); ok || !errors.Is(err, web.ErrAlreadyRunning) {
			t.Errorf("Trigger during a scan: %v, %v; want ErrAlreadyRunning", ok, err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	stop()
	if f.maxTarget != 1 {
		t.Errorf("%d scans of one target at once", f.maxTarget)
	}
	if n := f.count("slow"); n < 2 || n > 4 {
		t.Errorf("%d scans of 120ms in 300ms", n)
	}
}

func TestConcurrencyIsBounded(t *testing.T) {
	f := newFakeScans(40 * time.Millisecond)
	var targets []Target
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		targets = append(targets, every(n, time.Hour))
	}
	s := NewScheduler(targets, f.scan, SchedulerOptions{Concurrency: 2})
	stop := start(t, s)
	eventually(t, "every target scanned", func() bool {
		for _, n := range []string{"a", "b", "c", "d", "e"} {
			if f.count(n) != 1 {
				return false
			}
		}
		return true
	})
	stop()
	if f.maxAll != 2 {
		t.Errorf("at most %d scans at once, want 2", f.maxAll)
	}
}

func TestTrigger(t *testing.T) {
	f := newFakeScans(0)
	f.release = make(chan struct{})
	s := NewScheduler([]Target{every("prod", time.Hour)}, f.scan, SchedulerOptions{})
	if ok, err := s.Trigger(context.Background(), "prod"); ok || err != nil {
		t.Errorf("Trigger before Run: %v, %v; want false, nil", ok, err)
	}
	stop := start(t, s)
	if _, err := s.Trigger(context.Background(), "dev"); !errors.Is(err, web.ErrUnknownTarget) || err.Error() != `trigger "dev": unknown target` {
		t.Errorf("unknown target: %v", err)
	}
	eventually(t, "the scan at start", func() bool { return f.count("prod") == 1 })
	if _, err := s.Trigger(context.Background(), "prod"); !errors.Is(err, ErrAlreadyRunning) {
		t.Errorf("while running: %v", err)
	}
	close(f.release) // every scan from now on returns at once
	eventually(t, "the scan at start to end", func() bool { return !s.Targets()[0].Running })
	ok, err := s.Trigger(context.Background(), "prod")
	if !ok || err != nil {
		t.Fatalf("Trigger: %v, %v", ok, err)
	}
	eventually(t, "the triggered scan", func() bool { return f.count("prod") == 2 })
	stop()
	if f.triggers[0] != "prod/schedule" || f.triggers[1] != "prod/api" {
		t.Errorf("triggers %v", f.triggers)
	}
	if ok, err := s.Trigger(context.Background(), "prod"); ok || err != nil {
		t.Errorf("Trigger after Run: %v, %v; want false, nil", ok, err)
	}
	if s.Targets()[0].Next != (time.Time{}) {
		t.Errorf("a stopped scheduler shows a next scan")
	}
}

func TestCancellationInterruptsRunningScans(t *testing.T) {
	f := newFakeScans(time.Hour)
	s := NewScheduler([]Target{every("a", time.Hour), every("b", time.Hour)}, f.scan, SchedulerOptions{})
	stop := start(t, s)
	eventually(t, "both scans to start", func() bool { return f.count("a") == 1 && f.count("b") == 1 })
	stopped := stop()
	if len(stopped) != 2 {
		t.Errorf("interrupted runs %v, want two", stopped)
	}
	for _, ts := range s.Targets() {
		if ts.Running || ts.LastStatus != store.RunInterrupted {
			t.Errorf("%s after shutdown: %+v", ts.Name, ts)
		}
	}
}

// The scheduler is what the web server calls.
var _ web.Scheduler = (*Scheduler)(nil)

func TestCronTargetWaitsForItsTime(t *testing.T) {
	sched, err := ParseCron("0 0 1 1 *") // once a year
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeScans(0)
	s := NewScheduler([]Target{{Name: "yearly", Demo: true, Schedule: sched}}, f.scan, SchedulerOptions{})
	stop := start(t, s)
	eventually(t, "the scan at start", func() bool { return f.count("yearly") == 1 && !s.Targets()[0].Running })
	eventually(t, "the next time", func() bool { return s.Targets()[0].Next.After(time.Now()) })
	next := s.Targets()[0].Next
	if next.Month() != time.January || next.Day() != 1 || next.Hour() != 0 || next.Minute() != 0 {
		t.Errorf("next scan %v, want the 1st of January at 00:00", next)
	}
	stop()
}
