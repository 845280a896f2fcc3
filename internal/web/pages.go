package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/iamgroups/iamgroups/internal/exempt"
	"github.com/iamgroups/iamgroups/internal/store"
)

// Dashboard sizes.
const (
	pageSize     = 50  // rows per page of findings and runs
	trendRuns    = 60  // runs per target in the trend chart
	historyRows  = 200 // runs shown on a user's page
	recentChange = 2   // runs whose changes the overview lists
	maxChanges   = 15  // changes listed on the overview
	soonDays     = 14  // an exemption expiring within this many days is flagged
)

// pageNames are the dashboard's templates, each rendered inside layout.
var pageNames = []string{"overview", "findings", "runs", "run", "user", "exemptions", "login", "error"}

var templateFuncs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"whenp": func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"dur": func(d time.Duration) string {
		if d <= 0 {
			return "—"
		}
		if d < time.Second {
			return d.Round(time.Millisecond).String()
		}
		return d.Round(100 * time.Millisecond).String()
	},
	"lower":    strings.ToLower,
	"userURL":  userURL,
	"num":      func(n int) string { return groupDigits(strconv.Itoa(n)) },
	"calls":    apiCallsTotal,
	"sortedOp": sortedOps,
	"status":   statusClass,
}

func parsePages() (map[string]*template.Template, error) {
	pages := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// pageBase is what the layout needs on every page.
type pageBase struct {
	Title   string
	Nav     string // the active navigation entry
	SignOut bool   // show the sign-out button
	Version string
}

func (s *Server) base(r *http.Request, title, nav string) pageBase {
	return pageBase{Title: title, Nav: nav, SignOut: s.token != "" && nav != "", Version: s.version}
}

// render executes a page into a buffer first, so that a template error
// becomes a clean 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages[name].Execute(&buf, data); err != nil {
		s.log.Error("render page", "page", name, "error", err)
		http.Error(w, "internal error rendering the page (see the server log)", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

type errorView struct {
	pageBase
	Status  int
	Message string
}

func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.render(w, r, status, "error", &errorView{
		pageBase: s.base(r, http.StatusText(status), "error"),
		Status:   status, Message: msg,
	})
}

// pageStoreError logs a store failure and shows a page without details.
func (s *Server) pageStoreError(w http.ResponseWriter, r *http.Request, op string, err error) {
	s.log.Error(op, "path", r.URL.Path, "error", err)
	s.renderError(w, r, http.StatusInternalServerError, "The history could not be read ("+op+"). The server log has the details.")
}

// pageQuery is query() for pages: a bad parameter is a 400 page.
func (s *Server) pageQuery(w http.ResponseWriter, r *http.Request, allowed ...string) (url.Values, bool) {
	q, err := query(r, allowed...)
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest, err.Error()+".")
		return nil, false
	}
	return q, true
}

// Overview.

type accountRow struct {
	store.AccountSummary
	FindingsURL string
	PlanCommand string
}

type overviewView struct {
	pageBase
	Totals   totalsJSON
	Accounts []accountRow
	Targets  []Target
	Chart    *trendChart
	Changes  []store.Change
	More     int // changes not listed
}

func (s *Server) overviewPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.pageQuery(w, r); !ok {
		return
	}
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	accounts, err := s.store.Overview(ctx)
	if err != nil {
		s.pageStoreError(w, r, "overview", err)
		return
	}
	// One query per target: the last trendRuns runs of each, whatever
	// their schedules.
	var points []store.TrendPoint
	seen := map[string]bool{}
	for _, a := range accounts {
		if seen[a.Target] {
			continue
		}
		seen[a.Target] = true
		p, err := s.store.Trend(ctx, a.Target, trendRuns)
		if err != nil {
			s.pageStoreError(w, r, "trend", err)
			return
		}
		points = append(points, p...)
	}
	changes, err := s.store.Changes(ctx, "", recentChange)
	if err != nil {
		s.pageStoreError(w, r, "changes", err)
		return
	}
	targets := s.targets()
	v := &overviewView{pageBase: s.base(r, "Overview", "overview"), Targets: targets, Chart: newTrendChart(points)}
	for _, a := range accounts {
		row := accountRow{AccountSummary: a, FindingsURL: findingsURL(url.Values{"account": {a.AccountID}, "target": {a.Target}})}
		if a.Open > 0 {
			if t, ok := findTarget(targets, a.Target); ok {
				row.PlanCommand = planCommand(t, a.AccountID)
			}
		}
		v.Accounts = append(v.Accounts, row)
		v.Totals.Users += a.Users
		v.Totals.Pass += a.Pass
		v.Totals.Fail += a.Fail
		v.Totals.Exempt += a.Exempt
		v.Totals.Error += a.Error
		v.Totals.OpenFindings += a.Open
	}
	if len(changes) > maxChanges {
		v.Changes, v.More = changes[:maxChanges], len(changes)-maxChanges
	} else {
		v.Changes = changes
	}
	s.render(w, r, http.StatusOK, "overview", v)
}

