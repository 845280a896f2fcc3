package store_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/iamgroups/iamgroups/internal/rule"
	"github.com/iamgroups/iamgroups/internal/store"
	"github.com/iamgroups/iamgroups/internal/store/storetest"
)

// crashEnv carries the store's DSN to the child process of the crash
// tests; the child records runs until it is killed.
const crashEnv = "IAMGROUPS_STORE_CRASH_DSN"

const crashUsers = 3000

var crashStart = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)

// crashResults is run k of the crash tests: which users fail moves from
// run to run, so that every run opens and resolves findings.
func crashResults(k int) []rule.Result {
	out := make([]rule.Result, crashUsers)
	for i := range out {
		acct := []string{"111111111111", "222222222222"}[i%2]
		name := fmt.Sprintf("user%05d", i)
		r := rule.Result{RuleID: "IAM-071", Status: rule.Pass, AccountID: acct, UserName: name,
			UserARN: "arn:aws:iam::" + acct + ":user/" + name, Groups: []string{"Staff"}, Message: "no direct policies"}
		if crashFails(i, k) {
			r.Status, r.Message = rule.Fail, "holds 1 managed policy directly"
			p := fmt.Sprintf("Policy%d", (i+k)%5)
			r.Violations = []rule.Violation{{Kind: "managed", Name: p, ARN: "arn:aws:iam::aws:policy/" + p}}
		}
		out[i] = r
	}
	return out
}

func crashFails(i, k int) bool { return (i*7+k*13)%10 < 3 }

// TestCrashChild is the child process of TestCrash*: it is skipped unless
// a crash test started it.
func TestCrashChild(t *testing.T) {
	dsn := os.Getenv(crashEnv)
	if dsn == "" {
		t.Skip("the child process of the crash tests")
	}
	ctx := context.Background()
	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	done, err := s.Runs(ctx, store.RunQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for k := len(done); ; k++ {
		start := crashStart.Add(time.Duration(k) * time.Hour)
		id, err := s.BeginRun(ctx, store.RunStart{Target: "prod", Trigger: "schedule", Source: "crash test", StartedAt: start})
		if err != nil {
			t.Fatal(err)
		}
		end := store.RunEnd{Status: store.RunOK, FinishedAt: start.Add(time.Minute), Method: "gaad",
			Accounts: []string{"111111111111", "222222222222"}, Results: crashResults(k)}
		fmt.Printf("finishing %d %d\n", k, id)
		if _, err := s.FinishRun(ctx, id, end); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("finished %d %d\n", k, id)
	}
}

func TestCrashSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	crashTest(t, path, func(store.Store) { checkSQLiteFile(t, path) })
}

func TestCrashPostgres(t *testing.T) {
	crashTest(t, storetest.PostgresDSN(t), func(store.Store) {})
}

// crashTest kills a child process that records runs at several points of
// FinishRun, and after each kill checks that every finished run is intact,
// the findings agree with the last finished one, and MarkInterrupted marks
// the cut run.
func crashTest(t *testing.T, dsn string, check func(store.Store)) {
	if testing.Short() {
		t.Skip("the crash test records runs of thousands of users")
	}
	finished := map[int]int64{} // run number → ID
	cutRuns := 0
	for _, fraction := range []float64{0.25, 0.5, 0.75} {
		killed, cutID := crashOnce(t, dsn, fraction)
		if cutID == 0 {
			finished[killed] = crashVerify(t, dsn, finished, check, killed)
			continue
		}
		cutRuns++
		crashVerify(t, dsn, finished, check, -1)
	}
	if cutRuns == 0 {
		t.Fatal("every kill came after the run committed: nothing tested an interrupted FinishRun")
	}
}

