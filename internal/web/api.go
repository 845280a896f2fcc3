package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/iamgroups/iamgroups/internal/rule"
	"github.com/iamgroups/iamgroups/internal/store"
)

// API schema names; the version changes only when a field changes meaning
// or disappears (adding fields is compatible).
const (
	schemaSummary  = "iamgroups.summary/v1"
	schemaFindings = "iamgroups.findings/v1"
	schemaRuns     = "iamgroups.runs/v1"
	schemaRun      = "iamgroups.run/v1"
	schemaUser     = "iamgroups.user_history/v1"
	schemaScan     = "iamgroups.scan/v1"
	schemaError    = "iamgroups.error/v1"
	schemaHealth   = "iamgroups.health/v1"
)

// Paging limits of the API.
const (
	defaultLimit = 100
	maxLimit     = 1000
)

// errorJSON is every API error's body.
type errorJSON struct {
	Schema string `json:"schema"`
	Error  string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away; nothing to do
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorJSON{Schema: schemaError, Error: msg})
}

// internalError logs err and answers 500 without its details, which may
// name hosts or files.
func (s *Server) internalError(w http.ResponseWriter, r *http.Request, op string, err error) {
	s.log.Error(op, "path", r.URL.Path, "error", err)
	writeError(w, http.StatusInternalServerError, op+": internal error (see the server log)")
}

// badRequest is a client error in a query parameter or body, shown as is.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func badParam(name, format string, args ...any) error {
	return &badRequest{msg: "query parameter " + strconv.Quote(name) + ": " + fmt.Sprintf(format, args...)}
}

// query checks that r's query string holds only the allowed parameters,
// each at most once.
func query(r *http.Request, allowed ...string) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, &badRequest{msg: "malformed query string: " + err.Error()}
	}
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !slices.Contains(allowed, name) {
			if len(allowed) == 0 {
				return nil, badParam(name, "unknown parameter (this endpoint takes none)")
			}
			return nil, badParam(name, "unknown parameter (allowed: %s)", strings.Join(allowed, ", "))
		}
		if len(q[name]) > 1 {
			return nil, badParam(name, "given %d times; give it once", len(q[name]))
		}
	}
	return q, nil
}

// intParam reads an integer parameter within [lo, hi], def when absent.
func intParam(q url.Values, name string, def, lo, hi int) (int, error) {
	v := q.Get(name)
	if !q.Has(name) {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, badParam(name, "want an integer from %d to %d, got %q", lo, hi, v)
	}
	return n, nil
}

var accountRE = regexp.MustCompile(`^[0-9]{12}$`)

// findingFilter is the filter shared by the findings API and page.
type findingFilter struct {
	State, Account, User, Policy, Target string
	Limit, Offset                        int
}

// parseFindingFilter reads state (or its alias status), account, user,
// policy, target, limit and offset. defState applies when no state is
// given; "all" means both states.
func parseFindingFilter(q url.Values, defState string, defLimit int) (findingFilter, error) {
	f := findingFilter{
		Account: strings.TrimSpace(q.Get("account")),
		User:    strings.TrimSpace(q.Get("user")),
		Policy:  strings.TrimSpace(q.Get("policy")),
		Target:  strings.TrimSpace(q.Get("target")),
	}
	state, name := q.Get("state"), "state"
	if q.Has("status") {
		if q.Has("state") && q.Get("status") != state {
			return f, badParam("status", "is an alias of state, and they differ (%q, %q)", q.Get("status"), state)
		}
		state, name = q.Get("status"), "status"
	}
	switch strings.ToLower(state) {
	case "":
		f.State = defState
	case store.FindingOpen, store.FindingResolved, "all":
		f.State = strings.ToLower(state)
	default:
		return f, badParam(name, "want open, resolved or all, got %q", state)
	}
	if f.Account != "" && !accountRE.MatchString(f.Account) {
		return f, badParam("account", "want a 12-digit AWS account ID, got %q", f.Account)
	}
	var err error
	if f.Limit, err = intParam(q, "limit", defLimit, 1, maxLimit); err != nil {
		return f, err
	}
	if f.Offset, err = intParam(q, "offset", 0, 0, 1<<31-1); err != nil {
		return f, err
	}
	return f, nil
}

func (f findingFilter) storeQuery() store.FindingQuery {
	q := store.FindingQuery{
		Target: f.Target, State: f.State, AccountID: f.Account,
		User: f.User, Policy: f.Policy, Limit: f.Limit, Offset: f.Offset,
	}
	if q.State == "all" {
		q.State = ""
	}
	return q
}