func findingsURL(q url.Values) string {
	for k, vs := range q {
		if len(vs) == 0 || vs[0] == "" {
			delete(q, k)
		}
	}
	if len(q) == 0 {
		return "/findings"
	}
	return "/findings?" + q.Encode()
}

func userURL(account, name string) string {
	return "/users/" + url.PathEscape(account) + "/" + url.PathEscape(name)
}

// Findings.

type findingsView struct {
	pageBase
	Filter   findingFilter
	Targets  []string
	Findings []store.Finding
	Total    int
	First    int // 1-based index of the first row shown
	Last     int
	PrevURL  string
	NextURL  string
}

func (s *Server) findingsPage(w http.ResponseWriter, r *http.Request) {
	q, ok := s.pageQuery(w, r, findingParams...)
	if !ok {
		return
	}
	f, err := parseFindingFilter(q, store.FindingOpen, pageSize)
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest, err.Error()+".")
		return
	}
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	findings, total, err := s.store.Findings(ctx, f.storeQuery())
	if err != nil {
		s.pageStoreError(w, r, "findings", err)
		return
	}
	accounts, err := s.store.Overview(ctx)
	if err != nil {
		s.pageStoreError(w, r, "overview", err)
		return
	}
	v := &findingsView{pageBase: s.base(r, "Findings", "findings"), Filter: f, Findings: findings, Total: total}
	for _, a := range accounts {
		v.Targets = append(v.Targets, a.Target)
	}
	for _, t := range s.targets() {
		v.Targets = append(v.Targets, t.Name)
	}
	slices.Sort(v.Targets)
	v.Targets = slices.Compact(v.Targets)
	if len(findings) > 0 {
		v.First, v.Last = f.Offset+1, f.Offset+len(findings)
	}
	link := func(offset int) string {
		p := url.Values{"state": {f.State}, "account": {f.Account}, "user": {f.User}, "policy": {f.Policy}, "target": {f.Target}}
		if f.Limit != pageSize {
			p.Set("limit", strconv.Itoa(f.Limit))
		}
		if offset > 0 {
			p.Set("offset", strconv.Itoa(offset))
		}
		return findingsURL(p)
	}
	if f.Offset > 0 {
		v.PrevURL = link(max(0, f.Offset-f.Limit))
	}
	if f.Offset+len(findings) < total {
		v.NextURL = link(f.Offset + f.Limit)
	}
	s.render(w, r, http.StatusOK, "findings", v)
}

// Runs.

type runsView struct {
	pageBase
	Target  string
	Runs    []store.Run
	First   int
	PrevURL string
	NextURL string
}

func (s *Server) runsPage(w http.ResponseWriter, r *http.Request) {
	q, ok := s.pageQuery(w, r, "target", "offset")
	if !ok {
		return
	}
	offset, err := intParam(q, "offset", 0, 0, 1<<31-1)
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest, err.Error()+".")
		return
	}
	target := q.Get("target")
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	// One more than a page tells whether there is a next page.
	runs, err := s.store.Runs(ctx, store.RunQuery{Target: target, Limit: pageSize + 1, Offset: offset})
	if err != nil {
		s.pageStoreError(w, r, "runs", err)
		return
	}
	v := &runsView{pageBase: s.base(r, "Runs", "runs"), Target: target, First: offset + 1}
	link := func(off int) string {
		p := url.Values{}
		if target != "" {
			p.Set("target", target)
		}
		if off > 0 {
			p.Set("offset", strconv.Itoa(off))
		}
		if len(p) == 0 {
			return "/runs"
		}
		return "/runs?" + p.Encode()
	}
	if len(runs) > pageSize {
		runs = runs[:pageSize]
		v.NextURL = link(offset + pageSize)
	}
	if offset > 0 {
		v.PrevURL = link(max(0, offset-pageSize))
	}
	v.Runs = runs
	s.render(w, r, http.StatusOK, "runs", v)
}

