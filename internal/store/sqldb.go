package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
)

// dialect is what differs between the two backends. The queries are
// written once, with '?' placeholders; PostgreSQL gets them numbered.
type dialect struct {
	name string
	// migrations is the directory of this dialect's migrations in the
	// embedded files.
	migrations string
	// numbered placeholders ($1, $2…) instead of '?'.
	numbered bool
	// lockSchema serialises migrations between instances starting at once
	// (SQLite needs nothing: its write transactions are exclusive).
	lockSchema string
	// lockTarget serialises FinishRun per target between instances sharing
	// one database; it takes the target as its one argument.
	lockTarget string
	// forUpdate locks the rows a SELECT reads until the transaction ends.
	forUpdate string
	// noLimit is the LIMIT that an OFFSET without a limit needs.
	noLimit string
}

var sqliteDialect = dialect{
	name:       "sqlite",
	migrations: "migrations/sqlite",
	noLimit:    " LIMIT -1",
}

var postgresDialect = dialect{
	name:       "postgres",
	migrations: "migrations/postgres",
	numbered:   true,
	lockSchema: "SELECT pg_advisory_xact_lock(hashtext('iamgroups schema'))",
	lockTarget: "SELECT pg_advisory_xact_lock(hashtext(?))",
	forUpdate:  " FOR UPDATE",
}

// rebind turns '?' placeholders into $1, $2… None of the store's queries
// holds a '?' inside a literal.
func rebind(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// execer is what a *sql.DB and a *sql.Tx have in common.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// conn runs the store's queries on a database or transaction, in its
// dialect.
type conn struct {
	e execer
	d *dialect
}

func (c conn) sql(query string) string {
	if c.d.numbered {
		return rebind(query)
	}
	return query
}

func (c conn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return c.e.ExecContext(ctx, c.sql(query), args...)
}

func (c conn) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return c.e.QueryContext(ctx, c.sql(query), args...)
}

func (c conn) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return c.e.QueryRowContext(ctx, c.sql(query), args...)
}

// batchRows is how many rows one multi-row statement carries: few enough
// for SQLite's and PostgreSQL's parameter limits, many enough that a run of
// thousands of users takes a handful of round trips.
const batchRows = 400

// insertMany runs `head VALUES (?,…),(?,…)… tail` for n rows of width
// columns, batchRows at a time; row appends the values of row i.
func (c conn) insertMany(ctx context.Context, head, tail string, width, n int, row func(i int, args []any) []any) error {
	if n == 0 {
		return nil
	}
	one := "(" + strings.Repeat("?,", width-1) + "?)"
	args := make([]any, 0, batchRows*width)
	for lo := 0; lo < n; lo += batchRows {
		hi := min(lo+batchRows, n)
		var q strings.Builder
		q.Grow(len(head) + len(tail) + (hi-lo)*(len(one)+1) + 8)
		q.WriteString(head)
		q.WriteString(" VALUES ")
		args = args[:0]
		for i := lo; i < hi; i++ {
			if i > lo {
				q.WriteByte(',')
			}
			q.WriteString(one)
			args = row(i, args)
		}
		q.WriteByte(' ')
		q.WriteString(tail)
		if _, err := c.exec(ctx, q.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// selectIn runs `head IN (?,…) tail` over keys, batchRows at a time, and
// calls scan for every row.
func (c conn) selectIn(ctx context.Context, head, tail string, keys []any, scan func(*sql.Rows) error) error {
	for lo := 0; lo < len(keys); lo += batchRows {
		hi := min(lo+batchRows, len(keys))
		q := head + " IN (" + strings.Repeat("?,", hi-lo-1) + "?) " + tail
		rows, err := c.query(ctx, q, keys[lo:hi]...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// inTx runs fn in one write transaction, committed if fn returns nil.
func (s *sqlStore) inTx(ctx context.Context, fn func(c conn) error) (err error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, ignoreDone(tx.Rollback()))
		}
	}()
	if err := fn(conn{e: tx, d: s.d}); err != nil {
		return err
	}
	return tx.Commit()
}

// ignoreDone drops the error of rolling back a transaction that the
// driver already ended (after a failed commit or a cancelled context).
func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}