var findingParams = []string{"state", "status", "account", "user", "policy", "target", "limit", "offset"}

// respondBad answers a badRequest with 400, anything else with 500.
func (s *Server) respondBad(w http.ResponseWriter, r *http.Request, op string, err error) {
	var br *badRequest
	if errors.As(err, &br) {
		writeError(w, http.StatusBadRequest, br.msg)
		return
	}
	s.internalError(w, r, op, err)
}

// JSON shapes. Field names are snake_case and stable; times are UTC,
// RFC 3339.

type summaryJSON struct {
	Users  int `json:"users"`
	Pass   int `json:"pass"`
	Fail   int `json:"fail"`
	Exempt int `json:"exempt"`
	Error  int `json:"error"`
}

func toSummary(s rule.Summary) summaryJSON {
	return summaryJSON{Users: s.Users, Pass: s.Pass, Fail: s.Fail, Exempt: s.Exempt, Error: s.Error}
}

type accountJSON struct {
	Target    string    `json:"target"`
	AccountID string    `json:"account_id"`
	LastRunID int64     `json:"last_run_id"`
	LastRunAt time.Time `json:"last_run_at"`
	summaryJSON
	OpenFindings int `json:"open_findings"`
	// PlanCommand fixes the open findings (omitted when none are open or
	// the target is not configured any more).
	PlanCommand string `json:"plan_command,omitempty"`
}

type targetJSON struct {
	Name       string     `json:"name"`
	Schedule   string     `json:"schedule"`
	NextRunAt  *time.Time `json:"next_run_at"`
	Running    bool       `json:"running"`
	LastStatus string     `json:"last_status"`
	LastRunAt  *time.Time `json:"last_run_at"`
	Org        bool       `json:"org"`
}

type totalsJSON struct {
	summaryJSON
	OpenFindings int `json:"open_findings"`
}

type summaryResponse struct {
	Schema      string        `json:"schema"`
	GeneratedAt time.Time     `json:"generated_at"`
	Totals      totalsJSON    `json:"totals"`
	Accounts    []accountJSON `json:"accounts"`
	Targets     []targetJSON  `json:"targets"`
}

type policyJSON struct {
	Kind      string         `json:"kind"`
	Name      string         `json:"name"`
	ARN       string         `json:"arn,omitempty"`
	Digest    string         `json:"digest,omitempty"`
	Exemption *exemptionJSON `json:"exemption,omitempty"`
}

type exemptionJSON struct {
	ID      string `json:"id"`
	Reason  string `json:"reason"`
	Expires string `json:"expires,omitempty"`
	Expired bool   `json:"expired"`
}

func toExemption(e *rule.Exemption) *exemptionJSON {
	if e == nil {
		return nil
	}
	return &exemptionJSON{ID: e.ID, Reason: e.Reason, Expires: e.Expires, Expired: e.Expired}
}

type evidenceJSON struct {
	Groups              []string       `json:"groups"`
	Policies            []policyJSON   `json:"policies"`
	PermissionsBoundary string         `json:"permissions_boundary,omitempty"`
	Exemption           *exemptionJSON `json:"exemption,omitempty"`
	Message             string         `json:"message,omitempty"`
}

func toEvidence(e store.Evidence) evidenceJSON {
	out := evidenceJSON{
		Groups:              e.Groups,
		Policies:            make([]policyJSON, len(e.Violations)),
		PermissionsBoundary: e.PermissionsBoundary,
		Exemption:           toExemption(e.Exemption),
		Message:             e.Message,
	}
	if out.Groups == nil {
		out.Groups = []string{}
	}
	for i, v := range e.Violations {
		out.Policies[i] = policyJSON{Kind: v.Kind, Name: v.Name, ARN: v.ARN, Digest: v.Digest, Exemption: toExemption(v.Exemption)}
	}
	return out
}

type findingJSON struct {
	Fingerprint string       `json:"fingerprint"`
	Target      string       `json:"target"`
	RuleID      string       `json:"rule_id"`
	AccountID   string       `json:"account_id"`
	UserName    string       `json:"user_name"`
	UserARN     string       `json:"user_arn"`
	State       string       `json:"state"`
	Status      string       `json:"status"`
	FirstSeen   time.Time    `json:"first_seen"`
	LastSeen    time.Time    `json:"last_seen"`
	ResolvedAt  *time.Time   `json:"resolved_at"`
	Reopened    int          `json:"reopened"`
	Evidence    evidenceJSON `json:"evidence"`
}