type runView struct {
	pageBase
	Run store.Run
}

func (s *Server) runPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.pageQuery(w, r); !ok {
		return
	}
	id, err := runID(r)
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest, err.Error()+".")
		return
	}
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	run, err := s.store.Run(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		s.renderError(w, r, http.StatusNotFound, fmt.Sprintf("There is no run %d in the history.", id))
		return
	}
	if err != nil {
		s.pageStoreError(w, r, "run", err)
		return
	}
	s.render(w, r, http.StatusOK, "run", &runView{pageBase: s.base(r, fmt.Sprintf("Run %d", id), "runs"), Run: run})
}

// User.

type userView struct {
	pageBase
	AccountID string
	Name      string
	Latest    store.UserState
	History   []store.UserState
}

func (s *Server) userPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.pageQuery(w, r); !ok {
		return
	}
	account, name := r.PathValue("account"), r.PathValue("name")
	if !accountRE.MatchString(account) {
		s.renderError(w, r, http.StatusBadRequest, "The account must be a 12-digit AWS account ID.")
		return
	}
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	states, err := s.store.UserHistory(ctx, account, name, historyRows)
	if errors.Is(err, store.ErrNotFound) || (err == nil && len(states) == 0) {
		s.renderError(w, r, http.StatusNotFound, fmt.Sprintf("No run has seen user %s in account %s.", name, account))
		return
	}
	if err != nil {
		s.pageStoreError(w, r, "user history", err)
		return
	}
	s.render(w, r, http.StatusOK, "user", &userView{
		pageBase:  s.base(r, "User "+name, "findings"),
		AccountID: account, Name: name, Latest: states[0], History: states,
	})
}

// Exemptions.

type exemptionRow struct {
	N int
	exempt.Exemption
	State string // "active", "soon", "expired"
	Note  string
}

type exemptionsView struct {
	pageBase
	Configured bool
	Path       string
	Rows       []exemptionRow
}

func (s *Server) exemptionsPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.pageQuery(w, r); !ok {
		return
	}
	v := &exemptionsView{pageBase: s.base(r, "Exemptions", "exemptions")}
	if c := s.exemptions; c != nil {
		v.Configured = true
		now := s.now()
		for i, e := range c.Exemptions {
			row := exemptionRow{N: i + 1, Exemption: e, State: "active", Note: "no expiry"}
			if e.Expires != "" {
				row.Note = "valid through " + e.Expires
				if e.ExpiredOn(now) {
					row.State, row.Note = "expired", "expired after "+e.Expires+"; no longer applies"
				} else if end, err := time.Parse("2006-01-02", e.Expires); err == nil {
					days := int(end.Sub(now.UTC().Truncate(24*time.Hour)).Hours() / 24)
					if days <= soonDays {
						row.State = "soon"
						row.Note = fmt.Sprintf("valid through %s (%d days left)", e.Expires, days)
					}
				}
			}
			v.Rows = append(v.Rows, row)
		}
	}
	s.render(w, r, http.StatusOK, "exemptions", v)
}

// Helpers for templates.

func groupDigits(s string) string {
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

type opCount struct {
	Op string
	N  int
}

func sortedOps(calls map[string]int) []opCount {
	out := make([]opCount, 0, len(calls))
	for op, n := range calls {
		out = append(out, opCount{op, n})
	}
	slices.SortFunc(out, func(a, b opCount) int {
		if a.N != b.N {
			return b.N - a.N
		}
		return strings.Compare(a.Op, b.Op)
	})
	return out
}

// statusClass is the CSS class of a status or state.
func statusClass(s string) string { return "st-" + strings.ToLower(s) }
