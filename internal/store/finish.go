package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/iamgroups/iamgroups/internal/rule"
)

// Result statuses as the results table codes them.
var statusCodes = map[rule.Status]int{rule.Pass: 0, rule.Fail: 1, rule.Exempt: 2, rule.Error: 3}

var statusByCode = []rule.Status{rule.Pass, rule.Fail, rule.Exempt, rule.Error}

// severity orders statuses for the rare source that reports one user
// twice: the worse verdict is kept, so a duplicate never hides a FAIL.
var severity = map[rule.Status]int{rule.Pass: 0, rule.Exempt: 1, rule.Error: 2, rule.Fail: 3}

// preparedRun is the part of recording a run that needs no database:
// results deduplicated by fingerprint and sorted, their evidence encoded
// and hashed, the counts by account.
type preparedRun struct {
	results      []*rule.Result
	fingerprints []string
	evidence     []*Evidence
	bodies       []string
	hashes       []string // 16 bytes of SHA-256 of the body
	summary      rule.Summary
	byAccount    map[string]*rule.Summary
	// unreadable are the accounts that came back as one account-level ERROR
	// result: none of their users was seen.
	unreadable map[string]bool
}

func prepareRun(results []rule.Result) (*preparedRun, error) {
	p := &preparedRun{byAccount: map[string]*rule.Summary{}, unreadable: map[string]bool{}}
	index := make(map[string]int, len(results))
	for i := range results {
		r := &results[i]
		if _, ok := statusCodes[r.Status]; !ok {
			return nil, fmt.Errorf("result for %s: unknown status %q", r.Fingerprint(), r.Status)
		}
		if r.AccountID == "" {
			return nil, fmt.Errorf("result for user %q: no account ID", r.UserName)
		}
		fp := r.Fingerprint()
		if j, ok := index[fp]; ok {
			if severity[r.Status] > severity[p.results[j].Status] {
				p.results[j] = r
			}
			continue
		}
		index[fp] = len(p.results)
		p.results = append(p.results, r)
		p.fingerprints = append(p.fingerprints, fp)
	}
	order := make([]int, len(p.results))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(p.fingerprints[a], p.fingerprints[b]) })
	sorted := make([]*rule.Result, len(order))
	fps := make([]string, len(order))
	for i, j := range order {
		sorted[i], fps[i] = p.results[j], p.fingerprints[j]
	}
	p.results, p.fingerprints = sorted, fps

	p.evidence = make([]*Evidence, len(p.results))
	p.bodies = make([]string, len(p.results))
	p.hashes = make([]string, len(p.results))
	for i, r := range p.results {
		ev := &Evidence{
			Groups:              r.Groups,
			Violations:          r.Violations,
			PermissionsBoundary: r.PermissionsBoundary,
			Exemption:           r.Exemption,
			Message:             r.Message,
		}
		body, err := json.Marshal(ev)
		if err != nil {
			return nil, fmt.Errorf("encode evidence of %s: %w", p.fingerprints[i], err)
		}
		sum := sha256.Sum256(body)
		p.evidence[i], p.bodies[i], p.hashes[i] = ev, string(body), string(sum[:16])

		acct := p.byAccount[r.AccountID]
		if acct == nil {
			acct = &rule.Summary{}
			p.byAccount[r.AccountID] = acct
		}
		count(acct, r.Status)
		count(&p.summary, r.Status)
		if r.Status == rule.Error && r.UserARN == "" && r.UserName == "" {
			p.unreadable[r.AccountID] = true
		}
	}
	return p, nil
}

func count(s *rule.Summary, st rule.Status) {
	s.Users++
	switch st {
	case rule.Pass:
		s.Pass++
	case rule.Fail:
		s.Fail++
	case rule.Exempt:
		s.Exempt++
	case rule.Error:
		s.Error++
	}
}

