package web

import (
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/iamgroups/iamgroups/internal/store"
	"github.com/iamgroups/iamgroups/internal/store/storetest"
)

var benchDB = flag.String("benchdb", "", "SQLite history for the benchmarks: reused when the file exists, else seeded there (default: a temporary file)")

// The benchmarks' history: 100 runs of 5,000 users, seeded once per
// process (seeding takes a while), or read from -benchdb.
const benchRuns, benchUsers = 100, 5000

var bench struct {
	once  sync.Once
	store store.Store
	dir   string
	err   error
}

func TestMain(m *testing.M) {
	m.Run()
	if bench.store != nil {
		bench.store.Close()
	}
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
}

func benchServer(b *testing.B) *Server {
	b.Helper()
	bench.once.Do(func() {
		ctx := context.Background()
		path := *benchDB
		fresh := true
		if path == "" {
			if bench.dir, bench.err = os.MkdirTemp("", "iamgroups-web-bench"); bench.err != nil {
				return
			}
			path = filepath.Join(bench.dir, "history.db")
		} else if _, err := os.Stat(path); err == nil {
			fresh = false
		}
		if bench.store, bench.err = store.Open(ctx, path); bench.err != nil {
			return
		}
		if fresh {
			start := time.Now()
			bench.err = storetest.Seed(ctx, bench.store, "org", benchRuns, benchUsers, 1)
			b.Logf("seeded %d runs of %d users in %s", benchRuns, benchUsers, time.Since(start).Round(time.Millisecond))
		}
	})
	if bench.err != nil {
		b.Fatalf("benchmark history: %v", bench.err)
	}
	sched := &fakeScheduler{running: map[string]bool{}, targets: []Target{
		{Name: "org", Schedule: "every 6h", Flags: []string{"--profile", "org-management"}, Org: true},
	}}
	srv, err := New(Options{Store: bench.store, Scheduler: sched, Exemptions: testExemptions()})
	if err != nil {
		b.Fatal(err)
	}
	return srv
}

func benchGet(b *testing.B, path string) {
	srv := benchServer(b)
	serve := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}
	if rec := serve(); rec.Code != http.StatusOK {
		b.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
	} else {
		b.SetBytes(int64(rec.Body.Len()))
	}
	b.ResetTimer()
	for b.Loop() {
		serve()
	}
}

func BenchmarkOverviewPage(b *testing.B)       { benchGet(b, "/") }
func BenchmarkFindingsPage(b *testing.B)       { benchGet(b, "/findings") }
func BenchmarkFindingsPageUser(b *testing.B)   { benchGet(b, "/findings?state=all&user=chen") }
func BenchmarkFindingsPagePolicy(b *testing.B) { benchGet(b, "/findings?policy=AdministratorAccess") }
func BenchmarkRunsPage(b *testing.B)           { benchGet(b, "/runs") }
func BenchmarkSummaryAPI(b *testing.B)         { benchGet(b, "/api/v1/summary") }
func BenchmarkFindingsAPI(b *testing.B)        { benchGet(b, "/api/v1/findings?limit=100") }
func BenchmarkMetrics(b *testing.B)            { benchGet(b, "/metrics") }
