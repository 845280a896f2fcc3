package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamgroups/iamgroups/internal/exempt"
	"github.com/iamgroups/iamgroups/internal/rule"
	"github.com/iamgroups/iamgroups/internal/store"
)

// Accounts and times of the hand-made history.
const (
	acctProd = "111122223333"
	acctOrgA = "444455556666"
	acctOrgB = "777788889999"
)

var t0 = time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)

// testNow is the clock of every test server: after the last run.
var testNow = t0.Add(72 * time.Hour)

func openStore(t testing.TB) store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func userARN(account, name string) string { return "arn:aws:iam::" + account + ":user/" + name }

func pass(account, name string, groups ...string) rule.Result {
	return rule.Result{RuleID: "IAM-071", Status: rule.Pass, Risk: rule.Medium, AccountID: account,
		UserName: name, UserARN: userARN(account, name), Groups: groups}
}

func fail(account, name string, vs ...rule.Violation) rule.Result {
	return rule.Result{RuleID: "IAM-071", Status: rule.Fail, Risk: rule.Medium, AccountID: account,
		UserName: name, UserARN: userARN(account, name), Groups: []string{"developers"},
		Violations: vs, Message: rule.FailMessage(vs)}
}

func managed(name string) rule.Violation {
	return rule.Violation{Kind: "managed", Name: name, ARN: "arn:aws:iam::aws:policy/" + name}
}

func inline(name string) rule.Violation {
	return rule.Violation{Kind: "inline", Name: name, Digest: "sha256:" + strings.Repeat("ab", 32)}
}

// record runs one finished run through the store.
func record(t testing.TB, s store.Store, target string, at time.Time, status string, accounts []string, calls map[string]int, errMsg string, results ...rule.Result) int64 {
	t.Helper()
	ctx := context.Background()
	id, err := s.BeginRun(ctx, store.RunStart{Target: target, Trigger: "schedule", Source: "profile " + target + "-audit", StartedAt: at})
	if err != nil {
		t.Fatalf("begin run: %v", err)
	}
	if _, err := s.FinishRun(ctx, id, store.RunEnd{Status: status, FinishedAt: at.Add(1500 * time.Millisecond),
		Method: "gaad", APICalls: calls, Error: errMsg, Accounts: accounts, Results: results}); err != nil {
		t.Fatalf("finish run: %v", err)
	}
	return id
}

// history is the hand-made history most tests read:
//
//	prod (account 111122223333), three runs a day apart:
//	  alice   FAIL every run (AdministratorAccess + inline "deploy")
//	  bob     PASS
//	  carol   EXEMPT (break-glass)
//	  dave    ERROR in the last run
//	  eve     FAIL in run 1, PASS afterwards (a resolved finding)
//	  frank   FAIL from run 2 on (ReadOnlyAccess)
//	org (two accounts), one run: gina FAIL in A, hal PASS in B
//	broken: one failed run with an error message
type history struct {
	prodRuns []int64
	orgRun   int64
	failed   int64
}

func seedHistory(t testing.TB, s store.Store) history {
	t.Helper()
	var h history
	calls := map[string]int{"GetAccountAuthorizationDetails": 2, "GetCallerIdentity": 1}
	carol := fail(acctProd, "carol", managed("IAMFullAccess"))
	carol.Status = rule.Exempt
	carol.Exemption = &rule.Exemption{ID: "#1 users: carol", Reason: "break-glass", Expires: "2027-01-31"}
	for i := 0; i < 3; i++ {
		at := t0.Add(time.Duration(i) * 24 * time.Hour)
		results := []rule.Result{
			fail(acctProd, "alice", managed("AdministratorAccess"), inline("deploy")),
			pass(acctProd, "bob", "developers"),
			carol,
		}
		if i == 0 {
			results = append(results, fail(acctProd, "eve", managed("PowerUserAccess")))
		} else {
			results = append(results, pass(acctProd, "eve"), fail(acctProd, "frank", managed("ReadOnlyAccess")))
		}
		status := store.RunOK
		if i == 2 {
			dave := rule.Result{RuleID: "IAM-071", Status: rule.Error, AccountID: acctProd, UserName: "dave",
				UserARN: userARN(acctProd, "dave"), Message: "access denied on ListAttachedUserPolicies"}
			results = append(results, dave)
			status = store.RunPartial
		} else {
			results = append(results, pass(acctProd, "dave"))
		}
		h.prodRuns = append(h.prodRuns, record(t, s, "prod", at, status, []string{acctProd}, calls, "", results...))
	}
	h.orgRun = record(t, s, "org", t0.Add(25*time.Hour), store.RunOK, []string{acctOrgA, acctOrgB},
		map[string]int{"ListAccounts": 1, "AssumeRole": 2, "GetAccountAuthorizationDetails": 2}, "",
		fail(acctOrgA, "gina", managed("AmazonS3FullAccess")), pass(acctOrgB, "hal"))
	h.failed = record(t, s, "broken", t0.Add(26*time.Hour), store.RunFailed, nil, nil, "assume role: AccessDenied")
	return h
}