func toFinding(f *store.Finding) findingJSON {
	out := findingJSON{
		Fingerprint: f.Fingerprint, Target: f.Target, RuleID: f.RuleID,
		AccountID: f.AccountID, UserName: f.UserName, UserARN: f.UserARN,
		State: f.State, Status: string(f.Status),
		FirstSeen: f.FirstSeen.UTC(), LastSeen: f.LastSeen.UTC(),
		Reopened: f.Reopened, Evidence: toEvidence(f.Evidence),
	}
	if f.ResolvedAt != nil {
		t := f.ResolvedAt.UTC()
		out.ResolvedAt = &t
	}
	return out
}

type findingsResponse struct {
	Schema   string        `json:"schema"`
	Total    int           `json:"total"`
	Limit    int           `json:"limit"`
	Offset   int           `json:"offset"`
	Findings []findingJSON `json:"findings"`
}

type changesJSON struct {
	New      int `json:"new"`
	Resolved int `json:"resolved"`
	Reopened int `json:"reopened"`
}

type runJSON struct {
	ID              int64          `json:"id"`
	Target          string         `json:"target"`
	Trigger         string         `json:"trigger"`
	Source          string         `json:"source"`
	Status          string         `json:"status"`
	Method          string         `json:"method"`
	StartedAt       time.Time      `json:"started_at"`
	FinishedAt      *time.Time     `json:"finished_at"`
	DurationSeconds float64        `json:"duration_seconds"`
	APICalls        map[string]int `json:"api_calls"`
	APICallsTotal   int            `json:"api_calls_total"`
	Error           string         `json:"error,omitempty"`
	Accounts        []string       `json:"accounts"`
	Summary         summaryJSON    `json:"summary"`
	Changes         changesJSON    `json:"changes"`
}

func toRun(r *store.Run) runJSON {
	out := runJSON{
		ID: r.ID, Target: r.Target, Trigger: r.Trigger, Source: r.Source,
		Status: r.Status, Method: r.Method, StartedAt: r.StartedAt.UTC(),
		DurationSeconds: r.Duration().Seconds(),
		APICalls:        r.APICalls, APICallsTotal: apiCallsTotal(r.APICalls),
		Error: r.Error, Accounts: r.Accounts, Summary: toSummary(r.Summary),
		Changes: changesJSON{New: r.New, Resolved: r.Resolved, Reopened: r.Reopened},
	}
	if !r.FinishedAt.IsZero() {
		t := r.FinishedAt.UTC()
		out.FinishedAt = &t
	}
	if out.APICalls == nil {
		out.APICalls = map[string]int{}
	}
	if out.Accounts == nil {
		out.Accounts = []string{}
	}
	return out
}

func apiCallsTotal(calls map[string]int) int {
	n := 0
	for _, c := range calls {
		n += c
	}
	return n
}

type runsResponse struct {
	Schema string    `json:"schema"`
	Limit  int       `json:"limit"`
	Offset int       `json:"offset"`
	Runs   []runJSON `json:"runs"`
}

type runResponse struct {
	Schema string `json:"schema"`
	runJSON
}

type userStateJSON struct {
	RunID    int64        `json:"run_id"`
	At       time.Time    `json:"at"`
	Target   string       `json:"target"`
	Status   string       `json:"status"`
	Evidence evidenceJSON `json:"evidence"`
}

type userResponse struct {
	Schema    string          `json:"schema"`
	AccountID string          `json:"account_id,omitempty"`
	User      string          `json:"user"`
	History   []userStateJSON `json:"history"`
}

type scanRequest struct {
	Target string `json:"target"`
}

type scanResponse struct {
	Schema   string `json:"schema"`
	Target   string `json:"target"`
	Accepted bool   `json:"accepted"`
	// RunsURL lists the target's runs, where the new one appears.
	RunsURL string `json:"runs_url"`
}

