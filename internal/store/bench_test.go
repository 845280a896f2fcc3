package store_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/iamgroups/iamgroups/internal/store"
	"github.com/iamgroups/iamgroups/internal/store/storetest"
)

// The dashboard's history: 100 runs (25 days every 6 hours) of an estate
// of 5,000 users.
const (
	benchRuns  = 100
	benchUsers = 5000
)

// BenchmarkStore measures, on each backend holding benchRuns runs of
// benchUsers users: the size of the history per run, the queries the
// dashboard and the API make, and recording one more run of benchUsers
// users. Seeding the history takes a while; it is done once per backend.
//
//	go test -run '^$' -bench BenchmarkStore ./internal/store
func BenchmarkStore(b *testing.B) {
	backends := []struct {
		name string
		open func(b *testing.B) (store.Store, func() int64)
	}{
		{"sqlite", func(b *testing.B) (store.Store, func() int64) {
			path := filepath.Join(b.TempDir(), "history.db")
			s := openBench(b, path)
			return s, func() int64 { return sqliteSize(b, path) }
		}},
		{"postgres", func(b *testing.B) (store.Store, func() int64) {
			dsn := storetest.PostgresDSN(b)
			s := openBench(b, dsn)
			return s, func() int64 { return postgresSize(b, dsn) }
		}},
	}
	for _, backend := range backends {
		b.Run(backend.name, func(b *testing.B) {
			ctx := context.Background()
			s, size := backend.open(b)
			h := storetest.NewHistory("prod", benchUsers, 1)
			began := time.Now()
			for range benchRuns {
				start, end := h.Next()
				id, err := s.BeginRun(ctx, start)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.FinishRun(ctx, id, end); err != nil {
					b.Fatal(err)
				}
			}
			b.Logf("%s: seeded %d runs of %d users in %v", backend.name, benchRuns, benchUsers, time.Since(began).Round(time.Millisecond))
			benchQueries(b, s)
			b.Run("Size", func(b *testing.B) {
				var bytes int64
				for b.Loop() {
					bytes = size()
				}
				b.ReportMetric(float64(bytes)/benchRuns, "bytes/run")
				b.ReportMetric(float64(bytes)/1e6, "MB")
			})
			// Last, as it adds runs to the history.
			b.Run("FinishRun", func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					start, end := h.Next()
					b.StartTimer()
					id, err := s.BeginRun(ctx, start)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := s.FinishRun(ctx, id, end); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

func openBench(b *testing.B, dsn string) store.Store {
	b.Helper()
	s, err := store.Open(context.Background(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// benchQueries times what the overview, findings, runs and user pages ask.
func benchQueries(b *testing.B, s store.Store) {
	ctx := context.Background()
	page, _, err := s.Findings(ctx, store.FindingQuery{Target: "prod", State: store.FindingOpen, Limit: 1})
	if err != nil || len(page) == 0 {
		b.Fatalf("no open finding to look at: %v", err)
	}
	someone := page[0]
	queries := []struct {
		name string
		fn   func() (int, error)
	}{
		{"Overview", func() (int, error) { a, err := s.Overview(ctx); return len(a), err }},
		{"Trend100", func() (int, error) { p, err := s.Trend(ctx, "prod", 100); return len(p), err }},
		{"FindingsPage", func() (int, error) {
			f, _, err := s.Findings(ctx, store.FindingQuery{Target: "prod", State: store.FindingOpen, Limit: 50})
			return len(f), err
		}},
		{"FindingsFiltered", func() (int, error) {
			f, _, err := s.Findings(ctx, store.FindingQuery{Target: "prod", State: store.FindingOpen,
				AccountID: someone.AccountID, User: "a", Policy: "*ReadOnly*", Limit: 50})
			return len(f), err
		}},
		{"FindingsLastPage", func() (int, error) {
			f, _, err := s.Findings(ctx, store.FindingQuery{Target: "prod", Limit: 50, Offset: 1000})
			return len(f), err
		}},
		{"Changes10", func() (int, error) { c, err := s.Changes(ctx, "prod", 10); return len(c), err }},
		{"Runs50", func() (int, error) { r, err := s.Runs(ctx, store.RunQuery{Limit: 50}); return len(r), err }},
		{"UserHistory", func() (int, error) {
			u, err := s.UserHistory(ctx, someone.AccountID, someone.UserName, 100)
			return len(u), err
		}},
	}
	for _, q := range queries {
		b.Run(q.name, func(b *testing.B) {
			n := 0
			for b.Loop() {
				var err error
				if n, err = q.fn(); err != nil {
					b.Fatal(err)
				}
			}
			if n == 0 {
				b.Fatalf("%s returned nothing", q.name)
			}
			b.ReportMetric(float64(n), "rows")
		})
	}
}

// sqliteSize is the size of the database file and its WAL.
func sqliteSize(b *testing.B, path string) int64 {
	var total int64
	for _, p := range []string{path, path + "-wal"} {
		if st, err := os.Stat(p); err == nil {
			total += st.Size()
		}
	}
	return total
}

// postgresSize is the size of the tables and indexes in the store's schema.
func postgresSize(b *testing.B, dsn string) int64 {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var total int64
	err = db.QueryRow(`SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind = 'r'`).Scan(&total)
	if err != nil {
		b.Fatal(err)
	}
	return total
}