// crashOnce starts the child, lets it finish two runs and kills it the
// given fraction into the FinishRun of the third. It returns that run's
// number, and its ID if it is still running.
func crashOnce(t *testing.T, dsn string, fraction float64) (killed int, cutID int64) {
	t.Helper()
	ctx := context.Background()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+dsn)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var began time.Time
	var took []time.Duration
	var delay time.Duration
	lines := bufio.NewScanner(out)
	killed = -1
	for killed < 0 && lines.Scan() {
		var what string
		var k int
		var id int64
		if _, err := fmt.Sscanf(lines.Text(), "%s %d %d", &what, &k, &id); err != nil {
			continue // the test framework's own output
		}
		switch what {
		case "finishing":
			began = time.Now()
			if len(took) == 2 {
				delay = time.Duration(float64(min(took[0], took[1])) * fraction)
				time.Sleep(delay)
				if err := cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
				killed, cutID = k, id
			}
		case "finished":
			took = append(took, time.Since(began))
		}
	}
	err = cmd.Wait()
	if killed < 0 {
		t.Fatalf("the child stopped before it was killed: %v", err)
	}
	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.Run(ctx, cutID)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("killed the child %v into FinishRun of run %d (the two before took %v): the run is %s", delay, killed, took, r.Status)
	switch r.Status {
	case store.RunRunning:
		return killed, cutID
	case store.RunOK:
		return killed, 0
	}
	t.Fatalf("the cut run is %s", r.Status)
	return 0, 0
}

// crashVerify reopens the store after a kill and checks it. finished holds
// the runs the child finished before; the child's own runs are found in
// the store. It returns the ID of run number want if it finished.
func crashVerify(t *testing.T, dsn string, finished map[int]int64, check func(store.Store), want int) int64 {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runs, err := s.Runs(ctx, store.RunQuery{})
	if err != nil {
		t.Fatal(err)
	}
	running := 0
	var wantID int64
	for _, r := range runs {
		k := int(r.StartedAt.Sub(crashStart) / time.Hour)
		switch r.Status {
		case store.RunRunning:
			running++
		case store.RunOK:
			finished[k] = r.ID
			if k == want {
				wantID = r.ID
			}
		}
	}
	n, err := s.MarkInterrupted(ctx, "the process was killed", 0)
	if err != nil || n != running || n > 1 {
		t.Fatalf("MarkInterrupted = %d, %v; want %d (at most one)", n, err, running)
	}
	last := -1
	for k, id := range finished {
		r, err := s.Run(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want := rule.Summarize(crashResults(k))
		if r.Status != store.RunOK || r.Summary != want {
			t.Fatalf("finished run %d after the crash: %s %+v, want ok %+v", k, r.Status, r.Summary, want)
		}
		last = max(last, k)
	}
	for _, r := range runs {
		if r.Status != store.RunRunning {
			continue
		}
		r, err := s.Run(ctx, r.ID)
		if err != nil || r.Status != store.RunInterrupted || r.Summary.Users != 0 || r.New != 0 {
			t.Fatalf("the cut run after MarkInterrupted: %+v, %v", r, err)
		}
	}
	open, total, err := s.Findings(ctx, store.FindingQuery{State: store.FindingOpen})
	if err != nil {
		t.Fatal(err)
	}
	var wantOpen, got []string
	for _, r := range crashResults(last) {
		if r.Status == rule.Fail {
			wantOpen = append(wantOpen, r.Fingerprint())
		}
	}
	for _, f := range open {
		got = append(got, f.Fingerprint)
	}
	slices.Sort(got)
	slices.Sort(wantOpen)
	if total != len(wantOpen) || !slices.Equal(got, wantOpen) {
		t.Fatalf("%d open findings after the crash, want the %d failures of run %d", total, len(wantOpen), last)
	}
	hist, err := s.UserHistory(ctx, "222222222222", "user00001", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != len(finished) {
		t.Fatalf("a user has %d states, want one per finished run (%d)", len(hist), len(finished))
	}
	for _, h := range hist {
		k := int(h.At.Sub(crashStart) / time.Hour)
		if _, ok := finished[k]; !ok || (h.Status == rule.Fail) != crashFails(1, k) {
			t.Fatalf("user00001 in run %d: %s", k, h.Status)
		}
	}
	check(s)
	return wantID
}

// checkSQLiteFile fails t unless the database passes SQLite's integrity
// and foreign key checks.
func checkSQLiteFile(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ok string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check: %q, %v", ok, err)
	}
	rows, err := db.Query("PRAGMA foreign_key_check")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if rows.Next() {
		t.Fatal("foreign_key_check reports dangling references")
	}
}
