package store

import (
	"context"
	"embed"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// migrationFiles holds each dialect's migrations, named NNNN_what.sql.
// A migration is never edited once released: a change is a new file.
//
//go:embed migrations
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the dialect's migrations in version order.
func (d *dialect) migrationList() ([]migration, error) {
	entries, err := migrationFiles.ReadDir(d.migrations)
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("migration file %s is not named NNNN_what.sql", e.Name())
		}
		body, err := migrationFiles.ReadFile(path.Join(d.migrations, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(body)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d", m.name, i+1)
		}
	}
	return out, nil
}

// SchemaVersion is the schema version this binary creates and reads.
func SchemaVersion() int {
	ms, err := sqliteDialect.migrationList()
	if err != nil {
		return 0
	}
	return len(ms)
}

// migrate brings the schema to the newest version this binary knows, in
// one transaction, and refuses a database that a newer binary migrated.
func (s *sqlStore) migrate(ctx context.Context) error {
	ms, err := s.d.migrationList()
	if err != nil {
		return fmt.Errorf("migrate store %s: %w", s.name, err)
	}
	err = s.inTx(ctx, func(c conn) error {
		if s.d.lockSchema != "" {
			if _, err := c.exec(ctx, s.d.lockSchema); err != nil {
				return err
			}
		}
		if _, err := c.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT    NOT NULL,
			applied_ns BIGINT  NOT NULL)`); err != nil {
			return err
		}
		var current int
		if err := c.queryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&current); err != nil {
			return err
		}
		if current > len(ms) {
			return fmt.Errorf("its schema is version %d, newer than this iamgroups knows (%d): upgrade iamgroups, or give it another store", current, len(ms))
		}
		for _, m := range ms[current:] {
			if _, err := c.exec(ctx, m.sql); err != nil {
				return fmt.Errorf("apply %s: %w", m.name, err)
			}
			if _, err := c.exec(ctx, "INSERT INTO schema_migrations (version, name, applied_ns) VALUES (?, ?, ?)",
				m.version, m.name, time.Now().UnixNano()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate store %s: %w", s.name, err)
	}
	return nil
}
