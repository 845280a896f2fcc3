package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func decode[T any](t *testing.T, body string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return v
}

func wantStatus(t *testing.T, res *http.Response, body string, want int) {
	t.Helper()
	if res.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; body: %s", res.Request.Method, res.Request.URL, res.StatusCode, want, body)
	}
}

func TestAPISummary(t *testing.T) {
	e := newEnv(t, "")
	res, body := e.get("/api/v1/summary")
	wantStatus(t, res, body, http.StatusOK)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	s := decode[summaryResponse](t, body)
	if s.Schema != "iamgroups.summary/v1" {
		t.Errorf("schema %q", s.Schema)
	}
	byKey := map[string]accountJSON{}
	for _, a := range s.Accounts {
		byKey[a.Target+"/"+a.AccountID] = a
	}
	prod := byKey["prod/"+acctProd]
	// Last prod run: alice, frank FAIL; bob, eve PASS; carol EXEMPT; dave ERROR.
	if prod.Users != 6 || prod.Fail != 2 || prod.Pass != 2 || prod.Exempt != 1 || prod.Error != 1 || prod.OpenFindings != 2 {
		t.Errorf("prod summary = %+v", prod)
	}
	if prod.LastRunID != e.h.prodRuns[2] {
		t.Errorf("prod last run %d, want %d", prod.LastRunID, e.h.prodRuns[2])
	}
	if prod.PlanCommand != "iamgroups plan --profile prod-audit --out plan.json" {
		t.Errorf("prod plan command %q", prod.PlanCommand)
	}
	orgA := byKey["org/"+acctOrgA]
	if want := "iamgroups plan --profile mgmt --role-arn arn:aws:iam::444455556666:role/OrganizationAccountAccessRole --out plan-444455556666.json"; orgA.PlanCommand != want {
		t.Errorf("org plan command\n got %q\nwant %q", orgA.PlanCommand, want)
	}
	if orgB := byKey["org/"+acctOrgB]; orgB.PlanCommand != "" || orgB.Pass != 1 {
		t.Errorf("org account B = %+v, want one pass and no plan command", orgB)
	}
	if s.Totals.OpenFindings != 3 || s.Totals.Fail != 3 {
		t.Errorf("totals = %+v, want 3 fail, 3 open", s.Totals)
	}
	if len(s.Targets) != 3 || s.Targets[0].Name != "prod" || s.Targets[0].NextRunAt == nil || s.Targets[2].NextRunAt != nil {
		t.Errorf("targets = %+v", s.Targets)
	}
}

// TestAPIFieldNames pins the JSON field names: clients depend on them.
func TestAPIFieldNames(t *testing.T) {
	e := newEnv(t, "")
	snake := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				// api_calls keys are AWS operation names, not fields.
				if !snake.MatchString(k) && !strings.HasSuffix(path, ".api_calls") {
					t.Errorf("field %s.%s is not snake_case", path, k)
				}
				walk(path+"."+k, x)
			}
		case []any:
			for _, x := range v {
				walk(path+"[]", x)
			}
		}
	}
	for _, u := range []string{"/api/v1/summary", "/api/v1/findings?state=all", "/api/v1/runs",
		fmt.Sprintf("/api/v1/runs/%d", e.h.prodRuns[2]), "/api/v1/users/" + acctProd + "/alice"} {
		res, body := e.get(u)
		wantStatus(t, res, body, http.StatusOK)
		m := decode[map[string]any](t, body)
		if !strings.HasPrefix(fmt.Sprint(m["schema"]), "iamgroups.") {
			t.Errorf("%s: schema %v", u, m["schema"])
		}
		walk(u, m)
	}
	_, body := e.get("/api/v1/findings?user=alice")
	for _, field := range []string{`"fingerprint"`, `"first_seen"`, `"last_seen"`, `"resolved_at"`, `"user_arn"`,
		`"account_id"`, `"evidence"`, `"policies"`, `"kind": "managed"`, `"digest"`, `"groups"`} {
		if !strings.Contains(body, field) {
			t.Errorf("findings JSON lacks %s: %s", field, body)
		}
	}
}