// FinishRun records a run's results and advances the findings of its
// target, all in one transaction.
func (s *sqlStore) FinishRun(ctx context.Context, runID int64, end RunEnd) ([]Change, error) {
	switch end.Status {
	case RunOK, RunPartial, RunFailed:
	default:
		return nil, fmt.Errorf("finish run %d: status %q is not %s, %s or %s", runID, end.Status, RunOK, RunPartial, RunFailed)
	}
	finished := end.FinishedAt
	if finished.IsZero() {
		finished = time.Now()
	}
	p, err := prepareRun(end.Results)
	if err != nil {
		return nil, fmt.Errorf("finish run %d: %w", runID, err)
	}
	accounts := map[string]bool{}
	for _, a := range end.Accounts {
		accounts[a] = true
	}
	for a := range p.byAccount {
		accounts[a] = true
	}
	apiCalls, err := json.Marshal(nonNilCalls(end.APICalls))
	if err != nil {
		return nil, fmt.Errorf("finish run %d: encode API calls: %w", runID, err)
	}
	accountList := slices.Sorted(maps.Keys(accounts))
	accountsJSON, err := json.Marshal(accountList)
	if err != nil {
		return nil, fmt.Errorf("finish run %d: encode accounts: %w", runID, err)
	}

	var changes []Change
	err = s.inTx(ctx, func(c conn) error {
		var target, status string
		var started int64
		err := c.queryRow(ctx, "SELECT target, status, started_ns FROM runs WHERE id = ?"+s.d.forUpdate, runID).
			Scan(&target, &status, &started)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if status != RunRunning {
			return fmt.Errorf("the run is %s, not running", status)
		}
		if s.d.lockTarget != "" {
			if _, err := c.exec(ctx, s.d.lockTarget, target); err != nil {
				return err
			}
		}
		rec := recorder{c: c, runID: runID, target: target, at: started, p: p}
		if err := rec.subjects(ctx); err != nil {
			return fmt.Errorf("record users: %w", err)
		}
		if err := rec.evidenceRows(ctx); err != nil {
			return fmt.Errorf("record evidence: %w", err)
		}
		if err := rec.results(ctx); err != nil {
			return fmt.Errorf("record results: %w", err)
		}
		// A failed run saw nothing, so it resolves nothing by absence; nor
		// does an account that could not be read at all.
		sweep := map[string]bool{}
		if end.Status != RunFailed {
			for _, a := range end.Accounts {
				if !p.unreadable[a] {
					sweep[a] = true
				}
			}
		}
		changes, err = rec.findings(ctx, sweep)
		if err != nil {
			return fmt.Errorf("update findings: %w", err)
		}
		if err := rec.summaries(ctx, accountList); err != nil {
			return fmt.Errorf("record summaries: %w", err)
		}
		var n [3]int
		for _, ch := range changes {
			switch ch.Kind {
			case ChangeNew:
				n[0]++
			case ChangeResolved:
				n[1]++
			case ChangeReopened:
				n[2]++
			}
		}
		_, err = c.exec(ctx, `UPDATE runs SET status = ?, finished_ns = ?, method = ?, api_calls = ?, error = ?,
			accounts = ?, users = ?, pass = ?, fail = ?, exempt = ?, errors = ?,
			new_findings = ?, resolved_findings = ?, reopened_findings = ?
			WHERE id = ?`,
			end.Status, finished.UnixNano(), end.Method, string(apiCalls), end.Error, string(accountsJSON),
			p.summary.Users, p.summary.Pass, p.summary.Fail, p.summary.Exempt, p.summary.Error,
			n[0], n[1], n[2], runID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("finish run %d in store %s: %w", runID, s.name, err)
	}
	return changes, nil
}

func nonNilCalls(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return m
}

// recorder writes one run inside FinishRun's transaction.
type recorder struct {
	c      conn
	runID  int64
	target string
	at     int64
	p      *preparedRun

	subjectIDs  []int64 // per result
	evidenceIDs []int64 // per result
}

// subjects finds or creates the subject row of every result.
func (r *recorder) subjects(ctx context.Context) error {
	ids := make(map[string]int64, len(r.p.fingerprints))
	scan := func(rows *sql.Rows) error {
		var id int64
		var fp string
		if err := rows.Scan(&id, &fp); err != nil {
			return err
		}
		ids[fp] = id
		return nil
	}
	if err := r.c.selectIn(ctx, "SELECT id, fingerprint FROM subjects WHERE fingerprint", "", anys(r.p.fingerprints), scan); err != nil {
		return err
	}
	var missing []int
	for i, fp := range r.p.fingerprints {
		if _, ok := ids[fp]; !ok {
			missing = append(missing, i)
		}
	}
	if len(missing) > 0 {
		err := r.c.insertMany(ctx, "INSERT INTO subjects (fingerprint, rule_id, account_id, user_name, user_arn)",
			"ON CONFLICT (fingerprint) DO NOTHING", 5, len(missing), func(i int, args []any) []any {
				res := r.p.results[missing[i]]
				return append(args, r.p.fingerprints[missing[i]], res.RuleID, res.AccountID, res.UserName, res.UserARN)
			})
		if err != nil {
			return err
		}
		keys := make([]any, len(missing))
		for i, j := range missing {
			keys[i] = r.p.fingerprints[j]
		}
		if err := r.c.selectIn(ctx, "SELECT id, fingerprint FROM subjects WHERE fingerprint", "", keys, scan); err != nil {
			return err
		}
	}
	r.subjectIDs = make([]int64, len(r.p.fingerprints))
	for i, fp := range r.p.fingerprints {
		id, ok := ids[fp]
		if !ok {
			return fmt.Errorf("user %s was not recorded", fp)
		}
		r.subjectIDs[i] = id
	}
	return nil
}

// evidenceRows finds or creates one evidence row per distinct document,
// with the policies it names.
func (r *recorder) evidenceRows(ctx context.Context) error {
	first := map[string]int{} // hash → first result with it
	var hashes []any
	for i, h := range r.p.hashes {
		if _, ok := first[h]; !ok {
			first[h] = i
			hashes = append(hashes, []byte(h))
		}
	}
	ids := make(map[string]int64, len(first))
	scan := func(rows *sql.Rows) error {
		var id int64
		var h []byte
		if err := rows.Scan(&id, &h); err != nil {
			return err
		}
		ids[string(h)] = id
		return nil
	}
	if err := r.c.selectIn(ctx, "SELECT id, hash FROM evidence WHERE hash", "", hashes, scan); err != nil {
		return err
	}
	var missing []int // a result index per new document
	var missingKeys []any
	for _, h := range hashes {
		if _, ok := ids[string(h.([]byte))]; !ok {
			missing = append(missing, first[string(h.([]byte))])
			missingKeys = append(missingKeys, h)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		err := r.c.insertMany(ctx, "INSERT INTO evidence (hash, body)", "ON CONFLICT (hash) DO NOTHING", 2, len(missing),
			func(i int, args []any) []any {
				j := missing[i]
				return append(args, []byte(r.p.hashes[j]), r.p.bodies[j])
			})
		if err != nil {
			return err
		}
		if err := r.c.selectIn(ctx, "SELECT id, hash FROM evidence WHERE hash", "", missingKeys, scan); err != nil {
			return err
		}
		if err := r.policies(ctx, missing, ids); err != nil {
			return err
		}
	}
	r.evidenceIDs = make([]int64, len(r.p.hashes))
	for i, h := range r.p.hashes {
		id, ok := ids[h]
		if !ok {
			return fmt.Errorf("evidence of %s was not recorded", r.p.fingerprints[i])
		}
		r.evidenceIDs[i] = id
	}
	return nil
}

type policyKey struct{ kind, name, arn string }

// policies links new evidence documents (given by a result that holds
// each) to the direct policies they name.
func (r *recorder) policies(ctx context.Context, docs []int, evidenceIDs map[string]int64) error {
	type link struct {
		evidence int64
		policy   policyKey
	}
	var links []link
	wanted := map[policyKey]bool{}
	for _, j := range docs {
		for _, v := range r.p.results[j].Violations {
			k := policyKey{v.Kind, v.Name, v.ARN}
			wanted[k] = true
			links = append(links, link{evidenceIDs[r.p.hashes[j]], k})
		}
	}
	if len(links) == 0 {
		return nil
	}
	keys := slices.SortedFunc(maps.Keys(wanted), func(a, b policyKey) int {
		return strings.Compare(a.kind+"\x00"+a.name+"\x00"+a.arn, b.kind+"\x00"+b.name+"\x00"+b.arn)
	})
	err := r.c.insertMany(ctx, "INSERT INTO policies (kind, name, arn)", "ON CONFLICT (kind, name, arn) DO NOTHING", 3, len(keys),
		func(i int, args []any) []any { return append(args, keys[i].kind, keys[i].name, keys[i].arn) })
	if err != nil {
		return err
	}
	names := map[string]bool{}
	for _, k := range keys {
		names[k.name] = true
	}
	ids := map[policyKey]int64{}
	err = r.c.selectIn(ctx, "SELECT id, kind, name, arn FROM policies WHERE name", "", anys(slices.Sorted(maps.Keys(names))),
		func(rows *sql.Rows) error {
			var id int64
			var k policyKey
			if err := rows.Scan(&id, &k.kind, &k.name, &k.arn); err != nil {
				return err
			}
			ids[k] = id
			return nil
		})
	if err != nil {
		return err
	}
	// A document that names a policy twice links to it once.
	seen := map[[2]int64]bool{}
	var rows [][2]int64
	for _, l := range links {
		pair := [2]int64{l.evidence, ids[l.policy]}
		if !seen[pair] {
			seen[pair] = true
			rows = append(rows, pair)
		}
	}
	return r.c.insertMany(ctx, "INSERT INTO evidence_policies (evidence_id, policy_id)", "ON CONFLICT DO NOTHING", 2, len(rows),
		func(i int, args []any) []any { return append(args, rows[i][0], rows[i][1]) })
}

func (r *recorder) results(ctx context.Context) error {
	return r.c.insertMany(ctx, "INSERT INTO results (run_id, subject_id, status, evidence_id)", "", 4, len(r.p.results),
		func(i int, args []any) []any {
			return append(args, r.runID, r.subjectIDs[i], statusCodes[r.p.results[i].Status], r.evidenceIDs[i])
		})
}

// findings advances the target's findings and records the changes.
func (r *recorder) findings(ctx context.Context, sweep map[string]bool) ([]Change, error) {
	rows, err := r.c.query(ctx, `SELECT f.subject_id, s.fingerprint, s.rule_id, s.account_id, s.user_name, s.user_arn,
			f.state, f.status, f.first_seen_ns, f.last_seen_ns, f.resolved_ns, f.reopened, f.evidence_id
		FROM findings f JOIN subjects s ON s.id = f.subject_id
		WHERE f.target = ?`, r.target)
	if err != nil {
		return nil, err
	}
	current := map[int64]*findingRow{}
	for rows.Next() {
		var f findingRow
		var resolved, evidence sql.NullInt64
		var status string
		if err := rows.Scan(&f.subjectID, &f.fingerprint, &f.ruleID, &f.accountID, &f.userName, &f.userARN,
			&f.state, &status, &f.firstSeen, &f.lastSeen, &resolved, &f.reopened, &evidence); err != nil {
			rows.Close()
			return nil, err
		}
		f.status, f.resolved, f.evidenceID = rule.Status(status), resolved.Int64, evidence.Int64
		current[f.subjectID] = &f
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, err
	}

	obs := make([]observation, len(r.p.results))
	for i, res := range r.p.results {
		obs[i] = observation{
			subjectID: r.subjectIDs[i], fingerprint: r.p.fingerprints[i], result: res,
			evidenceID: r.evidenceIDs[i], evidence: r.p.evidence[i],
		}
	}
	dirty, events := advance(current, obs, sweep, r.at)

	err = r.c.insertMany(ctx, `INSERT INTO findings (target, subject_id, account_id, state, status,
			first_seen_ns, last_seen_ns, resolved_ns, reopened, evidence_id)`,
		`ON CONFLICT (target, subject_id) DO UPDATE SET state = excluded.state, status = excluded.status,
			last_seen_ns = excluded.last_seen_ns, resolved_ns = excluded.resolved_ns,
			reopened = excluded.reopened, evidence_id = excluded.evidence_id`,
		10, len(dirty), func(i int, args []any) []any {
			f := dirty[i]
			return append(args, r.target, f.subjectID, f.accountID, f.state, string(f.status),
				f.firstSeen, f.lastSeen, nullTime(f.resolved), f.reopened, nullID(f.evidenceID))
		})
	if err != nil {
		return nil, err
	}
	err = r.c.insertMany(ctx, `INSERT INTO changes (run_id, subject_id, target, kind, state, status,
			first_seen_ns, last_seen_ns, resolved_ns, reopened, evidence_id)`, "",
		11, len(events), func(i int, args []any) []any {
			f := events[i].row
			return append(args, r.runID, f.subjectID, r.target, events[i].kind, f.state, string(f.status),
				f.firstSeen, f.lastSeen, nullTime(f.resolved), f.reopened, nullID(f.evidenceID))
		})
	if err != nil {
		return nil, err
	}

	// Findings resolved without a fresh document keep the one they had.
	var load []any
	for _, e := range events {
		if e.row.evidence == nil && e.row.evidenceID != 0 {
			load = append(load, e.row.evidenceID)
		}
	}
	docs, err := loadEvidence(ctx, r.c, load)
	if err != nil {
		return nil, err
	}
	out := make([]Change, len(events))
	for i, e := range events {
		f := e.row.finding(r.target)
		if e.row.evidence != nil {
			f.Evidence = *e.row.evidence
		} else {
			f.Evidence = docs[e.row.evidenceID]
		}
		out[i] = Change{Kind: e.kind, RunID: r.runID, At: fromNS(r.at), Finding: f}
	}
	return out, nil
}

// summaries records the counts of every account the run covered, and
// makes this run the latest of each.
func (r *recorder) summaries(ctx context.Context, accounts []string) error {
	err := r.c.insertMany(ctx, "INSERT INTO run_accounts (run_id, target, account_id, users, pass, fail, exempt, errors)", "",
		8, len(accounts), func(i int, args []any) []any {
			s := r.p.byAccount[accounts[i]]
			if s == nil {
				s = &rule.Summary{}
			}
			return append(args, r.runID, r.target, accounts[i], s.Users, s.Pass, s.Fail, s.Exempt, s.Error)
		})
	if err != nil {
		return err
	}
	return r.c.insertMany(ctx, "INSERT INTO latest_accounts (target, account_id, run_id)",
		"ON CONFLICT (target, account_id) DO UPDATE SET run_id = excluded.run_id",
		3, len(accounts), func(i int, args []any) []any { return append(args, r.target, accounts[i], r.runID) })
}

// finding is the row as the API shows it.
func (f *findingRow) finding(target string) Finding {
	out := Finding{
		Fingerprint: f.fingerprint, Target: target, RuleID: f.ruleID, AccountID: f.accountID,
		UserName: f.userName, UserARN: f.userARN, State: f.state, Status: f.status,
		FirstSeen: fromNS(f.firstSeen), LastSeen: fromNS(f.lastSeen), Reopened: f.reopened,
	}
	if f.resolved != 0 {
		t := fromNS(f.resolved)
		out.ResolvedAt = &t
	}
	return out
}

// loadEvidence decodes the evidence documents with the given IDs.
func loadEvidence(ctx context.Context, c conn, ids []any) (map[int64]Evidence, error) {
	docs := map[int64]Evidence{}
	err := c.selectIn(ctx, "SELECT id, body FROM evidence WHERE id", "", ids, func(rows *sql.Rows) error {
		var id int64
		var body string
		if err := rows.Scan(&id, &body); err != nil {
			return err
		}
		var ev Evidence
		if err := json.Unmarshal([]byte(body), &ev); err != nil {
			return fmt.Errorf("decode evidence %d: %w", id, err)
		}
		docs[id] = ev
		return nil
	})
	return docs, err
}

func fromNS(ns int64) time.Time { return time.Unix(0, ns).UTC() }

func nullTime(ns int64) any {
	if ns == 0 {
		return nil
	}
	return ns
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func anys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}