func (s *Server) apiSummary(w http.ResponseWriter, r *http.Request) {
	if _, err := query(r); err != nil {
		s.respondBad(w, r, "summary", err)
		return
	}
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	accounts, err := s.store.Overview(ctx)
	if err != nil {
		s.internalError(w, r, "summary", err)
		return
	}
	targets := s.targets()
	resp := summaryResponse{
		Schema:      schemaSummary,
		GeneratedAt: s.now().UTC(),
		Accounts:    make([]accountJSON, len(accounts)),
		Targets:     make([]targetJSON, len(targets)),
	}
	for i, a := range accounts {
		resp.Accounts[i] = accountJSON{
			Target: a.Target, AccountID: a.AccountID, LastRunID: a.LastRunID,
			LastRunAt: a.LastRunAt.UTC(), summaryJSON: toSummary(a.Summary), OpenFindings: a.Open,
		}
		if a.Open > 0 {
			if t, ok := findTarget(targets, a.Target); ok {
				resp.Accounts[i].PlanCommand = planCommand(t, a.AccountID)
			}
		}
		resp.Totals.Users += a.Users
		resp.Totals.Pass += a.Pass
		resp.Totals.Fail += a.Fail
		resp.Totals.Exempt += a.Exempt
		resp.Totals.Error += a.Error
		resp.Totals.OpenFindings += a.Open
	}
	for i, t := range targets {
		resp.Targets[i] = targetJSON{
			Name: t.Name, Schedule: t.Schedule, NextRunAt: optTime(t.Next),
			Running: t.Running, LastStatus: t.LastStatus, LastRunAt: optTime(t.LastRunAt), Org: t.Org,
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func (s *Server) targets() []Target {
	if s.sched == nil {
		return nil
	}
	return s.sched.Targets()
}

func findTarget(targets []Target, name string) (Target, bool) {
	for _, t := range targets {
		if t.Name == name {
			return t, true
		}
	}
	return Target{}, false
}

func (s *Server) apiFindings(w http.ResponseWriter, r *http.Request) {
	q, err := query(r, findingParams...)
	if err != nil {
		s.respondBad(w, r, "list findings", err)
		return
	}
	f, err := parseFindingFilter(q, "all", defaultLimit)
	if err != nil {
		s.respondBad(w, r, "list findings", err)
		return
	}
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	findings, total, err := s.store.Findings(ctx, f.storeQuery())
	if err != nil {
		s.internalError(w, r, "list findings", err)
		return
	}
	resp := findingsResponse{Schema: schemaFindings, Total: total, Limit: f.Limit, Offset: f.Offset,
		Findings: make([]findingJSON, len(findings))}
	for i := range findings {
		resp.Findings[i] = toFinding(&findings[i])
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) apiRuns(w http.ResponseWriter, r *http.Request) {
	q, err := query(r, "target", "limit", "offset")
	if err != nil {
		s.respondBad(w, r, "list runs", err)
		return
	}
	limit, err := intParam(q, "limit", defaultLimit, 1, maxLimit)
	if err != nil {
		s.respondBad(w, r, "list runs", err)
		return
	}
	offset, err := intParam(q, "offset", 0, 0, 1<<31-1)
	if err != nil {
		s.respondBad(w, r, "list runs", err)
		return
	}
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	runs, err := s.store.Runs(ctx, store.RunQuery{Target: q.Get("target"), Limit: limit, Offset: offset})
	if err != nil {
		s.internalError(w, r, "list runs", err)
		return
	}
	resp := runsResponse{Schema: schemaRuns, Limit: limit, Offset: offset, Runs: make([]runJSON, len(runs))}
	for i := range runs {
		resp.Runs[i] = toRun(&runs[i])
	}
	writeJSON(w, http.StatusOK, resp)
}

// runID reads the {id} path value.
func runID(r *http.Request) (int64, error) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, &badRequest{msg: fmt.Sprintf("run ID: want a positive integer, got %q", v)}
	}
	return id, nil
}

func (s *Server) apiRun(w http.ResponseWriter, r *http.Request) {
	if _, err := query(r); err != nil {
		s.respondBad(w, r, "get run", err)
		return
	}
	id, err := runID(r)
	if err != nil {
		s.respondBad(w, r, "get run", err)
		return
	}
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	run, err := s.store.Run(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("run %d not found", id))
		return
	}
	if err != nil {
		s.internalError(w, r, "get run", err)
		return
	}
	writeJSON(w, http.StatusOK, runResponse{Schema: schemaRun, runJSON: toRun(&run)})
}

const defaultHistory = 100

func (s *Server) apiUser(w http.ResponseWriter, r *http.Request) {
	q, err := query(r, "limit")
	if err != nil {
		s.respondBad(w, r, "user history", err)
		return
	}
	account, name := r.PathValue("account"), r.PathValue("name")
	if !accountRE.MatchString(account) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("account: want a 12-digit AWS account ID, got %q", account))
		return
	}
	s.userHistory(w, r, q, account, name)
}

