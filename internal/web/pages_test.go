package web

import (
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/iamgroups/iamgroups/internal/store"
)

func wantAll(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

func TestPagesRender(t *testing.T) {
	e := newEnv(t, "")
	for _, tc := range []struct {
		path  string
		wants []string
	}{
		{"/", []string{
			"<h1>Overview</h1>", `<a class="skip-link" href="#main">`, `<main id="main"`,
			`<svg id="trend"`, "<polyline points=", "<circle", // the trend chart
			acctProd, acctOrgA, "Fix the open findings",
			`<code class="plan-command">iamgroups plan --profile prod-audit --out plan.json</code>`,
			"plan-444455556666.json", "every 24h", "cron 0 */6 * * *",
			`<th scope="col" class="num">Open findings</th>`, "frank", // a new finding in the latest changes
		}},
		{"/findings", []string{
			`<label for="f-state">State</label>`, `<label for="f-user">User</label>`, `<label for="f-policy">Policy</label>`,
			`<label for="f-account">Account</label>`, `<label for="f-target">Target</label>`,
			"Showing 1–3 of 3 open findings", "alice", "frank", "gina",
			"AdministratorAccess", "arn:aws:iam::aws:policy/AdministratorAccess", "sha256:abab", "developers",
			"2026-03-01 06:00 UTC", // alice first seen
		}},
		{"/findings?state=resolved", []string{"Showing 1–1 of 1 resolved findings", "eve", "2026-03-02 06:00 UTC"}},
		{"/findings?state=all&policy=ReadOnly", []string{"Showing 1–1 of 1 findings", "frank"}},
		{"/findings?user=nobody", []string{"No open findings match."}},
		{"/runs", []string{"assume role: AccessDenied", "partial", "failed", "+1 new", "1 resolved", "1.5s"}},
		{fmt.Sprintf("/runs/%d", e.h.prodRuns[1]), []string{"GetAccountAuthorizationDetails", "GetCallerIdentity", "AWS API calls (3)", "1 new, 1 resolved, 0 reopened"}},
		{fmt.Sprintf("/runs/%d", e.h.failed), []string{"assume role: AccessDenied", "failed"}},
		{"/users/" + acctProd + "/eve", []string{"User eve", "PowerUserAccess", "PASS", "FAIL"}},
		{"/users/" + acctProd + "/carol", []string{"EXEMPT", "break-glass"}},
		{"/exemptions", []string{"break-glass", "valid through 2027-01-31", "legacy CI", "expired after 2026-02-01",
			"expires soon", "(6 days left)", "IAMUserChangePassword", "no expiry"}},
	} {
		res, body := e.get(tc.path)
		if res.StatusCode != 200 {
			t.Errorf("%s: %d", tc.path, res.StatusCode)
			continue
		}
		if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", tc.path, ct)
		}
		wantAll(t, tc.path, body, tc.wants...)
		if !strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'self'") {
			t.Errorf("%s: CSP %q", tc.path, res.Header.Get("Content-Security-Policy"))
		}
		// Nothing is loaded from elsewhere, and nothing runs inline.
		for _, bad := range []string{"http://", "https://", "<script", "style=", " on"} {
			if bad == " on" {
				if regexp.MustCompile(`\son[a-z]+=`).MatchString(body) {
					t.Errorf("%s: inline event handler", tc.path)
				}
				continue
			}
			if strings.Contains(body, bad) {
				t.Errorf("%s: contains %q", tc.path, bad)
			}
		}
	}
}

func TestPagesErrors(t *testing.T) {
	e := newEnv(t, "")
	for path, want := range map[string]int{
		"/nope":                          404,
		"/runs/424242":                   404,
		"/runs/x":                        400,
		"/users/" + acctProd + "/nobody": 404,
		"/users/1/alice":                 400,
		"/findings?state=bogus":          400,
		"/findings?colour=red":           400,
		"/?x=1":                          400,
	} {
		res, body := e.get(path)
		if res.StatusCode != want || !strings.Contains(body, "<h1>") {
			t.Errorf("%s: %d, want %d page", path, res.StatusCode, want)
		}
	}
	if res, _ := e.do("POST", "/findings", nil); res.StatusCode != 405 {
		t.Errorf("POST /findings: %d, want 405", res.StatusCode)
	}
}