func TestAPIFindingsFilters(t *testing.T) {
	e := newEnv(t, "")
	names := func(u string) ([]string, int) {
		t.Helper()
		res, body := e.get(u)
		wantStatus(t, res, body, http.StatusOK)
		r := decode[findingsResponse](t, body)
		var out []string
		for _, f := range r.Findings {
			out = append(out, f.UserName)
		}
		slices.Sort(out)
		return out, r.Total
	}
	for _, tc := range []struct {
		url   string
		want  []string
		total int
	}{
		{"/api/v1/findings", []string{"alice", "eve", "frank", "gina"}, 4},
		{"/api/v1/findings?state=open", []string{"alice", "frank", "gina"}, 3},
		{"/api/v1/findings?status=open", []string{"alice", "frank", "gina"}, 3},
		{"/api/v1/findings?state=resolved", []string{"eve"}, 1},
		{"/api/v1/findings?state=all&account=" + acctOrgA, []string{"gina"}, 1},
		{"/api/v1/findings?target=prod&state=open", []string{"alice", "frank"}, 2},
		{"/api/v1/findings?user=ali", []string{"alice"}, 1},
		{"/api/v1/findings?user=" + userARN(acctProd, "frank"), []string{"frank"}, 1},
		{"/api/v1/findings?policy=AdministratorAccess", []string{"alice"}, 1},
		{"/api/v1/findings?policy=arn:aws:iam::aws:policy/ReadOnlyAccess", []string{"frank"}, 1},
		{"/api/v1/findings?policy=deploy", []string{"alice"}, 1},
		{"/api/v1/findings?policy=NoSuchPolicy", nil, 0},
	} {
		got, total := names(tc.url)
		if !slices.Equal(got, tc.want) || total != tc.total {
			t.Errorf("%s: %v (total %d), want %v (total %d)", tc.url, got, total, tc.want, tc.total)
		}
	}

	// The resolved finding carries when it was resolved; the open ones do not.
	_, body := e.get("/api/v1/findings?state=resolved")
	r := decode[findingsResponse](t, body)
	if f := r.Findings[0]; f.ResolvedAt == nil || !f.ResolvedAt.Equal(t0.Add(24*time.Hour)) || f.State != "resolved" {
		t.Errorf("resolved finding = %+v", f)
	}
	_, body = e.get("/api/v1/findings?user=alice")
	r = decode[findingsResponse](t, body)
	a := r.Findings[0]
	if a.ResolvedAt != nil || !a.FirstSeen.Equal(t0) || !a.LastSeen.Equal(t0.Add(48*time.Hour)) || a.Status != "FAIL" {
		t.Errorf("alice = %+v", a)
	}
	if len(a.Evidence.Policies) != 2 || a.Evidence.Policies[0].Kind == a.Evidence.Policies[1].Kind ||
		!slices.Equal(a.Evidence.Groups, []string{"developers"}) {
		t.Errorf("alice's evidence = %+v", a.Evidence)
	}
}

func TestAPIFindingsPagination(t *testing.T) {
	e := newEnv(t, "")
	var seen []string
	for offset := 0; offset < 4; offset += 3 {
		res, body := e.get(fmt.Sprintf("/api/v1/findings?limit=3&offset=%d", offset))
		wantStatus(t, res, body, http.StatusOK)
		r := decode[findingsResponse](t, body)
		if r.Total != 4 || r.Limit != 3 || r.Offset != offset {
			t.Errorf("offset %d: total %d limit %d offset %d", offset, r.Total, r.Limit, r.Offset)
		}
		for _, f := range r.Findings {
			seen = append(seen, f.Fingerprint)
		}
	}
	if len(seen) != 4 || len(slices.Compact(slices.Sorted(slices.Values(seen)))) != 4 {
		t.Errorf("pages gave %v, want 4 distinct findings", seen)
	}
	// Open findings come first.
	_, body := e.get("/api/v1/findings?limit=3")
	for _, f := range decode[findingsResponse](t, body).Findings {
		if f.State != "open" {
			t.Errorf("first page holds a %s finding before open ones", f.State)
		}
	}
}