func (s *Server) apiUserByARN(w http.ResponseWriter, r *http.Request) {
	q, err := query(r, "arn", "limit")
	if err != nil {
		s.respondBad(w, r, "user history", err)
		return
	}
	arn := q.Get("arn")
	if !strings.HasPrefix(arn, "arn:") || !strings.Contains(arn, ":user/") {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("query parameter \"arn\": want a user ARN (arn:aws:iam::ACCOUNT:user/NAME), got %q; or use /api/v1/users/{account}/{name}", arn))
		return
	}
	s.userHistory(w, r, q, "", arn)
}

func (s *Server) userHistory(w http.ResponseWriter, r *http.Request, q url.Values, account, user string) {
	limit, err := intParam(q, "limit", defaultHistory, 1, maxLimit)
	if err != nil {
		s.respondBad(w, r, "user history", err)
		return
	}
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	states, err := s.store.UserHistory(ctx, account, user, limit)
	if errors.Is(err, store.ErrNotFound) || (err == nil && len(states) == 0) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no history for user %q", user))
		return
	}
	if err != nil {
		s.internalError(w, r, "user history", err)
		return
	}
	resp := userResponse{Schema: schemaUser, AccountID: account, User: user, History: make([]userStateJSON, len(states))}
	for i, st := range states {
		resp.History[i] = userStateJSON{RunID: st.RunID, At: st.At.UTC(), Target: st.Target,
			Status: string(st.Status), Evidence: toEvidence(st.Evidence)}
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) apiScan(w http.ResponseWriter, r *http.Request) {
	q, err := query(r, "target")
	if err != nil {
		s.respondBad(w, r, "trigger scan", err)
		return
	}
	target := q.Get("target")
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4<<10))
	if err != nil {
		writeError(w, http.StatusBadRequest, "request body: "+err.Error())
		return
	}
	if len(strings.TrimSpace(string(body))) > 0 {
		var req scanRequest
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeError(w, http.StatusBadRequest, `request body: want {"target": "NAME"}: `+err.Error())
			return
		}
		if target != "" && req.Target != "" && req.Target != target {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("target given twice and differently: %q in the query, %q in the body", target, req.Target))
			return
		}
		if req.Target != "" {
			target = req.Target
		}
	}
	if target == "" {
		writeError(w, http.StatusBadRequest, `missing target: send {"target": "NAME"} or ?target=NAME`)
		return
	}
	if s.sched == nil {
		writeError(w, http.StatusServiceUnavailable, "this server has no scheduler: it shows history only")
		return
	}
	accepted, err := s.sched.Trigger(r.Context(), target)
	switch {
	case errors.Is(err, ErrUnknownTarget):
		var names []string
		for _, t := range s.sched.Targets() {
			names = append(names, t.Name)
		}
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown target %q (configured: %s)", target, strings.Join(names, ", ")))
	case errors.Is(err, ErrAlreadyRunning):
		writeError(w, http.StatusConflict, fmt.Sprintf("a scan of %q is already running", target))
	case err != nil:
		s.internalError(w, r, "trigger scan", err)
	case !accepted:
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("the scheduler did not accept a scan of %q (it may be shutting down)", target))
	default:
		s.log.Info("scan triggered through the API", "target", target)
		writeJSON(w, http.StatusAccepted, scanResponse{Schema: schemaScan, Target: target, Accepted: true,
			RunsURL: "/api/v1/runs?target=" + url.QueryEscape(target)})
	}
}

type healthResponse struct {
	Schema  string `json:"schema"`
	Status  string `json:"status"`
	Store   string `json:"store"`
	Version string `json:"version,omitempty"`
}

// healthz answers 200 when the store answers a small query, 503 otherwise.
// It is open even with a token: it tells nothing about the history.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	resp := healthResponse{Schema: schemaHealth, Status: "ok", Store: "ok", Version: s.version}
	if _, err := s.store.Runs(ctx, store.RunQuery{Limit: 1}); err != nil {
		s.log.Error("health check: store unreachable", "error", err)
		resp.Status, resp.Store = "unavailable", "unreachable"
		writeJSON(w, http.StatusServiceUnavailable, resp)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}