func TestPagesEscape(t *testing.T) {
	s := openStore(t)
	evil := `<img src=x onerror=alert(1)>`
	r := fail(acctProd, "mallory", managed("AdministratorAccess"))
	r.Groups = []string{evil}
	record(t, s, evil, t0, store.RunOK, []string{acctProd}, nil, evil, r)
	sched := &fakeScheduler{targets: []Target{{Name: evil, Schedule: evil, Flags: []string{"--profile", "it's; rm -rf /"}}}}
	srv, err := New(Options{Store: s, Scheduler: sched, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, store: s, srv: srv}
	for _, path := range []string{"/", "/findings", "/runs", "/runs/1", "/users/" + acctProd + "/mallory"} {
		_, body := e.get(path)
		if strings.Contains(body, evil) {
			t.Errorf("%s renders %s unescaped", path, evil)
		}
	}
	_, body := e.get("/")
	wantAll(t, "overview", html.UnescapeString(body), `iamgroups plan --profile 'it'\''s; rm -rf /' --out plan.json`)
}

func TestStaticAssets(t *testing.T) {
	e := newEnv(t, testToken) // assets need no session: the login page uses them
	res, body := e.get("/static/style.css")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") || !strings.Contains(body, ":focus-visible") {
		t.Errorf("style.css: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if strings.Contains(body, "url(") || strings.Contains(body, "@import") {
		t.Errorf("style.css loads something")
	}
}

func TestFindingsPagePagination(t *testing.T) {
	s := openStore(t)
	var results []ruleResult
	for i := range 120 {
		results = append(results, fail(acctProd, fmt.Sprintf("user%03d", i), managed("ReadOnlyAccess")))
	}
	record(t, s, "prod", t0, store.RunOK, []string{acctProd}, nil, "", results...)
	srv, err := New(Options{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, store: s, srv: srv}
	_, body := e.get("/findings")
	wantAll(t, "page 1", body, "Showing 1–50 of 120 open findings", "user000", "user049", `href="/findings?offset=50&amp;state=open" rel="next"`)
	if strings.Contains(body, "user050") || strings.Contains(body, `rel="prev"`) {
		t.Errorf("page 1 shows row 51 or a previous link")
	}
	_, body = e.get("/findings?offset=100&state=open")
	wantAll(t, "page 3", body, "Showing 101–120 of 120", "user119", `rel="prev"`)
	if strings.Contains(body, `rel="next"`) {
		t.Errorf("last page has a next link")
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, "")
	res, body := e.get("/metrics")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	wantAll(t, "metrics", body,
		"iamgroups_store_up 1",
		`iamgroups_users{account="111122223333",status="FAIL",target="prod"} 2`,
		`iamgroups_users{account="111122223333",status="ERROR",target="prod"} 1`,
		`iamgroups_users{account="444455556666",status="FAIL",target="org"} 1`,
		`iamgroups_open_findings{account="111122223333",target="prod"} 2`,
		`iamgroups_last_scan_duration_seconds{target="prod"} 1.5`,
		fmt.Sprintf(`iamgroups_last_scan_timestamp_seconds{target="prod"} %g`, float64(t0.Add(48*time.Hour+1500*time.Millisecond).UnixMilli())/1000),
		`iamgroups_last_scan_status{status="partial",target="prod"} 1`,
		`iamgroups_last_scan_status{status="failed",target="broken"} 1`,
		`iamgroups_last_scan_api_calls{operation="GetAccountAuthorizationDetails",target="prod"} 2`,
		`iamgroups_runs_total{status="ok",target="prod"} 2`,
		`iamgroups_runs_total{status="partial",target="prod"} 1`,
		`iamgroups_runs_total{status="failed",target="broken"} 1`,
		`iamgroups_api_calls_total{operation="GetAccountAuthorizationDetails",target="prod"} 6`,
		`iamgroups_api_calls_total{operation="AssumeRole",target="org"} 2`,
		fmt.Sprintf(`iamgroups_next_scan_timestamp_seconds{target="prod"} %g`, float64(testNow.Add(6*time.Hour).Unix())),
		`iamgroups_scan_running{target="prod"} 0`,
		"# TYPE iamgroups_runs_total counter",
		"# TYPE iamgroups_users gauge",
	)
	// Only our own registry: no Go runtime metrics from the global one.
	if strings.Contains(body, "go_goroutines") {
		t.Errorf("metrics include the default registry's collectors")
	}

	// A running run is not counted until it ends.
	id, err := e.store.BeginRun(t.Context(), store.RunStart{Target: "prod", Trigger: "api", StartedAt: testNow})
	if err != nil {
		t.Fatal(err)
	}
	_, body = e.get("/metrics")
	wantAll(t, "metrics during a run", body, `iamgroups_runs_total{status="ok",target="prod"} 2`, `iamgroups_last_scan_status{status="partial",target="prod"} 1`)
	if strings.Contains(body, `status="running"`) {
		t.Errorf("a running run is counted: %d", id)
	}

	e.store.Close()
	res, body = e.get("/metrics")
	if res.StatusCode != 200 || !strings.Contains(body, "iamgroups_store_up 0") {
		t.Errorf("metrics with the store closed: %d\n%s", res.StatusCode, body)
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, "")
	for _, path := range []string{"/", "/api/v1/summary", "/healthz", "/static/style.css", "/nope"} {
		res, _ := e.get(path)
		h := res.Header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", path, h)
		}
	}
}

func TestRequestLogHasNoSecrets(t *testing.T) {
	var buf strings.Builder
	e := newEnv(t, testToken)
	e.srv.log = newTextLogger(&buf)
	e.get("/api/v1/summary", "Authorization", "Bearer "+testToken)
	e.get("/api/v1/summary", "Authorization", "Bearer wrong-guess")
	e.do("POST", "/login", strings.NewReader("token=wrong-guess-2"), "Content-Type", "application/x-www-form-urlencoded")
	e.get("/findings?user=alice")
	log := buf.String()
	if !strings.Contains(log, "/api/v1/summary") || !strings.Contains(log, "status=401") {
		t.Errorf("log lacks the requests:\n%s", log)
	}
	for _, secret := range []string{testToken, "wrong-guess", "user=alice"} {
		if strings.Contains(log, secret) {
			t.Errorf("log contains %q:\n%s", secret, log)
		}
	}
}
