package watch

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamgroups/iamgroups/internal/demo"
	"github.com/iamgroups/iamgroups/internal/exempt"
	"github.com/iamgroups/iamgroups/internal/notify"
	"github.com/iamgroups/iamgroups/internal/store"
)

// openStore opens a fresh SQLite history in a temporary directory.
func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// events records the notifications a scanner sends.
type events struct {
	mu  sync.Mutex
	got []notify.Event
}

func (e *events) Notify(ev notify.Event) {
	e.mu.Lock()
	e.got = append(e.got, ev)
	e.mu.Unlock()
}

func (e *events) take() []notify.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.got
	e.got = nil
	return out
}

func users(fs []notify.Finding) string {
	var names []string
	for _, f := range fs {
		names = append(names, f.UserName)
	}
	return strings.Join(names, ",")
}

func TestScanDemo(t *testing.T) {
	st := openStore(t)
	ev := &events{}
	cfg, err := exempt.Parse(demo.Exemptions, "demo exemptions")
	if err != nil {
		t.Fatal(err)
	}
	s := &Scanner{Store: st, Exemptions: cfg, Notifier: ev}
	target := &Target{Name: "demo", Demo: true}
	run, err := s.Scan(context.Background(), target, "schedule")
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != store.RunPartial || run.Method != "demo" || run.Source != "demo" || run.Trigger != "schedule" ||
		run.Summary.Users != 27 || run.Summary.Fail != 14 || run.Summary.Exempt != 3 || run.Summary.Error != 1 ||
		run.New != 14 || len(run.Accounts) != 1 || run.Accounts[0] != "111122223333" || run.Error != "1 user could not be evaluated" {
		t.Errorf("run %+v", run)
	}
	got := ev.take()
	if len(got) != 1 || got[0].Kind != notify.KindNew || len(got[0].Findings) != 14 || got[0].RunID != run.ID || got[0].Target != "demo" {
		t.Fatalf("events %+v", got)
	}
	if f := got[0].Findings[0]; f.UserName != "amelia.chen" || strings.Join(f.Policies, ", ") != "AmazonAthenaFullAccess, AmazonS3ReadOnlyAccess, inline athena-results-bucket" {
		t.Errorf("first finding %+v", f)
	}
	// The same account again: nothing changes, nothing is sent.
	run2, err := s.Scan(context.Background(), target, "api")
	if err != nil {
		t.Fatal(err)
	}
	if run2.New+run2.Resolved+run2.Reopened != 0 || len(ev.take()) != 0 || run2.Trigger != "api" {
		t.Errorf("second run %+v", run2)
	}
}

// An exemption's expiry takes effect on the first run after it.
func TestExemptionExpiryTakesEffectAtTheNextRun(t *testing.T) {
	dir := t.TempDir()
	snap := filepath.Join(dir, "northwind.json")
	if err := os.WriteFile(snap, demo.Account, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := exempt.Parse(demo.Exemptions, "demo exemptions")
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	ev := &events{}
	now := time.Date(2026, 6, 30, 23, 0, 0, 0, time.UTC) // ci-deployer's exemption's last day
	s := &Scanner{Store: st, Exemptions: cfg, Notifier: ev, Now: func() time.Time { return now }}
	target := &Target{Name: "northwind", Snapshot: snap}
	first, err := s.Scan(context.Background(), target, "schedule")
	if err != nil {
		t.Fatal(err)
	}
	if first.Summary.Fail != 13 || first.Summary.Exempt != 4 || first.Method != "snapshot" {
		t.Errorf("first run %+v", first.Summary)
	}
	ev.take()
	now = now.Add(2 * time.Hour) // 1 July
	second, err := s.Scan(context.Background(), target, "schedule")
	if err != nil {
		t.Fatal(err)
	}
	if second.Summary.Fail != 14 || second.Summary.Exempt != 3 || second.New != 1 {
		t.Errorf("second run %+v, %d new", second.Summary, second.New)
	}
	got := ev.take()
	if len(got) != 1 || got[0].Kind != notify.KindNew || users(got[0].Findings) != "ci-deployer" {
		t.Errorf("events %+v", got)
	}
}

func TestFailedCollectionIsAFailedRun(t *testing.T) {
	st := openStore(t)
	ev := &events{}
	s := &Scanner{Store: st, Notifier: ev}
	missing := filepath.Join(t.TempDir(), "gone.json")
	run, err := s.Scan(context.Background(), &Target{Name: "offline", Snapshot: missing}, "schedule")
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != store.RunFailed || !strings.Contains(run.Error, "gone.json") || run.FinishedAt.IsZero() {
		t.Errorf("run %+v", run)
	}
	got := ev.take()
	if len(got) != 1 || got[0].Kind != notify.KindFailed || got[0].Error != run.Error {
		t.Errorf("events %+v", got)
	}
}

func TestCancelledScanIsLeftForMarkInterrupted(t *testing.T) {
	st := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	s := &Scanner{Store: st, Collect: func(ctx context.Context, _ *Target) (*Collection, error) {
		cancel()
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	run, err := s.Scan(ctx, &Target{Name: "prod", Profile: "p"}, "schedule")
	if err == nil || !strings.Contains(err.Error(), "scan interrupted") || run.ID == 0 {
		t.Fatalf("Scan = %+v, %v", run, err)
	}
	n, err := st.MarkInterrupted(context.Background(), "stopped", 0)
	if err != nil || n != 1 {
		t.Fatalf("MarkInterrupted = %d, %v", n, err)
	}
	got, err := st.Run(context.Background(), run.ID)
	if err != nil || got.Status != store.RunInterrupted {
		t.Errorf("run %+v, %v", got, err)
	}
}
