package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/iamgroups/iamgroups/internal/store"
)

// PostgresEnv names the environment variable that points the tests at a
// PostgreSQL server, e.g.
// postgres://iamgroups:iamgroups@127.0.0.1:5432/iamgroups_test?sslmode=disable.
// The user must be allowed to create schemas in the database.
const PostgresEnv = "IAMGROUPS_TEST_POSTGRES"

// PostgresDSN returns the DSN of a fresh, empty schema of the test
// PostgreSQL database, dropped when the test ends, so that tests never see
// each other's data. Without a server it skips the test, saying how to
// enable it, except when the environment variable CI is set: then a
// missing server fails the test.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	unavailable := func(why string) {
		t.Helper()
		msg := "PostgreSQL tests: " + why + "; set " + PostgresEnv +
			" to a database the user may create schemas in, e.g. postgres://iamgroups:iamgroups@127.0.0.1:5432/iamgroups_test?sslmode=disable (.ci/run starts one)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if base == "" {
		unavailable(PostgresEnv + " is not set")
	}
	u, err := url.Parse(base)
	if err != nil || !store.IsPostgres(base) {
		t.Fatalf("%s=%s is not a postgres:// URL", PostgresEnv, store.Redact(base))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		unavailable(err.Error())
	}
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		unavailable("cannot reach " + store.Redact(base) + ": " + err.Error())
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "iamgroups_test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("create schema %s in %s: %v", schema, store.Redact(base), err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
