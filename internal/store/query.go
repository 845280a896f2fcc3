package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/iamgroups/iamgroups/internal/rule"
)

const runColumns = `id, target, triggered_by, source, status, method, started_ns, finished_ns, api_calls, error,
	accounts, users, pass, fail, exempt, errors, new_findings, resolved_findings, reopened_findings`

func scanRun(sc interface{ Scan(...any) error }) (Run, error) {
	var r Run
	var started int64
	var finished sql.NullInt64
	var calls, accounts string
	err := sc.Scan(&r.ID, &r.Target, &r.Trigger, &r.Source, &r.Status, &r.Method, &started, &finished, &calls, &r.Error,
		&accounts, &r.Summary.Users, &r.Summary.Pass, &r.Summary.Fail, &r.Summary.Exempt, &r.Summary.Error,
		&r.New, &r.Resolved, &r.Reopened)
	if err != nil {
		return r, err
	}
	r.StartedAt = fromNS(started)
	if finished.Valid {
		r.FinishedAt = fromNS(finished.Int64)
	}
	if err := json.Unmarshal([]byte(calls), &r.APICalls); err != nil {
		return r, fmt.Errorf("decode API calls of run %d: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(accounts), &r.Accounts); err != nil {
		return r, fmt.Errorf("decode accounts of run %d: %w", r.ID, err)
	}
	return r, nil
}

// Run returns one run, or ErrNotFound.
func (s *sqlStore) Run(ctx context.Context, id int64) (Run, error) {
	r, err := scanRun(s.reader().queryRow(ctx, "SELECT "+runColumns+" FROM runs WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, fmt.Errorf("read run %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Run{}, fmt.Errorf("read run %d from store %s: %w", id, s.name, err)
	}
	return r, nil
}

// Runs lists runs, newest first.
func (s *sqlStore) Runs(ctx context.Context, q RunQuery) ([]Run, error) {
	var w where
	if q.Target != "" {
		w.add("target = ?", q.Target)
	}
	query := "SELECT " + runColumns + " FROM runs" + w.sql() + " ORDER BY id DESC" + s.d.limit(q.Limit, q.Offset)
	rows, err := s.reader().query(ctx, query, w.args...)
	if err != nil {
		return nil, fmt.Errorf("list runs in store %s: %w", s.name, err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("list runs in store %s: %w", s.name, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list runs in store %s: %w", s.name, err)
	}
	return out, nil
}

// Findings lists findings, open first, then by account and user name,
// with the number matching q before Limit and Offset.
func (s *sqlStore) Findings(ctx context.Context, q FindingQuery) ([]Finding, int, error) {
	var w where
	if q.Target != "" {
		w.add("f.target = ?", q.Target)
	}
	if q.State != "" {
		w.add("f.state = ?", q.State)
	}
	if q.AccountID != "" {
		w.add("f.account_id = ?", q.AccountID)
	}
	if q.User != "" {
		p := likePattern(q.User)
		w.add(`(LOWER(s.user_name) LIKE ? ESCAPE '\' OR LOWER(s.user_arn) LIKE ? ESCAPE '\')`, p, p)
	}
	if q.Policy != "" {
		p := likePattern(q.Policy)
		w.add(`f.evidence_id IN (SELECT ep.evidence_id FROM evidence_policies ep JOIN policies p ON p.id = ep.policy_id
			WHERE LOWER(p.name) LIKE ? ESCAPE '\' OR LOWER(p.arn) LIKE ? ESCAPE '\')`, p, p)
	}
	from := ` FROM findings f JOIN subjects s ON s.id = f.subject_id`
	query := `SELECT s.fingerprint, f.target, s.rule_id, s.account_id, s.user_name, s.user_arn, f.state, f.status,
			f.first_seen_ns, f.last_seen_ns, f.resolved_ns, f.reopened, e.body, COUNT(*) OVER ()` +
		from + ` LEFT JOIN evidence e ON e.id = f.evidence_id` + w.sql() +
		` ORDER BY CASE WHEN f.state = 'open' THEN 0 ELSE 1 END, s.account_id, s.user_name, s.user_arn, f.target` +
		s.d.limit(q.Limit, q.Offset)
	c := s.reader()
	rows, err := c.query(ctx, query, w.args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list findings in store %s: %w", s.name, err)
	}
	defer rows.Close()
	var out []Finding
	total := -1
	for rows.Next() {
		var f Finding
		var first, last int64
		var resolved sql.NullInt64
		var body sql.NullString
		var status string
		if err := rows.Scan(&f.Fingerprint, &f.Target, &f.RuleID, &f.AccountID, &f.UserName, &f.UserARN, &f.State, &status,
			&first, &last, &resolved, &f.Reopened, &body, &total); err != nil {
			return nil, 0, fmt.Errorf("list findings in store %s: %w", s.name, err)
		}
		f.Status, f.FirstSeen, f.LastSeen = rule.Status(status), fromNS(first), fromNS(last)
		if resolved.Valid {
			t := fromNS(resolved.Int64)
			f.ResolvedAt = &t
		}
		if body.Valid {
			if err := json.Unmarshal([]byte(body.String), &f.Evidence); err != nil {
				return nil, 0, fmt.Errorf("list findings in store %s: decode evidence of %s: %w", s.name, f.Fingerprint, err)
			}
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list findings in store %s: %w", s.name, err)
	}
	if total < 0 {
		// No row on this page (or none at all): count apart.
		if err := c.queryRow(ctx, "SELECT COUNT(*)"+from+w.sql(), w.args...).Scan(&total); err != nil {
			return nil, 0, fmt.Errorf("count findings in store %s: %w", s.name, err)
		}
	}
	return out, total, nil
}

// Changes lists the lifecycle events of the last limit runs that had
// any, newest first; within a run, in fingerprint order.
func (s *sqlStore) Changes(ctx context.Context, target string, limitRuns int) ([]Change, error) {
	var w where
	if target != "" {
		w.add("target = ?", target)
	}
	query := `SELECT c.kind, c.run_id, r.started_ns, c.target, s.fingerprint, s.rule_id, s.account_id, s.user_name, s.user_arn,
			c.state, c.status, c.first_seen_ns, c.last_seen_ns, c.resolved_ns, c.reopened, e.body
		FROM changes c JOIN runs r ON r.id = c.run_id JOIN subjects s ON s.id = c.subject_id
		LEFT JOIN evidence e ON e.id = c.evidence_id
		WHERE c.run_id IN (SELECT DISTINCT run_id FROM changes` + w.sql() + ` ORDER BY run_id DESC` + s.d.limit(limitRuns, 0) + `)
		ORDER BY c.run_id DESC, s.fingerprint`
	rows, err := s.reader().query(ctx, query, w.args...)
	if err != nil {
		return nil, fmt.Errorf("list changes in store %s: %w", s.name, err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		f := &c.Finding
		var at, first, last int64
		var resolved sql.NullInt64
		var body sql.NullString
		var status string
		if err := rows.Scan(&c.Kind, &c.RunID, &at, &f.Target, &f.Fingerprint, &f.RuleID, &f.AccountID, &f.UserName, &f.UserARN,
			&f.State, &status, &first, &last, &resolved, &f.Reopened, &body); err != nil {
			return nil, fmt.Errorf("list changes in store %s: %w", s.name, err)
		}
		c.At, f.Status, f.FirstSeen, f.LastSeen = fromNS(at), rule.Status(status), fromNS(first), fromNS(last)
		if resolved.Valid {
			t := fromNS(resolved.Int64)
			f.ResolvedAt = &t
		}
		if body.Valid {
			if err := json.Unmarshal([]byte(body.String), &f.Evidence); err != nil {
				return nil, fmt.Errorf("list changes in store %s: decode evidence of %s: %w", s.name, f.Fingerprint, err)
			}
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list changes in store %s: %w", s.name, err)
	}
	return out, nil
}

// Overview is the latest summary per target and account, with its open
// findings, by target and account.
func (s *sqlStore) Overview(ctx context.Context) ([]AccountSummary, error) {
	rows, err := s.reader().query(ctx, `SELECT l.target, l.account_id, l.run_id, r.started_ns,
			a.users, a.pass, a.fail, a.exempt, a.errors,
			(SELECT COUNT(*) FROM findings f
				WHERE f.target = l.target AND f.state = 'open' AND f.account_id = l.account_id)
		FROM latest_accounts l JOIN runs r ON r.id = l.run_id
		JOIN run_accounts a ON a.run_id = l.run_id AND a.account_id = l.account_id
		ORDER BY l.target, l.account_id`)
	if err != nil {
		return nil, fmt.Errorf("read overview from store %s: %w", s.name, err)
	}
	defer rows.Close()
	var out []AccountSummary
	for rows.Next() {
		var a AccountSummary
		var at int64
		if err := rows.Scan(&a.Target, &a.AccountID, &a.LastRunID, &at,
			&a.Users, &a.Pass, &a.Fail, &a.Exempt, &a.Error, &a.Open); err != nil {
			return nil, fmt.Errorf("read overview from store %s: %w", s.name, err)
		}
		a.LastRunAt = fromNS(at)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read overview from store %s: %w", s.name, err)
	}
	return out, nil
}

// Trend is the per-account summary after each of the last runs finished
// runs of a target ("" for all), oldest first, by account within a run.
func (s *sqlStore) Trend(ctx context.Context, target string, runs int) ([]TrendPoint, error) {
	w := where{conds: []string{"finished_ns IS NOT NULL"}}
	if target != "" {
		w.add("target = ?", target)
	}
	rows, err := s.reader().query(ctx, `SELECT r.id, r.started_ns, r.target, a.account_id,
			a.users, a.pass, a.fail, a.exempt, a.errors
		FROM (SELECT id FROM runs`+w.sql()+` ORDER BY id DESC`+s.d.limit(runs, 0)+`) last
		JOIN runs r ON r.id = last.id JOIN run_accounts a ON a.run_id = r.id
		ORDER BY r.id, a.account_id`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("read trend from store %s: %w", s.name, err)
	}
	defer rows.Close()
	var out []TrendPoint
	for rows.Next() {
		var p TrendPoint
		var at int64
		if err := rows.Scan(&p.RunID, &at, &p.Target, &p.AccountID, &p.Users, &p.Pass, &p.Fail, &p.Exempt, &p.Error); err != nil {
			return nil, fmt.Errorf("read trend from store %s: %w", s.name, err)
		}
		p.At = fromNS(at)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read trend from store %s: %w", s.name, err)
	}
	return out, nil
}

// UserHistory is a user's status in every run that evaluated it, newest
// first.
func (s *sqlStore) UserHistory(ctx context.Context, account, user string, limitRuns int) ([]UserState, error) {
	c := s.reader()
	var w where
	switch {
	case account != "":
		w.add("account_id = ?", account)
		w.add("(user_name = ? OR user_arn = ?)", user, user)
	case user != "":
		w.add("user_arn = ?", user)
	default:
		return nil, errors.New("read user history: no user given")
	}
	var ids []any
	rows, err := c.query(ctx, "SELECT id FROM subjects"+w.sql(), w.args...)
	if err != nil {
		return nil, fmt.Errorf("read history of %s in store %s: %w", user, s.name, err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read history of %s in store %s: %w", user, s.name, err)
		}
		ids = append(ids, id)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("read history of %s in store %s: %w", user, s.name, err)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("read history of %s: %w", user, ErrNotFound)
	}
	// Walk the runs newest first and look the user up in each by the
	// results key (run, user): the results table has no index by user, which
	// would cost as much as the table and be written all over on every run.
	// CROSS JOIN tells SQLite to keep runs as the outer loop.
	rows, err = c.query(ctx, `SELECT r.id, r.started_ns, r.target, x.status, e.body
		FROM runs r CROSS JOIN results x
		LEFT JOIN evidence e ON e.id = x.evidence_id
		WHERE x.run_id = r.id AND x.subject_id IN (`+strings.Repeat("?,", len(ids)-1)+`?)
		ORDER BY r.id DESC`+s.d.limit(limitRuns, 0), ids...)
	if err != nil {
		return nil, fmt.Errorf("read history of %s in store %s: %w", user, s.name, err)
	}
	defer rows.Close()
	var out []UserState
	for rows.Next() {
		var u UserState
		var at int64
		var code int
		var body sql.NullString
		if err := rows.Scan(&u.RunID, &at, &u.Target, &code, &body); err != nil {
			return nil, fmt.Errorf("read history of %s in store %s: %w", user, s.name, err)
		}
		u.At = fromNS(at)
		if code < 0 || code >= len(statusByCode) {
			return nil, fmt.Errorf("read history of %s in store %s: unknown status code %d", user, s.name, code)
		}
		u.Status = statusByCode[code]
		if body.Valid {
			if err := json.Unmarshal([]byte(body.String), &u.Evidence); err != nil {
				return nil, fmt.Errorf("read history of %s in store %s: decode evidence: %w", user, s.name, err)
			}
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read history of %s in store %s: %w", user, s.name, err)
	}
	return out, nil
}

// where builds a WHERE clause from conditions joined by AND.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// limit renders LIMIT and OFFSET; a limit of 0 is none.
func (d *dialect) limit(n, offset int) string {
	var b strings.Builder
	if n > 0 {
		fmt.Fprintf(&b, " LIMIT %d", n)
	} else if offset > 0 {
		b.WriteString(d.noLimit)
	}
	if offset > 0 {
		fmt.Fprintf(&b, " OFFSET %d", offset)
	}
	return b.String()
}

// likePattern turns a user's filter into a lower-case LIKE pattern: a
// substring match, or with '*' a wildcard match of the whole value.
func likePattern(filter string) string {
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(filter))
	if !strings.Contains(esc, "*") {
		return "%" + esc + "%"
	}
	return strings.ReplaceAll(esc, "*", "%")
}