func TestAPIBadRequests(t *testing.T) {
	e := newEnv(t, "")
	for _, tc := range []struct {
		method, url string
		status      int
		mention     string
	}{
		{"GET", "/api/v1/findings?color=red", 400, `"color"`},
		{"GET", "/api/v1/findings?state=closed", 400, `"state"`},
		{"GET", "/api/v1/findings?status=bogus", 400, `"status"`},
		{"GET", "/api/v1/findings?state=open&status=resolved", 400, `"status"`},
		{"GET", "/api/v1/findings?limit=0", 400, `"limit"`},
		{"GET", "/api/v1/findings?limit=5000", 400, `"limit"`},
		{"GET", "/api/v1/findings?limit=ten", 400, `"limit"`},
		{"GET", "/api/v1/findings?offset=-1", 400, `"offset"`},
		{"GET", "/api/v1/findings?account=1234", 400, `"account"`},
		{"GET", "/api/v1/findings?user=a&user=b", 400, `"user"`},
		{"GET", "/api/v1/summary?x=1", 400, `"x"`},
		{"GET", "/api/v1/runs?limit=-3", 400, `"limit"`},
		{"GET", "/api/v1/runs?state=open", 400, `"state"`},
		{"GET", "/api/v1/runs/abc", 400, "run ID"},
		{"GET", "/api/v1/runs/0", 400, "run ID"},
		{"GET", "/api/v1/runs/999999", 404, "run 999999 not found"},
		{"GET", "/api/v1/users/" + acctProd + "/nobody", 404, "nobody"},
		{"GET", "/api/v1/users/12/alice", 400, "account"},
		{"GET", "/api/v1/users?arn=alice", 400, `"arn"`},
		{"GET", "/api/v1/nothing", 404, "no such API endpoint"},
		{"POST", "/api/v1/summary", 405, "GET"},
		{"DELETE", "/api/v1/findings", 405, "GET"},
		{"GET", "/api/v1/scans", 405, "POST"},
	} {
		res, body := e.do(tc.method, tc.url, nil)
		if res.StatusCode != tc.status {
			t.Errorf("%s %s: status %d, want %d (%s)", tc.method, tc.url, res.StatusCode, tc.status, body)
			continue
		}
		r := decode[errorJSON](t, body)
		if r.Schema != "iamgroups.error/v1" || !strings.Contains(r.Error, tc.mention) {
			t.Errorf("%s %s: error %q, want it to mention %s", tc.method, tc.url, r.Error, tc.mention)
		}
		if tc.status == 405 && res.Header.Get("Allow") == "" {
			t.Errorf("%s %s: 405 without Allow", tc.method, tc.url)
		}
	}
}

func TestAPIRuns(t *testing.T) {
	e := newEnv(t, "")
	res, body := e.get("/api/v1/runs")
	wantStatus(t, res, body, http.StatusOK)
	runs := decode[runsResponse](t, body).Runs
	if len(runs) != 5 {
		t.Fatalf("%d runs, want 5", len(runs))
	}
	for i := 1; i < len(runs); i++ {
		if runs[i].ID >= runs[i-1].ID {
			t.Errorf("runs not newest first: %d after %d", runs[i].ID, runs[i-1].ID)
		}
	}

	_, body = e.get("/api/v1/runs?target=prod&limit=2")
	runs = decode[runsResponse](t, body).Runs
	if len(runs) != 2 || runs[0].ID != e.h.prodRuns[2] || runs[1].ID != e.h.prodRuns[1] {
		t.Errorf("prod runs limit 2 = %+v", runs)
	}
	_, body = e.get("/api/v1/runs?target=prod&limit=2&offset=2")
	if runs = decode[runsResponse](t, body).Runs; len(runs) != 1 || runs[0].ID != e.h.prodRuns[0] {
		t.Errorf("prod runs offset 2 = %+v", runs)
	}

	res, body = e.get(fmt.Sprintf("/api/v1/runs/%d", e.h.prodRuns[1]))
	wantStatus(t, res, body, http.StatusOK)
	r := decode[runResponse](t, body)
	if r.Schema != "iamgroups.run/v1" || r.Target != "prod" || r.Status != "ok" || r.Method != "gaad" ||
		r.APICallsTotal != 3 || r.APICalls["GetAccountAuthorizationDetails"] != 2 ||
		r.DurationSeconds != 1.5 || r.FinishedAt == nil || r.Changes.New != 1 || r.Changes.Resolved != 1 ||
		!slices.Equal(r.Accounts, []string{acctProd}) {
		t.Errorf("run = %+v", r)
	}

	_, body = e.get(fmt.Sprintf("/api/v1/runs/%d", e.h.failed))
	if r := decode[runResponse](t, body); r.Status != "failed" || r.Error != "assume role: AccessDenied" {
		t.Errorf("failed run = %+v", r)
	}
}

