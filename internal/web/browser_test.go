package web

import (
	"context"
	"flag"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/iamgroups/iamgroups/internal/store"
	"github.com/iamgroups/iamgroups/internal/store/storetest"
)

var screenshots = flag.Bool("screenshots", false, "write the dashboard screenshots under docs/ (TestBrowser)")

// chromiumPath finds the browser: Debian's chromium package.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed; CI installs it (apt-get install -y chromium)")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); skipping the browser test")
	return ""
}

// browser is a headless Chromium that reaches nothing but what it is sent
// to; it records every request it makes and every error it logs.
type browser struct {
	ctx      context.Context
	mu       sync.Mutex
	requests []string
	problems []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 768),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("force-color-profile", "srgb"),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	b := &browser{ctx: ctx}
	// Listen starts the browser; the network and log domains are on.
	err := chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			b.requests = append(b.requests, ev.Request.URL)
		case *runtime.EventExceptionThrown:
			b.problems = append(b.problems, "exception: "+ev.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
				b.problems = append(b.problems, fmt.Sprintf("%s %s: %s (%s)", ev.Entry.Level, ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		}
	})
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	b.do(t, "viewport", chromedp.EmulateViewport(1366, 768))
	return b
}

// do runs steps, each bounded so that a stuck page fails the test.
func (b *browser) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("browser: %s: %v", what, err)
	}
}

func run[T any](t *testing.T, b *browser, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("browser: %s: %v", what, err)
	}
	return v
}

func eval[T any](t *testing.T, b *browser, js string) T {
	t.Helper()
	return run(t, b, js, chromedp.Evaluate[T](js))
}

func text(t *testing.T, b *browser, css string) string {
	t.Helper()
	return run(t, b, "text of "+css, chromedp.Text(chromedp.CSS(css)))
}