// fakeScheduler stands in for watch's scheduler: it records triggers.
type fakeScheduler struct {
	mu        sync.Mutex
	targets   []Target
	running   map[string]bool
	triggered []string
	decline   bool
}

func (f *fakeScheduler) Targets() []Target {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Target(nil), f.targets...)
}

func (f *fakeScheduler) Trigger(_ context.Context, target string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := findTarget(f.targets, target); !ok {
		return false, ErrUnknownTarget
	}
	if f.running[target] {
		return false, ErrAlreadyRunning
	}
	if f.decline {
		return false, nil
	}
	f.triggered = append(f.triggered, target)
	return true, nil
}

func newScheduler() *fakeScheduler {
	return &fakeScheduler{
		targets: []Target{
			{Name: "prod", Schedule: "every 24h", Next: testNow.Add(6 * time.Hour), LastStatus: store.RunPartial,
				LastRunAt: t0.Add(48 * time.Hour), Flags: []string{"--profile", "prod-audit"}},
			{Name: "org", Schedule: "cron 0 */6 * * *", Next: testNow.Add(time.Hour), LastStatus: store.RunOK,
				LastRunAt: t0.Add(25 * time.Hour), Flags: []string{"--profile", "mgmt", "--org"}, Org: true},
			{Name: "broken", Schedule: "every 1h", LastStatus: store.RunFailed, Flags: []string{"--snapshot", "snap shots/it's.json"}},
		},
		running: map[string]bool{},
	}
}

func testExemptions() *exempt.Config {
	return &exempt.Config{Path: "iamgroups.yaml", Exemptions: []exempt.Exemption{
		{Users: []string{"carol"}, Reason: "break-glass", Expires: "2027-01-31"},
		{Policies: []string{"arn:aws:iam::aws:policy/IAMUserChangePassword"}, Reason: "first sign-in"},
		{Users: []string{"ci-*"}, Accounts: []string{acctProd}, Reason: "legacy CI, migrating to OIDC", Expires: "2026-02-01"},
		{Tags: []string{"team=audit"}, Reason: "external auditor", Expires: "2026-03-10"},
	}}
}

type env struct {
	t     testing.TB
	store store.Store
	sched *fakeScheduler
	srv   *Server
	h     history
}

func newEnv(t testing.TB, token string) *env {
	t.Helper()
	s := openStore(t)
	e := &env{t: t, store: s, sched: newScheduler()}
	e.h = seedHistory(t, s)
	srv, err := New(Options{Store: s, Scheduler: e.sched, Exemptions: testExemptions(), Token: token,
		Now: func() time.Time { return testNow }, Version: "test"})
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	e.srv = srv
	return e
}

// do serves one request in process and returns the response and its body.
func (e *env) do(method, target string, body io.Reader, header ...string) (*http.Response, string) {
	e.t.Helper()
	req := httptest.NewRequest(method, target, body)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func (e *env) get(target string, header ...string) (*http.Response, string) {
	e.t.Helper()
	return e.do(http.MethodGet, target, nil, header...)
}

type ruleResult = rule.Result

func newTextLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
