package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // the "sqlite" database/sql driver
)

// busyTimeout is how long a SQLite connection waits for another writer
// (another process recording a run) before giving up.
const busyTimeout = 10 * time.Second

// sqliteReaders bounds the connections that read a SQLite file at once; in
// WAL mode they never wait for the writer.
const sqliteReaders = 4

// IsPostgres reports whether dsn names a PostgreSQL database rather than a
// SQLite file.
func IsPostgres(dsn string) bool {
	lower := strings.ToLower(dsn)
	return strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")
}

// Redact returns dsn fit for logs and error messages: a PostgreSQL URL
// loses its password (in the user info or a password parameter); a SQLite
// path is returned as it is.
func Redact(dsn string) string {
	if !IsPostgres(dsn) {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		// An unparsable URL may still hold a password: show only its scheme.
		scheme, _, _ := strings.Cut(dsn, "://")
		return scheme + "://(unparsable URL)"
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// Open opens the history store named by dsn, creating and migrating it as
// needed: a postgres:// or postgresql:// URL is a PostgreSQL database, any
// other string the path of a SQLite file (created with mode 0600). It
// refuses a database whose schema is newer than this binary knows.
func Open(ctx context.Context, dsn string) (Store, error) {
	if strings.TrimSpace(dsn) == "" {
		return nil, errors.New("open store: no store given (a SQLite file path, or a postgres:// URL)")
	}
	var (
		s   *sqlStore
		err error
	)
	if IsPostgres(dsn) {
		s, err = openPostgres(ctx, dsn)
	} else {
		s, err = openSQLite(ctx, dsn)
	}
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func openSQLite(ctx context.Context, path string) (*sqlStore, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := createPrivate(abs); err != nil {
		return nil, fmt.Errorf("open store %s: %w (check that the directory exists and is writable)", path, err)
	}
	// A file: URI, so that any character of the path survives; the
	// parameters after '?' are the driver's.
	base := "file:" + (&url.URL{Path: abs}).EscapedPath() + fmt.Sprintf(
		"?_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)",
		busyTimeout.Milliseconds())
	// One writer connection whose transactions take the write lock at BEGIN
	// (a deferred transaction that upgrades later can fail with SQLITE_BUSY
	// instead of waiting), and a few readers that WAL lets run beside it.
	w, err := sql.Open("sqlite", base+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	r.SetMaxOpenConns(sqliteReaders)
	r.SetMaxIdleConns(sqliteReaders)
	s := &sqlStore{d: &sqliteDialect, name: path, w: w, r: r}
	if err := w.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open store %s: %w (is it a SQLite database, and writable?)", path, err)
	}
	return s, nil
}

// createPrivate creates the database file readable by its owner only,
// before SQLite creates it with the process's umask; SQLite gives its WAL
// and shared-memory files the same mode.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		if st.IsDir() {
			return fmt.Errorf("%s is a directory, not a database file", path)
		}
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

func openPostgres(ctx context.Context, dsn string) (*sqlStore, error) {
	name := Redact(dsn)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", name, scrub(err, dsn))
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w (check that PostgreSQL is running and reachable, and the user, password and database in the URL)", name, scrub(err, dsn))
	}
	return &sqlStore{d: &postgresDialect, name: name, w: db, r: db}, nil
}

// scrub keeps a driver's error from repeating a password it was given.
func scrub(err error, dsn string) error {
	u, perr := url.Parse(dsn)
	if perr != nil {
		return err
	}
	pw, ok := u.User.Password()
	if !ok {
		pw = u.Query().Get("password")
	}
	if pw == "" || !strings.Contains(err.Error(), pw) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), pw, "xxxxx"))
}