func TestAPIUserHistory(t *testing.T) {
	e := newEnv(t, "")
	res, body := e.get("/api/v1/users/" + acctProd + "/eve")
	wantStatus(t, res, body, http.StatusOK)
	u := decode[userResponse](t, body)
	var statuses []string
	for _, s := range u.History {
		statuses = append(statuses, s.Status)
	}
	if u.Schema != "iamgroups.user_history/v1" || !slices.Equal(statuses, []string{"PASS", "PASS", "FAIL"}) {
		t.Errorf("eve's history = %v (%+v)", statuses, u)
	}
	if p := u.History[2].Evidence.Policies; len(p) != 1 || p[0].Name != "PowerUserAccess" {
		t.Errorf("eve's first run evidence = %+v", u.History[2].Evidence)
	}

	res, body = e.get("/api/v1/users?arn=" + userARN(acctProd, "frank") + "&limit=1")
	wantStatus(t, res, body, http.StatusOK)
	if u := decode[userResponse](t, body); len(u.History) != 1 || u.History[0].Status != "FAIL" {
		t.Errorf("frank by ARN = %+v", u)
	}
}

func TestAPIScans(t *testing.T) {
	e := newEnv(t, "")
	res, body := e.do("POST", "/api/v1/scans", strings.NewReader(`{"target": "prod"}`), "Content-Type", "application/json")
	wantStatus(t, res, body, http.StatusAccepted)
	s := decode[scanResponse](t, body)
	if s.Schema != "iamgroups.scan/v1" || s.Target != "prod" || !s.Accepted || s.RunsURL != "/api/v1/runs?target=prod" {
		t.Errorf("scan response = %+v", s)
	}
	res, body = e.do("POST", "/api/v1/scans?target=org", nil)
	wantStatus(t, res, body, http.StatusAccepted)
	if !slices.Equal(e.sched.triggered, []string{"prod", "org"}) {
		t.Errorf("triggered %v", e.sched.triggered)
	}

	e.sched.running["prod"] = true
	for _, tc := range []struct {
		url, body string
		status    int
		mention   string
	}{
		{"/api/v1/scans", `{"target": "prod"}`, 409, "already running"},
		{"/api/v1/scans", `{"target": "staging"}`, 404, `unknown target "staging"`},
		{"/api/v1/scans", ``, 400, "missing target"},
		{"/api/v1/scans", `{"targets": ["prod"]}`, 400, "targets"},
		{"/api/v1/scans", `not json`, 400, "request body"},
		{"/api/v1/scans?target=org", `{"target": "prod"}`, 400, "given twice"},
		{"/api/v1/scans?bogus=1", ``, 400, `"bogus"`},
	} {
		res, body := e.do("POST", tc.url, strings.NewReader(tc.body))
		if res.StatusCode != tc.status || !strings.Contains(decode[errorJSON](t, body).Error, tc.mention) {
			t.Errorf("POST %s %s: %d %s, want %d mentioning %s", tc.url, tc.body, res.StatusCode, body, tc.status, tc.mention)
		}
	}
	if len(e.sched.triggered) != 2 {
		t.Errorf("refused requests triggered scans: %v", e.sched.triggered)
	}

	e.sched.decline = true
	res, body = e.do("POST", "/api/v1/scans?target=org", nil)
	wantStatus(t, res, body, http.StatusServiceUnavailable)

	noSched, err := New(Options{Store: e.store})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = noSched
	res, body = e.do("POST", "/api/v1/scans?target=prod", nil)
	wantStatus(t, res, body, http.StatusServiceUnavailable)
}

func TestHealthz(t *testing.T) {
	e := newEnv(t, "secret-token-for-health")
	res, body := e.get("/healthz")
	wantStatus(t, res, body, http.StatusOK)
	if h := decode[healthResponse](t, body); h.Status != "ok" || h.Store != "ok" || h.Version != "test" {
		t.Errorf("health = %+v", h)
	}
	e.store.Close()
	res, body = e.get("/healthz")
	wantStatus(t, res, body, http.StatusServiceUnavailable)
	if h := decode[healthResponse](t, body); h.Status != "unavailable" || h.Store != "unreachable" {
		t.Errorf("health with a closed store = %+v", h)
	}
}