// TestBrowser loads every page of a dashboard with seeded history in a
// real browser, signs in through the form, checks what a person sees and
// uses the keyboard, and checks that no request leaves the machine.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := context.Background()
	s := openStore(t)
	if err := storetest.Seed(ctx, s, "prod", 60, 400, 1); err != nil {
		t.Fatal(err)
	}
	if err := storetest.Seed(ctx, s, "org", 60, 250, 2); err != nil {
		t.Fatal(err)
	}
	last := storetest.SeedStart.Add(59 * storetest.SeedEvery)
	sched := &fakeScheduler{running: map[string]bool{}, targets: []Target{
		{Name: "prod", Schedule: "every 6h", Next: last.Add(6 * time.Hour), LastStatus: store.RunOK, LastRunAt: last,
			Flags: []string{"--profile", "prod-audit"}, Org: true, OrgRoleName: "IAMGroupsAudit"},
		{Name: "org", Schedule: "cron 0 */6 * * *", Next: last.Add(6 * time.Hour), LastStatus: store.RunOK, LastRunAt: last,
			Flags: []string{"--profile", "org-management"}, Org: true},
	}}
	srv, err := New(Options{Store: s, Scheduler: sched, Exemptions: testExemptions(), Token: testToken,
		Now: func() time.Time { return last.Add(time.Hour) }, Version: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	b := newBrowser(t)

	// Sign in through the form, typing the token.
	b.do(t, "open the dashboard", chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(chromedp.ID("token")))
	if loc := run(t, b, "location", chromedp.Location()); !strings.Contains(loc, "/login?next=") {
		t.Errorf("the dashboard without a session is at %s, want the login form", loc)
	}
	b.do(t, "sign in",
		chromedp.SendKeys(chromedp.ID("token"), testToken),
		chromedp.SendKeys(chromedp.ID("token"), kb.Enter),
		chromedp.WaitVisible(chromedp.ID("trend")),
	)
	if h1 := text(t, b, "h1"); h1 != "Overview" {
		t.Fatalf("after signing in: %q", h1)
	}

	// Overview: totals, the trend, the plan command.
	accounts, err := s.Overview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	open, fails := 0, 0
	var planAccount store.AccountSummary
	for _, a := range accounts {
		open += a.Open
		fails += a.Fail
		if a.Open > 0 && a.Target == "org" && planAccount.AccountID == "" {
			planAccount = a
		}
	}
	main := text(t, b, "main")
	for _, want := range []string{groupDigits(fmt.Sprint(open)) + "\nopen findings", groupDigits(fmt.Sprint(fails)) + "\nfail",
		"Failing users over time", planAccount.AccountID} {
		if !strings.Contains(main, want) {
			t.Errorf("overview does not show %q:\n%s", want, main)
		}
	}
	circles := eval[int](t, b, `document.querySelectorAll('#trend circle').length`)
	lines := eval[int](t, b, `document.querySelectorAll('#trend polyline').length`)
	if lines != 2 || circles != 120 {
		t.Errorf("trend chart: %d lines and %d points, want 2 and 120", lines, circles)
	}
	plans := eval[[]string](t, b, `[...document.querySelectorAll('code.plan-command')].map(e => e.textContent)`)
	if want := planCommand(sched.targets[1], planAccount.AccountID); !containsString(plans, want) {
		t.Errorf("plan commands %q lack %q", plans, want)
	}
	b.screenshot(t, "dashboard-overview.png", true)

	// Keyboard: the first Tab reaches the skip link, Enter moves to the
	// content, and the next Tab goes on from there.
	b.do(t, "first tab", chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(chromedp.ID("trend")), chromedp.KeyEvent(kb.Tab))
	if active := eval[string](t, b, `document.activeElement.className + ' ' + document.activeElement.textContent`); active != "skip-link Skip to main content" {
		t.Errorf("first Tab focuses %q, want the skip link", active)
	}
	b.do(t, "skip link", chromedp.KeyEvent(kb.Enter))
	if hash := eval[string](t, b, `location.hash`); hash != "#main" {
		t.Errorf("after the skip link: location hash %q, want #main", hash)
	}
	b.do(t, "tab after skip", chromedp.KeyEvent(kb.Tab))
	if active := eval[string](t, b, `document.activeElement.tagName + ' ' + (document.activeElement.closest('main') !== null)`); active != "A true" {
		t.Errorf("the Tab after the skip link focuses %q, want a link inside main", active)
	}
	b.do(t, "tab order", chromedp.Navigate(ts.URL+"/runs"), chromedp.WaitVisible(chromedp.CSS("h1")),
		chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(kb.Tab))
	if nav := eval[[]string](t, b, `[document.activeElement.tagName, document.activeElement.textContent]`); len(nav) != 2 || nav[0] != "A" || nav[1] != "Overview" {
		t.Errorf("the third Tab focuses %v, want the Overview link of the navigation", nav)
	}
	if outline := eval[string](t, b, `getComputedStyle(document.activeElement).outlineStyle`); outline == "none" {
		t.Errorf("the focused link shows no outline")
	}

	// Findings: the first row is the store's first open finding.
	findings, total, err := s.Findings(ctx, store.FindingQuery{State: store.FindingOpen, Limit: pageSize})
	if err != nil {
		t.Fatal(err)
	}
	b.do(t, "findings", chromedp.Navigate(ts.URL+"/findings"), chromedp.WaitVisible(chromedp.CSS("table.findings")))
	if first := text(t, b, "table.findings tbody tr th a"); first != findings[0].UserName {
		t.Errorf("first finding shows %q, want %q", first, findings[0].UserName)
	}
	if count, want := text(t, b, "p.count"), fmt.Sprintf("Showing 1–50 of %s open findings.", groupDigits(fmt.Sprint(total))); count != want {
		t.Errorf("findings count %q, want %q", count, want)
	}
	b.screenshot(t, "dashboard-findings.png", false)

	// The filter form works without script: type a user name, submit.
	user := findings[0].UserName
	b.do(t, "type a user", chromedp.SendKeys(chromedp.ID("f-user"), user))
	run(t, b, "submit the filter", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Submit(chromedp.ID("f-user"))))
	loc := run(t, b, "location", chromedp.Location())
	if u, _ := url.Parse(loc); u == nil || u.Query().Get("user") != user {
		t.Errorf("filter by user: at %s", loc)
	}
	b.do(t, "filtered table", chromedp.WaitVisible(chromedp.CSS("p.count")))
	if count := text(t, b, "p.count"); !strings.HasPrefix(count, "Showing 1–") {
		t.Errorf("filtered by %s: %q", user, count)
	}

	// Every other page renders with its heading.
	runs, err := s.Runs(ctx, store.RunQuery{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/findings?state=resolved":          "Findings",
		"/runs":                             "Runs",
		fmt.Sprintf("/runs/%d", runs[0].ID): fmt.Sprintf("Run %d", runs[0].ID),
		userURL(findings[0].AccountID, findings[0].UserName): "User " + findings[0].UserName,
		"/exemptions": "Exemptions",
	} {
		b.do(t, path, chromedp.Navigate(ts.URL+path), chromedp.WaitVisible(chromedp.CSS("h1")))
		if h1 := text(t, b, "h1"); !strings.HasPrefix(h1, want) {
			t.Errorf("%s: heading %q, want %q", path, h1, want)
		}
	}

	// Sign out, and the dashboard asks again.
	b.do(t, "sign out",
		chromedp.Click(chromedp.CSS(".signout button")),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.Navigate(ts.URL+"/findings"),
		chromedp.WaitVisible(chromedp.ID("token")),
	)

	b.mu.Lock()
	defer b.mu.Unlock()
	base, _ := url.Parse(ts.URL)
	if len(b.requests) < 10 {
		t.Errorf("only %d requests recorded; are network events listened to?", len(b.requests))
	}
	for _, r := range b.requests {
		u, err := url.Parse(r)
		if err != nil || (u.Scheme != "data" && u.Host != base.Host) {
			t.Errorf("request left the test server: %s", r)
		}
	}
	for _, p := range b.problems {
		t.Errorf("browser reported: %s", p)
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// screenshot saves the page (the whole page, or what a 1366×768 screen
// shows) under docs/ when -screenshots is given.
func (b *browser) screenshot(t *testing.T, name string, full bool) {
	t.Helper()
	if !*screenshots {
		return
	}
	shot := chromedp.CaptureScreenshot()
	if full {
		shot = chromedp.FullScreenshot(100)
	}
	png := run(t, b, "screenshot "+name, shot)
	if len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Fatalf("screenshot %s is not a PNG", name)
	}
	path := filepath.Join("..", "..", "docs", name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("write screenshot: %v", err)
	}
	t.Logf("wrote %s (%d bytes)", path, len(png))
}
