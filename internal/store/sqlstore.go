package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// sqlStore is the Store of both backends: the same queries through
// database/sql, with the few differences in its dialect.
type sqlStore struct {
	d *dialect
	// name is the file or the redacted URL, for error messages.
	name string
	// w takes the writes; r the reads. With SQLite they are separate pools
	// (one writer connection, several readers); with PostgreSQL one pool.
	w, r *sql.DB
}

func (s *sqlStore) reader() conn { return conn{e: s.r, d: s.d} }

// BeginRun records a run as running and returns its ID.
func (s *sqlStore) BeginRun(ctx context.Context, start RunStart) (int64, error) {
	if start.Target == "" {
		return 0, errors.New("begin run: no target")
	}
	at := start.StartedAt
	if at.IsZero() {
		at = time.Now()
	}
	var id int64
	err := s.inTx(ctx, func(c conn) error {
		return c.queryRow(ctx, `INSERT INTO runs (target, triggered_by, source, status, started_ns)
			VALUES (?, ?, ?, ?, ?) RETURNING id`,
			start.Target, start.Trigger, start.Source, RunRunning, at.UnixNano()).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("begin run of %s in store %s: %w", start.Target, s.name, err)
	}
	return id, nil
}

// MarkInterrupted turns the runs still running that started more than
// olderThan ago into RunInterrupted.
func (s *sqlStore) MarkInterrupted(ctx context.Context, reason string, olderThan time.Duration) (int, error) {
	cutoff := time.Now().Add(-olderThan).UnixNano()
	var n int64
	err := s.inTx(ctx, func(c conn) error {
		res, err := c.exec(ctx, `UPDATE runs SET status = ?, error = ?
			WHERE status = ? AND started_ns <= ?`, RunInterrupted, reason, RunRunning, cutoff)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("mark interrupted runs in store %s: %w", s.name, err)
	}
	return int(n), nil
}

// InterruptRun turns one run into RunInterrupted if it is still running.
// The update and the check that the run exists share one transaction.
func (s *sqlStore) InterruptRun(ctx context.Context, id int64, reason string) error {
	err := s.inTx(ctx, func(c conn) error {
		res, err := c.exec(ctx, `UPDATE runs SET status = ?, error = ?
			WHERE id = ? AND status = ?`, RunInterrupted, reason, id, RunRunning)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n > 0 {
			return err
		}
		// Nothing changed: the run has ended already, or is not there.
		var one int
		err = c.queryRow(ctx, "SELECT 1 FROM runs WHERE id = ?", id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("mark run %d interrupted in store %s: %w", id, s.name, err)
	}
	return nil
}

// Close releases the database.
func (s *sqlStore) Close() error {
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}
