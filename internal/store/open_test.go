package store

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOpenSQLiteFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dir with spaces?and#marks", "history.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.BeginRun(ctx, RunStart{Target: "prod", StartedAt: time.Unix(1700000000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	var mode string
	if err := s.(*sqlStore).r.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal mode %q (%v), want wal", mode, err)
	}
	var fk int
	if err := s.(*sqlStore).w.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign_keys %d (%v), want 1", fk, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("database file mode %v, want 0600", st.Mode().Perm())
	}
	// Reopening keeps the history and migrates nothing twice.
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if r, err := s.Run(ctx, id); err != nil || r.Target != "prod" {
		t.Fatalf("run after reopening: %+v, %v", r, err)
	}
	var versions int
	if err := s.(*sqlStore).r.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&versions); err != nil || versions != SchemaVersion() {
		t.Fatalf("%d migrations recorded (%v), want %d", versions, err, SchemaVersion())
	}
}

func TestOpenErrorsNameTheStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cases := map[string]string{
		filepath.Join(dir, "missing", "history.db"): "check that the directory exists",
		dir: "is a directory",
		"":  "no store given",
	}
	notDB := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("not a database\n", 400)), 0o600); err != nil {
		t.Fatal(err)
	}
	cases[notDB] = "is it a SQLite database"
	for dsn, want := range cases {
		s, err := Open(ctx, dsn)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", dsn)
			continue
		}
		if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), dsn) {
			t.Errorf("Open(%q): %v; want the path and %q", dsn, err, want)
		}
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "history.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.(*sqlStore).w.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_ns) VALUES (?, 'from the future', 0)", SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(ctx, path)
	if err == nil || !strings.Contains(err.Error(), "newer than this iamgroups knows") || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open of a newer schema: %v", err)
	}
}

func TestPostgresErrorHidesPassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Port 1 on loopback: nothing listens, the connection is refused.
	for _, dsn := range []string{
		"postgres://iamgroups:s3cr3tpw@127.0.0.1:1/db?sslmode=disable&connect_timeout=5",
		"postgresql://iamgroups@127.0.0.1:1/db?sslmode=disable&password=s3cr3tpw&connect_timeout=5",
	} {
		_, err := Open(ctx, dsn)
		if err == nil {
			t.Fatalf("Open(%s) succeeded", Redact(dsn))
		}
		if strings.Contains(err.Error(), "s3cr3tpw") {
			t.Fatalf("the error shows the password: %v", err)
		}
		if !strings.Contains(err.Error(), "127.0.0.1:1") || !strings.Contains(err.Error(), "check that PostgreSQL is running") {
			t.Fatalf("the error does not say where and what to do: %v", err)
		}
	}
}

func TestRedact(t *testing.T) {
	cases := map[string]string{
		"postgres://u:pw@h:5432/db?sslmode=disable":   "postgres://u:xxxxx@h:5432/db?sslmode=disable",
		"postgresql://u@h/db?password=pw&sslmode=off": "postgresql://u@h/db?password=xxxxx&sslmode=off",
		"postgres://u@h/db":                           "postgres://u@h/db",
		"iamgroups.db":                                "iamgroups.db",
		"postgres://u:p w@h:bad port/%zz":             "postgres://(unparsable URL)",
	}
	for in, want := range cases {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDialectsHaveTheSameMigrations(t *testing.T) {
	lite, err := sqliteDialect.migrationList()
	if err != nil {
		t.Fatal(err)
	}
	pg, err := postgresDialect.migrationList()
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) == 0 || len(lite) != len(pg) {
		t.Fatalf("%d SQLite migrations, %d PostgreSQL ones", len(lite), len(pg))
	}
	for i := range lite {
		if lite[i].name != pg[i].name {
			t.Errorf("migration %d: %s for SQLite, %s for PostgreSQL", i+1, lite[i].name, pg[i].name)
		}
	}
}

func TestRebind(t *testing.T) {
	got := rebind("SELECT a FROM t WHERE b = ? AND c IN (?, ?)")
	if want := "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"; got != want {
		t.Fatalf("rebind = %q, want %q", got, want)
	}
}

func TestLikePattern(t *testing.T) {
	cases := map[string]string{
		"Alice":      "%alice%",
		"*-ci":       "%-ci",
		"arn:*/bob":  "arn:%/bob",
		"100%_x":     `%100\%\_x%`,
		`back\slash`: `%back\\slash%`,
	}
	for in, want := range cases {
		if got := likePattern(in); got != want {
			t.Errorf("likePattern(%q) = %q, want %q", in, got, want)
		}
	}
}

// The SQLite file is a real database that sqlite3 tools can check.
func TestSQLiteIntegrity(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "history.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkSQLite(t, s.(*sqlStore).r)
}

// checkSQLite fails t unless the database passes SQLite's integrity and
// foreign key checks.
func checkSQLite(t *testing.T, db *sql.DB) {
	t.Helper()
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
