// Package storetest is the test suite every store.Store implementation
// passes, and Seed, which fills a store with a realistic history for other
// packages' tests and benchmarks. It holds test helpers only and is
// imported by tests, never by the binary.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/iamgroups/iamgroups/internal/rule"
	"github.com/iamgroups/iamgroups/internal/store"
)

// Run runs the suite against stores made by open, which returns a fresh,
// empty store and closes it when the test ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"RunRecord", testRunRecord},
		{"FinishRunErrors", testFinishRunErrors},
		{"NewResolvedReopened", testNewResolvedReopened},
		{"ErrorNeitherOpensNorResolves", testErrorNeitherOpensNorResolves},
		{"AbsenceResolvesInCoveredAccountsOnly", testAbsence},
		{"UnreadableAccountResolvesNothing", testUnreadableAccount},
		{"FailedRunResolvesNothing", testFailedRun},
		{"ExemptionExpiry", testExemptionExpiry},
		{"DuplicateResultKeepsFail", testDuplicate},
		{"TargetsAreSeparate", testTargets},
		{"FindingFilters", testFindingFilters},
		{"FindingPagination", testFindingPagination},
		{"Changes", testChanges},
		{"RunsNewestFirst", testRuns},
		{"Overview", testOverview},
		{"Trend", testTrend},
		{"UserHistory", testUserHistory},
		{"MarkInterrupted", testMarkInterrupted},
		{"InterruptRun", testInterruptRun},
		{"ConcurrentReadersDuringWrite", testConcurrentReaders},
		{"Seed", testSeed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// t0 is the start of the first run of most tests; run i starts i hours
// later.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func at(i int) time.Time { return t0.Add(time.Duration(i) * time.Hour) }

// user builds a result. Policies are "m:Name" (an AWS managed policy) or
// "i:name" (inline).
func user(account, name string, st rule.Status, policies ...string) rule.Result {
	r := rule.Result{
		RuleID: "IAM-071", Risk: rule.Medium, Status: st, AccountID: account, UserName: name,
		UserARN: "arn:aws:iam::" + account + ":user/" + name, Groups: []string{"Staff"},
	}
	for _, p := range policies {
		kind, pname := p[:1], p[2:]
		if kind == "m" {
			r.Violations = append(r.Violations, rule.Violation{Kind: "managed", Name: pname, ARN: "arn:aws:iam::aws:policy/" + pname})
		} else {
			r.Violations = append(r.Violations, rule.Violation{Kind: "inline", Name: pname, Digest: "d1g357"})
		}
	}
	switch st {
	case rule.Pass:
		r.Message = "no direct policies"
	case rule.Fail, rule.Exempt:
		r.Message = fmt.Sprintf("holds %d policies directly", len(policies))
	case rule.Error:
		r.Message = "could not be evaluated: AccessDenied"
	}
	return r
}

const (
	acctA = "111111111111"
	acctB = "222222222222"
)

func arn(account, name string) string { return "arn:aws:iam::" + account + ":user/" + name }

func fp(account, name string) string { return "IAM-071/" + account + "/" + arn(account, name) }

// record runs one complete scan of target starting at start.
func record(t *testing.T, s store.Store, target string, start time.Time, accounts []string, results ...rule.Result) (int64, []store.Change) {
	t.Helper()
	ctx := context.Background()
	id, err := s.BeginRun(ctx, store.RunStart{Target: target, Trigger: "schedule", Source: "test", StartedAt: start})
	if err != nil {
		t.Fatal(err)
	}
	status := store.RunOK
	for _, r := range results {
		if r.Status == rule.Error {
			status = store.RunPartial
		}
	}
	changes, err := s.FinishRun(ctx, id, store.RunEnd{Status: status, FinishedAt: start.Add(30 * time.Second),
		Method: "gaad", Accounts: accounts, Results: results})
	if err != nil {
		t.Fatal(err)
	}
	return id, changes
}

// kinds renders changes as "kind fingerprint" lines.
func kinds(changes []store.Change) []string {
	out := []string{}
	for _, c := range changes {
		out = append(out, c.Kind+" "+c.Finding.Fingerprint)
	}
	return out
}

func wantKinds(t *testing.T, what string, got []store.Change, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if g := kinds(got); !slices.Equal(g, want) {
		t.Fatalf("%s: changes\n got %q\nwant %q", what, g, want)
	}
}

// findings returns every finding of q, failing the test on error.
func findings(t *testing.T, s store.Store, q store.FindingQuery) []store.Finding {
	t.Helper()
	fs, total, err := s.Findings(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if q.Limit == 0 && q.Offset == 0 && total != len(fs) {
		t.Fatalf("Findings(%+v): total %d, but %d findings", q, total, len(fs))
	}
	return fs
}

func finding(t *testing.T, s store.Store, target, fingerprint string) store.Finding {
	t.Helper()
	for _, f := range findings(t, s, store.FindingQuery{Target: target}) {
		if f.Fingerprint == fingerprint {
			return f
		}
	}
	t.Fatalf("no finding %s in target %s", fingerprint, target)
	return store.Finding{}
}

func testRunRecord(t *testing.T, s store.Store) {
	ctx := context.Background()
	start := at(0)
	id, err := s.BeginRun(ctx, store.RunStart{Target: "prod", Trigger: "api", Source: "profile prod-audit", StartedAt: start})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Run(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != store.RunRunning || r.Target != "prod" || r.Trigger != "api" || r.Source != "profile prod-audit" ||
		!r.StartedAt.Equal(start) || !r.FinishedAt.IsZero() || r.Duration() != 0 {
		t.Fatalf("running run recorded as %+v", r)
	}
	end := store.RunEnd{
		Status: store.RunPartial, FinishedAt: start.Add(90 * time.Second), Method: "list",
		APICalls: map[string]int{"ListUsers": 2, "ListAttachedUserPolicies": 40},
		Error:    "1 user could not be read", Accounts: []string{acctB, acctA},
		Results: []rule.Result{
			user(acctA, "alice", rule.Fail, "m:AdministratorAccess"),
			user(acctA, "bob", rule.Pass),
			user(acctB, "carol", rule.Exempt, "m:ReadOnlyAccess"),
			user(acctB, "dan", rule.Error),
		},
	}
	changes, err := s.FinishRun(ctx, id, end)
	if err != nil {
		t.Fatal(err)
	}
	wantKinds(t, "first run", changes, "new "+fp(acctA, "alice"))
	c := changes[0]
	if c.RunID != id || !c.At.Equal(start) || c.Finding.State != store.FindingOpen || c.Finding.Status != rule.Fail ||
		c.Finding.Target != "prod" || c.Finding.UserName != "alice" || c.Finding.AccountID != acctA ||
		len(c.Finding.Evidence.Violations) != 1 || c.Finding.Evidence.Violations[0].Name != "AdministratorAccess" {
		t.Fatalf("new finding reported as %+v", c)
	}
	r, err = s.Run(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := store.Run{
		ID: id, Target: "prod", Trigger: "api", Source: "profile prod-audit", Status: store.RunPartial, Method: "list",
		StartedAt: start, FinishedAt: start.Add(90 * time.Second), APICalls: end.APICalls, Error: end.Error,
		Accounts: []string{acctA, acctB}, Summary: rule.Summary{Users: 4, Pass: 1, Fail: 1, Exempt: 1, Error: 1}, New: 1,
	}
	if !r.StartedAt.Equal(want.StartedAt) || !r.FinishedAt.Equal(want.FinishedAt) {
		t.Fatalf("run times %v–%v, want %v–%v", r.StartedAt, r.FinishedAt, want.StartedAt, want.FinishedAt)
	}
	r.StartedAt, r.FinishedAt = want.StartedAt, want.FinishedAt
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("finished run\n got %+v\nwant %+v", r, want)
	}
	if r.Duration() != 90*time.Second {
		t.Fatalf("duration %v, want 90s", r.Duration())
	}
	if _, err := s.Run(ctx, id+1000); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Run of an unknown ID: %v, want ErrNotFound", err)
	}
}

func testFinishRunErrors(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.FinishRun(ctx, 4242, store.RunEnd{Status: store.RunOK}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("FinishRun of an unknown run: %v, want ErrNotFound", err)
	}
	id, _ := record(t, s, "prod", at(0), []string{acctA}, user(acctA, "alice", rule.Fail, "m:X"))
	if _, err := s.FinishRun(ctx, id, store.RunEnd{Status: store.RunOK}); err == nil {
		t.Fatal("a run was finished twice")
	}
	id2, err := s.BeginRun(ctx, store.RunStart{Target: "prod", StartedAt: at(1)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.FinishRun(ctx, id2, store.RunEnd{Status: store.RunRunning}); err == nil {
		t.Fatal("FinishRun accepted the status running")
	}
	bad := user(acctA, "bob", "MAYBE")
	if _, err := s.FinishRun(ctx, id2, store.RunEnd{Status: store.RunOK, Results: []rule.Result{bad}}); err == nil {
		t.Fatal("FinishRun accepted a result with an unknown status")
	}
	// The refused attempts changed nothing: the run can still finish.
	if _, err := s.FinishRun(ctx, id2, store.RunEnd{Status: store.RunOK, Accounts: []string{acctA},
		Results: []rule.Result{user(acctA, "alice", rule.Fail, "m:X")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.BeginRun(ctx, store.RunStart{}); err == nil {
		t.Fatal("BeginRun accepted a run without a target")
	}
}

func testNewResolvedReopened(t *testing.T, s store.Store) {
	A := []string{acctA}
	_, ch := record(t, s, "prod", at(0), A, user(acctA, "alice", rule.Fail, "m:ReadOnlyAccess"), user(acctA, "bob", rule.Pass))
	wantKinds(t, "run 1", ch, "new "+fp(acctA, "alice"))
	f := finding(t, s, "prod", fp(acctA, "alice"))
	if f.State != store.FindingOpen || !f.FirstSeen.Equal(at(0)) || !f.LastSeen.Equal(at(0)) || f.ResolvedAt != nil || f.Reopened != 0 {
		t.Fatalf("after run 1: %+v", f)
	}
	if got := findings(t, s, store.FindingQuery{}); len(got) != 1 {
		t.Fatalf("a passing user has a finding: %+v", got)
	}

	_, ch = record(t, s, "prod", at(1), A, user(acctA, "alice", rule.Fail, "m:ReadOnlyAccess", "i:extra"), user(acctA, "bob", rule.Pass))
	wantKinds(t, "run 2 (still failing)", ch)
	f = finding(t, s, "prod", fp(acctA, "alice"))
	if !f.LastSeen.Equal(at(1)) || !f.FirstSeen.Equal(at(0)) || len(f.Evidence.Violations) != 2 {
		t.Fatalf("a failing user's finding was not refreshed: %+v", f)
	}

	_, ch = record(t, s, "prod", at(2), A, user(acctA, "alice", rule.Pass), user(acctA, "bob", rule.Pass))
	wantKinds(t, "run 3", ch, "resolved "+fp(acctA, "alice"))
	f = finding(t, s, "prod", fp(acctA, "alice"))
	if f.State != store.FindingResolved || f.ResolvedAt == nil || !f.ResolvedAt.Equal(at(2)) || f.Status != rule.Pass ||
		!f.LastSeen.Equal(at(1)) || len(f.Evidence.Violations) != 2 {
		t.Fatalf("after run 3: %+v", f)
	}

	_, ch = record(t, s, "prod", at(3), A, user(acctA, "alice", rule.Pass), user(acctA, "bob", rule.Pass))
	wantKinds(t, "run 4 (still passing)", ch)

	_, ch = record(t, s, "prod", at(4), A, user(acctA, "alice", rule.Fail, "m:AdministratorAccess"), user(acctA, "bob", rule.Fail, "i:x"))
	wantKinds(t, "run 5", ch, "reopened "+fp(acctA, "alice"), "new "+fp(acctA, "bob"))
	f = finding(t, s, "prod", fp(acctA, "alice"))
	if f.State != store.FindingOpen || f.ResolvedAt != nil || f.Reopened != 1 || !f.FirstSeen.Equal(at(0)) ||
		!f.LastSeen.Equal(at(4)) || f.Evidence.Violations[0].Name != "AdministratorAccess" {
		t.Fatalf("after run 5: %+v", f)
	}
	if ch[0].Finding.Reopened != 1 || ch[0].Finding.State != store.FindingOpen {
		t.Fatalf("reopened change: %+v", ch[0].Finding)
	}
}

func testErrorNeitherOpensNorResolves(t *testing.T, s store.Store) {
	A := []string{acctA}
	_, ch := record(t, s, "prod", at(0), A, user(acctA, "alice", rule.Fail, "m:X"), user(acctA, "bob", rule.Error))
	wantKinds(t, "run 1", ch, "new "+fp(acctA, "alice"))
	_, ch = record(t, s, "prod", at(1), A, user(acctA, "alice", rule.Error), user(acctA, "bob", rule.Error))
	wantKinds(t, "run 2", ch)
	f := finding(t, s, "prod", fp(acctA, "alice"))
	if f.State != store.FindingOpen || f.Status != rule.Error || !f.LastSeen.Equal(at(0)) {
		t.Fatalf("an ERROR result changed an open finding: %+v", f)
	}
	if got := findings(t, s, store.FindingQuery{}); len(got) != 1 {
		t.Fatalf("an ERROR result opened a finding: %+v", got)
	}
	_, ch = record(t, s, "prod", at(2), A, user(acctA, "alice", rule.Pass), user(acctA, "bob", rule.Pass))
	wantKinds(t, "run 3", ch, "resolved "+fp(acctA, "alice"))
}

func testAbsence(t *testing.T, s store.Store) {
	_, ch := record(t, s, "prod", at(0), []string{acctA, acctB},
		user(acctA, "alice", rule.Fail, "m:X"), user(acctA, "bob", rule.Pass), user(acctB, "carol", rule.Fail, "m:Y"))
	wantKinds(t, "run 1", ch, "new "+fp(acctA, "alice"), "new "+fp(acctB, "carol"))
	// Only account A is covered, and alice is gone from it.
	_, ch = record(t, s, "prod", at(1), []string{acctA}, user(acctA, "bob", rule.Pass))
	wantKinds(t, "run 2", ch, "resolved "+fp(acctA, "alice"))
	if f := finding(t, s, "prod", fp(acctB, "carol")); f.State != store.FindingOpen || !f.LastSeen.Equal(at(0)) {
		t.Fatalf("a finding of an account the run did not cover changed: %+v", f)
	}
	f := finding(t, s, "prod", fp(acctA, "alice"))
	if f.State != store.FindingResolved || !f.ResolvedAt.Equal(at(1)) {
		t.Fatalf("a deleted user's finding: %+v", f)
	}
	// A run whose Accounts is empty resolves nothing by absence.
	_, ch = record(t, s, "prod", at(2), nil, user(acctA, "bob", rule.Pass))
	wantKinds(t, "run 3", ch)
}

func testUnreadableAccount(t *testing.T, s store.Store) {
	both := []string{acctA, acctB}
	record(t, s, "prod", at(0), both, user(acctA, "alice", rule.Fail, "m:X"), user(acctB, "carol", rule.Fail, "m:Y"))
	unreadable := rule.Result{RuleID: "IAM-071", Status: rule.Error, AccountID: acctB, Message: "account could not be audited: AccessDenied"}
	id, ch := record(t, s, "prod", at(1), both, user(acctA, "alice", rule.Fail, "m:X"), unreadable)
	wantKinds(t, "run with account B unreadable", ch)
	if f := finding(t, s, "prod", fp(acctB, "carol")); f.State != store.FindingOpen {
		t.Fatalf("an unreadable account resolved its findings: %+v", f)
	}
	r, err := s.Run(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != store.RunPartial || r.Summary != (rule.Summary{Users: 2, Fail: 1, Error: 1}) {
		t.Fatalf("run with an unreadable account: %+v", r)
	}
}

func testFailedRun(t *testing.T, s store.Store) {
	ctx := context.Background()
	record(t, s, "prod", at(0), []string{acctA}, user(acctA, "alice", rule.Fail, "m:X"))
	id, err := s.BeginRun(ctx, store.RunStart{Target: "prod", StartedAt: at(1)})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := s.FinishRun(ctx, id, store.RunEnd{Status: store.RunFailed, Error: "no credentials", Accounts: []string{acctA}})
	if err != nil {
		t.Fatal(err)
	}
	wantKinds(t, "failed run", ch)
	if f := finding(t, s, "prod", fp(acctA, "alice")); f.State != store.FindingOpen {
		t.Fatalf("a failed run resolved a finding: %+v", f)
	}
	r, err := s.Run(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != store.RunFailed || r.Error != "no credentials" || r.Summary.Users != 0 {
		t.Fatalf("failed run: %+v", r)
	}
}

func testExemptionExpiry(t *testing.T, s store.Store) {
	A := []string{acctA}
	exempt := user(acctA, "ci", rule.Exempt, "m:AdministratorAccess")
	exempt.Exemption = &rule.Exemption{ID: "#1 users: ci", Reason: "CI user until PLAT-1", Expires: "2026-03-02"}
	_, ch := record(t, s, "prod", at(0), A, exempt)
	wantKinds(t, "exempt user", ch)
	if got := findings(t, s, store.FindingQuery{}); len(got) != 0 {
		t.Fatalf("an exempt user has a finding: %+v", got)
	}
	expired := user(acctA, "ci", rule.Fail, "m:AdministratorAccess")
	expired.Exemption = &rule.Exemption{ID: "#1 users: ci", Reason: "CI user until PLAT-1", Expires: "2026-03-02", Expired: true}
	_, ch = record(t, s, "prod", at(30), A, expired)
	wantKinds(t, "after expiry", ch, "new "+fp(acctA, "ci"))
	if ex := ch[0].Finding.Evidence.Exemption; ex == nil || !ex.Expired || ex.Reason != "CI user until PLAT-1" {
		t.Fatalf("the expired exemption is not in the evidence: %+v", ch[0].Finding.Evidence)
	}
	// Renewed: EXEMPT again resolves, and the evidence says why.
	renewed := exempt
	renewed.Exemption = &rule.Exemption{ID: "#1 users: ci", Reason: "renewed", Expires: "2026-09-01"}
	_, ch = record(t, s, "prod", at(31), A, renewed)
	wantKinds(t, "renewed", ch, "resolved "+fp(acctA, "ci"))
	f := finding(t, s, "prod", fp(acctA, "ci"))
	if f.Status != rule.Exempt || f.Evidence.Exemption == nil || f.Evidence.Exemption.Reason != "renewed" {
		t.Fatalf("finding resolved by an exemption: %+v", f)
	}
	// Expired again: reopened.
	_, ch = record(t, s, "prod", at(32), A, expired)
	wantKinds(t, "expired again", ch, "reopened "+fp(acctA, "ci"))
}

func testDuplicate(t *testing.T, s store.Store) {
	_, ch := record(t, s, "prod", at(0), []string{acctA},
		user(acctA, "alice", rule.Pass), user(acctA, "alice", rule.Fail, "m:X"), user(acctA, "alice", rule.Pass))
	wantKinds(t, "duplicates", ch, "new "+fp(acctA, "alice"))
	runs, err := s.Runs(context.Background(), store.RunQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if runs[0].Summary != (rule.Summary{Users: 1, Fail: 1}) {
		t.Fatalf("a user reported three times counts as %+v", runs[0].Summary)
	}
}

func testTargets(t *testing.T, s store.Store) {
	record(t, s, "prod", at(0), []string{acctA}, user(acctA, "alice", rule.Fail, "m:X"))
	_, ch := record(t, s, "org", at(1), []string{acctA}, user(acctA, "alice", rule.Fail, "m:X"))
	wantKinds(t, "same user, second target", ch, "new "+fp(acctA, "alice"))
	_, ch = record(t, s, "org", at(2), []string{acctA}, user(acctA, "alice", rule.Pass))
	wantKinds(t, "resolved in org", ch, "resolved "+fp(acctA, "alice"))
	if f := finding(t, s, "prod", fp(acctA, "alice")); f.State != store.FindingOpen {
		t.Fatalf("a run of another target resolved a finding: %+v", f)
	}
	if got := findings(t, s, store.FindingQuery{}); len(got) != 2 {
		t.Fatalf("want one finding per target, got %+v", got)
	}
	if got := findings(t, s, store.FindingQuery{Target: "org", State: store.FindingOpen}); len(got) != 0 {
		t.Fatalf("open findings of org: %+v", got)
	}
}

// filterFixture records findings to filter: open and resolved, two
// accounts, managed and inline policies.
func filterFixture(t *testing.T, s store.Store) {
	both := []string{acctA, acctB}
	record(t, s, "prod", at(0), both,
		user(acctA, "alice", rule.Fail, "m:AdministratorAccess"),
		user(acctA, "build-ci", rule.Fail, "m:AmazonS3ReadOnlyAccess", "i:deploy_100%"),
		user(acctA, "zed", rule.Fail, "i:sandbox"),
		user(acctB, "Bob", rule.Fail, "m:ReadOnlyAccess"),
		user(acctB, "deploy-ci", rule.Fail, "m:AmazonS3FullAccess"),
		user(acctB, "erin", rule.Pass),
	)
	record(t, s, "prod", at(1), both,
		user(acctA, "alice", rule.Fail, "m:AdministratorAccess"),
		user(acctA, "build-ci", rule.Fail, "m:AmazonS3ReadOnlyAccess", "i:deploy_100%"),
		user(acctA, "zed", rule.Pass),
		user(acctB, "Bob", rule.Fail, "m:ReadOnlyAccess"),
		user(acctB, "deploy-ci", rule.Fail, "m:AmazonS3FullAccess"),
		user(acctB, "erin", rule.Pass),
	)
}

func names(fs []store.Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.UserName)
	}
	return out
}

func testFindingFilters(t *testing.T, s store.Store) {
	filterFixture(t, s)
	cases := []struct {
		q    store.FindingQuery
		want []string
	}{
		// Open first, then by account and user name.
		{store.FindingQuery{}, []string{"alice", "build-ci", "Bob", "deploy-ci", "zed"}},
		{store.FindingQuery{Target: "prod", State: store.FindingOpen}, []string{"alice", "build-ci", "Bob", "deploy-ci"}},
		{store.FindingQuery{State: store.FindingResolved}, []string{"zed"}},
		{store.FindingQuery{Target: "staging"}, []string{}},
		{store.FindingQuery{AccountID: acctB}, []string{"Bob", "deploy-ci"}},
		// User: substring, case-insensitive; a wildcard matches the whole
		// name or ARN; an exact ARN.
		{store.FindingQuery{User: "ci"}, []string{"build-ci", "deploy-ci"}},
		{store.FindingQuery{User: "BOB"}, []string{"Bob"}},
		{store.FindingQuery{User: "*-ci"}, []string{"build-ci", "deploy-ci"}},
		{store.FindingQuery{User: "d*"}, []string{"deploy-ci"}},
		{store.FindingQuery{User: "arn:aws:iam::222222222222:user/*"}, []string{"Bob", "deploy-ci"}},
		{store.FindingQuery{User: arn(acctA, "zed")}, []string{"zed"}},
		{store.FindingQuery{User: "nobody"}, []string{}},
		// LIKE's own wildcards are literal characters.
		{store.FindingQuery{User: "_"}, []string{}},
		// Policy: managed name or ARN, inline name; substring or wildcard.
		{store.FindingQuery{Policy: "ReadOnlyAccess"}, []string{"build-ci", "Bob"}},
		{store.FindingQuery{Policy: "arn:aws:iam::aws:policy/ReadOnlyAccess"}, []string{"Bob"}},
		{store.FindingQuery{Policy: "amazons3*"}, []string{"build-ci", "deploy-ci"}},
		{store.FindingQuery{Policy: "*Access"}, []string{"alice", "build-ci", "Bob", "deploy-ci"}},
		{store.FindingQuery{Policy: "sandbox"}, []string{"zed"}},
		{store.FindingQuery{Policy: "100%"}, []string{"build-ci"}},
		{store.FindingQuery{Policy: "deploy"}, []string{"build-ci"}},
		// Filters combine.
		{store.FindingQuery{State: store.FindingOpen, AccountID: acctA, Policy: "s3", User: "*ci"}, []string{"build-ci"}},
	}
	for _, c := range cases {
		if got := names(findings(t, s, c.q)); !slices.Equal(got, c.want) {
			t.Errorf("Findings(%+v) = %q, want %q", c.q, got, c.want)
		}
	}
	f := finding(t, s, "prod", fp(acctA, "build-ci"))
	want := store.Evidence{
		Groups: []string{"Staff"},
		Violations: []rule.Violation{
			{Kind: "managed", Name: "AmazonS3ReadOnlyAccess", ARN: "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"},
			{Kind: "inline", Name: "deploy_100%", Digest: "d1g357"},
		},
		Message: "holds 2 policies directly",
	}
	if !reflect.DeepEqual(f.Evidence, want) {
		t.Fatalf("evidence\n got %+v\nwant %+v", f.Evidence, want)
	}
}

func testFindingPagination(t *testing.T, s store.Store) {
	filterFixture(t, s)
	ctx := context.Background()
	all := names(findings(t, s, store.FindingQuery{}))
	var paged []string
	for off := 0; off < len(all)+2; off += 2 {
		page, total, err := s.Findings(ctx, store.FindingQuery{Limit: 2, Offset: off})
		if err != nil {
			t.Fatal(err)
		}
		if total != len(all) {
			t.Fatalf("page at %d: total %d, want %d", off, total, len(all))
		}
		if len(page) > 2 {
			t.Fatalf("page at %d has %d findings", off, len(page))
		}
		paged = append(paged, names(page)...)
	}
	if !slices.Equal(paged, all) {
		t.Fatalf("pages %q, want %q", paged, all)
	}
	page, total, err := s.Findings(ctx, store.FindingQuery{User: "ci", Offset: 1})
	if err != nil {
		t.Fatal(err)
	}
	if total != 2 || !slices.Equal(names(page), []string{"deploy-ci"}) {
		t.Fatalf("offset without limit: %q of %d", names(page), total)
	}
	page, total, err = s.Findings(ctx, store.FindingQuery{User: "nobody", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if total != 0 || len(page) != 0 {
		t.Fatalf("no match: %d findings of %d", len(page), total)
	}
}

func testChanges(t *testing.T, s store.Store) {
	ctx := context.Background()
	A := []string{acctA}
	r1, c1 := record(t, s, "prod", at(0), A, user(acctA, "alice", rule.Fail, "m:X"), user(acctA, "bob", rule.Fail, "m:Y"))
	record(t, s, "prod", at(1), A, user(acctA, "alice", rule.Fail, "m:X"), user(acctA, "bob", rule.Fail, "m:Y"))
	r3, c3 := record(t, s, "prod", at(2), A, user(acctA, "alice", rule.Pass), user(acctA, "bob", rule.Fail, "m:Y"))
	r4, c4 := record(t, s, "prod", at(3), A, user(acctA, "alice", rule.Fail, "i:z"))
	record(t, s, "staging", at(4), A, user(acctA, "carol", rule.Fail, "m:X"))

	got, err := s.Changes(ctx, "prod", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Concat(c4, c3, c1)
	if !sameChanges(got, want) {
		t.Fatalf("Changes(prod, 0)\n got %+v\nwant %+v", got, want)
	}
	for _, c := range got {
		if c.RunID != r1 && c.RunID != r3 && c.RunID != r4 {
			t.Fatalf("a change of run %d", c.RunID)
		}
	}
	got, err = s.Changes(ctx, "prod", 2)
	if err != nil {
		t.Fatal(err)
	}
	if !sameChanges(got, slices.Concat(c4, c3)) {
		t.Fatalf("Changes(prod, 2) = %q", kinds(got))
	}
	got, err = s.Changes(ctx, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	wantKinds(t, "Changes(all, 1)", got, "new "+fp(acctA, "carol"))
	// The changes of run 4: alice reopened with her new policy, bob gone.
	if c4[0].Kind != store.ChangeReopened || c4[0].Finding.Evidence.Violations[0].Name != "z" ||
		c4[1].Kind != store.ChangeResolved || c4[1].Finding.Evidence.Violations[0].Name != "Y" {
		t.Fatalf("changes of run 4: %+v", c4)
	}
}

// sameChanges compares changes with times compared as instants.
func sameChanges(a, b []store.Change) bool {
	norm := func(cs []store.Change) []store.Change {
		out := slices.Clone(cs)
		for i := range out {
			out[i].At = out[i].At.UTC()
			f := &out[i].Finding
			f.FirstSeen, f.LastSeen = f.FirstSeen.UTC(), f.LastSeen.UTC()
			if f.ResolvedAt != nil {
				r := f.ResolvedAt.UTC()
				f.ResolvedAt = &r
			}
		}
		return out
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func testRuns(t *testing.T, s store.Store) {
	ctx := context.Background()
	var prod []int64
	for i := range 5 {
		id, _ := record(t, s, "prod", at(i), []string{acctA}, user(acctA, "alice", rule.Pass))
		prod = append(prod, id)
		record(t, s, "dev", at(i), []string{acctA}, user(acctA, "alice", rule.Pass))
	}
	runs, err := s.Runs(ctx, store.RunQuery{Target: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, r := range runs {
		ids = append(ids, r.ID)
	}
	slices.Reverse(prod)
	if !slices.Equal(ids, prod) {
		t.Fatalf("runs of prod %v, want %v", ids, prod)
	}
	page, err := s.Runs(ctx, store.RunQuery{Target: "prod", Limit: 2, Offset: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 2 || page[0].ID != prod[1] || page[1].ID != prod[2] {
		t.Fatalf("second page of runs: %+v", page)
	}
	all, err := s.Runs(ctx, store.RunQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 10 || all[0].Target != "dev" {
		t.Fatalf("all runs: %d, newest of %s", len(all), all[0].Target)
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID >= all[i-1].ID {
			t.Fatalf("runs not newest first: %d after %d", all[i].ID, all[i-1].ID)
		}
	}
}

func testOverview(t *testing.T, s store.Store) {
	ctx := context.Background()
	empty, err := s.Overview(ctx)
	if err != nil || len(empty) != 0 {
		t.Fatalf("overview of an empty store: %v, %v", empty, err)
	}
	both := []string{acctA, acctB}
	r1, _ := record(t, s, "prod", at(0), both,
		user(acctA, "alice", rule.Fail, "m:X"), user(acctA, "bob", rule.Pass),
		user(acctB, "carol", rule.Fail, "m:X"), user(acctB, "dan", rule.Exempt, "m:Y"))
	r2, _ := record(t, s, "prod", at(1), []string{acctA},
		user(acctA, "alice", rule.Pass), user(acctA, "bob", rule.Fail, "m:Z"), user(acctA, "eve", rule.Fail, "m:Z"))
	r3, _ := record(t, s, "dev", at(2), []string{acctA}, user(acctA, "alice", rule.Error))
	got, err := s.Overview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.AccountSummary{
		{Target: "dev", AccountID: acctA, LastRunID: r3, LastRunAt: at(2), Summary: rule.Summary{Users: 1, Error: 1}},
		{Target: "prod", AccountID: acctA, LastRunID: r2, LastRunAt: at(1), Summary: rule.Summary{Users: 3, Pass: 1, Fail: 2}, Open: 2},
		{Target: "prod", AccountID: acctB, LastRunID: r1, LastRunAt: at(0), Summary: rule.Summary{Users: 2, Fail: 1, Exempt: 1}, Open: 1},
	}
	for i := range got {
		got[i].LastRunAt = got[i].LastRunAt.UTC()
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("overview\n got %+v\nwant %+v", got, want)
	}
}

func testTrend(t *testing.T, s store.Store) {
	ctx := context.Background()
	both := []string{acctA, acctB}
	var ids []int64
	for i := range 4 {
		var results []rule.Result
		for j := range 4 - i {
			results = append(results, user(acctA, fmt.Sprintf("a%d", j), rule.Fail, "m:X"))
		}
		results = append(results, user(acctB, "b", rule.Pass))
		id, _ := record(t, s, "prod", at(i), both, results...)
		ids = append(ids, id)
	}
	other, _ := record(t, s, "dev", at(10), []string{acctA}, user(acctA, "x", rule.Pass))
	if _, err := s.BeginRun(ctx, store.RunStart{Target: "prod", StartedAt: at(11)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Trend(ctx, "prod", 3)
	if err != nil {
		t.Fatal(err)
	}
	type point struct {
		run     int64
		account string
		fail    int
	}
	var pts []point
	for i, p := range got {
		if p.Target != "prod" {
			t.Fatalf("a point of %s", p.Target)
		}
		if i > 0 && (p.RunID < got[i-1].RunID || !p.At.After(got[i-1].At) && p.RunID != got[i-1].RunID) {
			t.Fatalf("trend not oldest first: %+v", got)
		}
		pts = append(pts, point{p.RunID, p.AccountID, p.Fail})
	}
	want := []point{{ids[1], acctA, 3}, {ids[1], acctB, 0}, {ids[2], acctA, 2}, {ids[2], acctB, 0}, {ids[3], acctA, 1}, {ids[3], acctB, 0}}
	if !slices.Equal(pts, want) {
		t.Fatalf("Trend(prod, 3) = %v, want %v", pts, want)
	}
	if !got[0].At.Equal(at(1)) || got[0].Users != 3 {
		t.Fatalf("first point: %+v", got[0])
	}
	all, err := s.Trend(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 9 || all[8].RunID != other {
		t.Fatalf("Trend(all) has %d points, the last of run %d", len(all), all[len(all)-1].RunID)
	}
}

func testUserHistory(t *testing.T, s store.Store) {
	ctx := context.Background()
	A := []string{acctA}
	r1, _ := record(t, s, "prod", at(0), A, user(acctA, "alice", rule.Fail, "m:X"), user(acctA, "bob", rule.Pass))
	r2, _ := record(t, s, "prod", at(1), A, user(acctA, "bob", rule.Pass))
	r3, _ := record(t, s, "dev", at(2), A, user(acctA, "alice", rule.Error))
	r4, _ := record(t, s, "prod", at(3), A, user(acctA, "alice", rule.Pass))
	_ = r2
	type state struct {
		run    int64
		target string
		status rule.Status
	}
	flat := func(us []store.UserState) []state {
		var out []state
		for _, u := range us {
			out = append(out, state{u.RunID, u.Target, u.Status})
		}
		return out
	}
	want := []state{{r4, "prod", rule.Pass}, {r3, "dev", rule.Error}, {r1, "prod", rule.Fail}}
	byARN, err := s.UserHistory(ctx, "", arn(acctA, "alice"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := flat(byARN); !slices.Equal(got, want) {
		t.Fatalf("history by ARN %v, want %v", got, want)
	}
	if !byARN[2].At.Equal(at(0)) || len(byARN[2].Evidence.Violations) != 1 || byARN[2].Evidence.Violations[0].Name != "X" ||
		byARN[0].Evidence.Message != "no direct policies" {
		t.Fatalf("history states: %+v", byARN)
	}
	byName, err := s.UserHistory(ctx, acctA, "alice", 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := flat(byName); !slices.Equal(got, want[:2]) {
		t.Fatalf("history by name, limit 2: %v, want %v", got, want[:2])
	}
	if _, err := s.UserHistory(ctx, acctA, "nobody", 0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("history of an unknown user: %v, want ErrNotFound", err)
	}
	if _, err := s.UserHistory(ctx, acctB, "alice", 0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("history of a user in another account: %v, want ErrNotFound", err)
	}
}

func testMarkInterrupted(t *testing.T, s store.Store) {
	ctx := context.Background()
	done, _ := record(t, s, "prod", at(0), []string{acctA}, user(acctA, "alice", rule.Fail, "m:X"))
	old, err := s.BeginRun(ctx, store.RunStart{Target: "prod", StartedAt: time.Now().Add(-2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	recent, err := s.BeginRun(ctx, store.RunStart{Target: "dev", StartedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.MarkInterrupted(ctx, "the process stopped", time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("MarkInterrupted(1h) = %d, %v; want 1", n, err)
	}
	status := func(id int64) store.Run {
		r, err := s.Run(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := status(old); r.Status != store.RunInterrupted || r.Error != "the process stopped" || !r.FinishedAt.IsZero() {
		t.Fatalf("old running run after MarkInterrupted: %+v", r)
	}
	if r := status(recent); r.Status != store.RunRunning {
		t.Fatalf("a run younger than olderThan was marked: %+v", r)
	}
	n, err = s.MarkInterrupted(ctx, "shutdown", 0)
	if err != nil || n != 1 {
		t.Fatalf("MarkInterrupted(0) = %d, %v; want 1", n, err)
	}
	if r := status(recent); r.Status != store.RunInterrupted || r.Error != "shutdown" {
		t.Fatalf("recent run after MarkInterrupted(0): %+v", r)
	}
	if r := status(done); r.Status != store.RunOK {
		t.Fatalf("a finished run was marked: %+v", r)
	}
	if _, err := s.FinishRun(ctx, old, store.RunEnd{Status: store.RunOK}); err == nil {
		t.Fatal("an interrupted run was finished")
	}
	n, err = s.MarkInterrupted(ctx, "again", 0)
	if err != nil || n != 0 {
		t.Fatalf("MarkInterrupted with nothing running = %d, %v", n, err)
	}
	// The interrupted runs are no part of the trend.
	trend, err := s.Trend(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(trend) != 1 || trend[0].RunID != done {
		t.Fatalf("trend with interrupted runs: %+v", trend)
	}
}

// testInterruptRun marks one run interrupted and checks that it touches
// no other run, leaves ended runs alone and reports unknown IDs.
func testInterruptRun(t *testing.T, s store.Store) {
	ctx := context.Background()
	done, _ := record(t, s, "prod", at(0), []string{acctA}, user(acctA, "alice", rule.Fail, "m:X"))
	mine, err := s.BeginRun(ctx, store.RunStart{Target: "prod", Trigger: "schedule", StartedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	// Another instance's run, on the same database: it must stay running.
	theirs, err := s.BeginRun(ctx, store.RunStart{Target: "dev", Trigger: "schedule", StartedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	get := func(id int64) store.Run {
		t.Helper()
		r, err := s.Run(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	doneBefore := get(done)

	if err := s.InterruptRun(ctx, mine, "serve was stopped"); err != nil {
		t.Fatalf("InterruptRun of a running run: %v", err)
	}
	r := get(mine)
	if r.Status != store.RunInterrupted || r.Error != "serve was stopped" || !r.FinishedAt.IsZero() ||
		r.Summary != (rule.Summary{}) || len(r.Accounts) != 0 || r.New+r.Resolved+r.Reopened != 0 {
		t.Fatalf("run after InterruptRun: %+v", r)
	}
	if r := get(theirs); r.Status != store.RunRunning || r.Error != "" {
		t.Fatalf("another running run was touched: %+v", r)
	}
	if _, err := s.FinishRun(ctx, mine, store.RunEnd{Status: store.RunOK}); err == nil {
		t.Fatal("an interrupted run was finished")
	}

	// Ended runs are left as they are, without error.
	if err := s.InterruptRun(ctx, mine, "again"); err != nil {
		t.Fatalf("InterruptRun of an interrupted run: %v", err)
	}
	if r := get(mine); r.Status != store.RunInterrupted || r.Error != "serve was stopped" {
		t.Fatalf("interrupted run after a second InterruptRun: %+v", r)
	}
	if err := s.InterruptRun(ctx, done, "too late"); err != nil {
		t.Fatalf("InterruptRun of a finished run: %v", err)
	}
	if r := get(done); !reflect.DeepEqual(r, doneBefore) {
		t.Fatalf("finished run after InterruptRun:\n got %+v\nwant %+v", r, doneBefore)
	}

	if err := s.InterruptRun(ctx, theirs+1000, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("InterruptRun of an unknown run: %v, want ErrNotFound", err)
	}

	// The interrupted run recorded no results: it is no part of the trend
	// nor of a user's history.
	trend, err := s.Trend(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(trend) != 1 || trend[0].RunID != done {
		t.Fatalf("trend with an interrupted run: %+v", trend)
	}
	hist, err := s.UserHistory(ctx, acctA, "alice", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1 || hist[0].RunID != done {
		t.Fatalf("user history with an interrupted run: %+v", hist)
	}
}

// testConcurrentReaders reads while a large run is being recorded: every
// read succeeds and sees the history either before or after the run,
// never half of it.
func testConcurrentReaders(t *testing.T, s store.Store) {
	ctx := context.Background()
	const users = 3000
	results := func(failEvery int) []rule.Result {
		var rs []rule.Result
		for i := range users {
			st, pol := rule.Pass, []string(nil)
			if i%failEvery == 0 {
				st, pol = rule.Fail, []string{"m:ReadOnlyAccess", fmt.Sprintf("i:p%d", i%7)}
			}
			rs = append(rs, user([]string{acctA, acctB}[i%2], fmt.Sprintf("u%05d", i), st, pol...))
		}
		return rs
	}
	both := []string{acctA, acctB}
	record(t, s, "prod", at(0), both, results(3)...)
	before, after := (users+2)/3, (users+4)/5
	// Users failing in run 2 but not run 1 are new; the rest of run 1's
	// failures resolve.

	id, err := s.BeginRun(ctx, store.RunStart{Target: "prod", StartedAt: at(1)})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 16)
	reads := make([]int, 4)
	for r := range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, total, err := s.Findings(ctx, store.FindingQuery{Target: "prod", State: store.FindingOpen, Limit: 20})
				if err != nil {
					errs <- err
					return
				}
				ov, err := s.Overview(ctx)
				if err != nil {
					errs <- err
					return
				}
				open := 0
				for _, a := range ov {
					open += a.Open
				}
				if (total != before && total != after) || (open != before && open != after) {
					errs <- fmt.Errorf("a reader saw %d open findings (overview: %d), want %d or %d", total, open, before, after)
					return
				}
				reads[r]++
			}
		})
	}
	_, err = s.FinishRun(ctx, id, store.RunEnd{Status: store.RunOK, Accounts: both, Results: results(5)})
	close(stop)
	wg.Wait()
	close(errs)
	if err != nil {
		t.Fatal(err)
	}
	for err := range errs {
		t.Error(err)
	}
	if n := findings(t, s, store.FindingQuery{State: store.FindingOpen}); len(n) != after {
		t.Fatalf("%d open findings after the run, want %d", len(n), after)
	}
	total := 0
	for _, n := range reads {
		total += n
	}
	if total == 0 {
		t.Fatal("no read completed during the write")
	}
}

func testSeed(t *testing.T, s store.Store) {
	ctx := context.Background()
	const runs, users = 12, 600
	if err := Seed(ctx, s, "prod", runs, users, 7); err != nil {
		t.Fatal(err)
	}
	rs, err := s.Runs(ctx, store.RunQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != runs {
		t.Fatalf("%d runs, want %d", len(rs), runs)
	}
	if !rs[len(rs)-1].StartedAt.Equal(SeedStart) || !rs[0].StartedAt.Equal(SeedStart.Add((runs-1)*SeedEvery)) {
		t.Fatalf("runs from %v to %v", rs[len(rs)-1].StartedAt, rs[0].StartedAt)
	}
	var sum rule.Summary
	newF, resolved := 0, 0
	for _, r := range rs {
		if r.Status != store.RunOK && r.Status != store.RunPartial {
			t.Fatalf("seeded run %d is %s", r.ID, r.Status)
		}
		sum.Fail += r.Summary.Fail
		sum.Exempt += r.Summary.Exempt
		sum.Error += r.Summary.Error
		newF += r.New
		resolved += r.Resolved
	}
	if sum.Fail == 0 || sum.Exempt == 0 || sum.Error == 0 || resolved == 0 || newF <= rs[len(rs)-1].New {
		t.Fatalf("seeded history lacks variety: %+v, %d new after the first run, %d resolved", sum, newF-rs[len(rs)-1].New, resolved)
	}
	ov, err := s.Overview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ov) < 2 {
		t.Fatalf("seeded %d accounts, want several", len(ov))
	}
	open := findings(t, s, store.FindingQuery{State: store.FindingOpen})
	managed, inline := 0, 0
	for _, f := range open {
		for _, v := range f.Evidence.Violations {
			switch v.Kind {
			case "managed":
				managed++
			case "inline":
				inline++
			}
		}
	}
	if managed == 0 || inline == 0 {
		t.Fatalf("open findings hold %d managed and %d inline policies", managed, inline)
	}
	if len(open) < users/10 || len(open) > users/2 {
		t.Fatalf("%d open findings of %d users", len(open), users)
	}
}
