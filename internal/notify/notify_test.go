package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// receiver is a webhook that records what it is sent and answers with the
// statuses given, in order (200 once they run out).
type receiver struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	bodies   []string
	statuses []int
	headers  []http.Header
	hang     chan struct{} // when not nil, requests wait on it
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	r := &receiver{t: t, statuses: statuses}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, string(body))
		status := http.StatusOK
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.headers = append(r.headers, req.Header.Clone())
		hang := r.hang
		r.mu.Unlock()
		if hang != nil {
			select {
			case <-hang:
			case <-req.Context().Done():
			}
		}
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "0")
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bodies...)
}

var at = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newEvent() Event {
	return Event{Kind: KindNew, Target: "prod", RunID: 7, At: at, Findings: []Finding{
		{AccountID: "111122223333", UserName: "alice", UserARN: "arn:aws:iam::111122223333:user/alice", Policies: []string{"AdministratorAccess"}},
		{AccountID: "111122223333", UserName: "bob<x>", UserARN: "arn:aws:iam::111122223333:user/bob", Policies: []string{"inline s3&co"}, Reopened: true},
	}}
}

// fast are options that keep retries quick in tests.
func fast(log *bytes.Buffer) Options {
	o := Options{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, Timeout: 2 * time.Second}
	if log != nil {
		o.Logger = slog.New(slog.NewTextHandler(log, nil))
	}
	return o
}

func closeNow(t *testing.T, n *Notifier) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestSlackAndJSONBodies(t *testing.T) {
	slack, js := newReceiver(t), newReceiver(t)
	n := New([]Sink{{URL: slack.srv.URL + "/services/T000/B000/secret", Format: FormatSlack}, {URL: js.srv.URL, Format: FormatJSON}}, fast(nil))
	n.Notify(newEvent())
	n.Notify(Event{Kind: KindFailed, Target: "prod", RunID: 8, At: at, Error: "identify the account: access denied"})
	closeNow(t, n)

	wantSlack := []string{
		`{"text":"iamgroups: 2 new findings in prod (run 7): users hold policies directly\n` +
			`• alice (account 111122223333): AdministratorAccess\n` +
			`• bob&lt;x&gt; (account 111122223333): inline s3&amp;co (again, after being resolved)"}`,
		`{"text":"iamgroups: the scan of prod failed (run 8): identify the account: access denied"}`,
	}
	if got := slack.got(); strings.Join(got, "\n---\n") != strings.Join(wantSlack, "\n---\n") {
		t.Errorf("slack bodies:\n%s\nwant:\n%s", strings.Join(got, "\n---\n"), strings.Join(wantSlack, "\n---\n"))
	}
	wantJSON := []string{
		`{"schema":"iamgroups.notification/v1","event":"new","target":"prod","run_id":7,"at":"2026-03-01T12:00:00Z","count":2,` +
			`"findings":[{"account_id":"111122223333","user_name":"alice","user_arn":"arn:aws:iam::111122223333:user/alice","policies":["AdministratorAccess"]},` +
			`{"account_id":"111122223333","user_name":"bob<x>","user_arn":"arn:aws:iam::111122223333:user/bob","policies":["inline s3&co"],"reopened":true}],` +
			`"omitted":0,"text":"iamgroups: 2 new findings in prod (run 7): users hold policies directly"}`,
		`{"schema":"iamgroups.notification/v1","event":"failed","target":"prod","run_id":8,"at":"2026-03-01T12:00:00Z","count":0,"findings":[],` +
			`"omitted":0,"error":"identify the account: access denied","text":"iamgroups: the scan of prod failed (run 8): identify the account: access denied"}`,
	}
	if got := js.got(); strings.Join(got, "\n") != strings.Join(wantJSON, "\n") {
		t.Errorf("json bodies:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantJSON, "\n"))
	}
	if ct := js.headers[0].Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if s := n.Stats(); s != (Stats{Delivered: 4}) {
		t.Errorf("stats %+v", s)
	}
}

func TestLongListsAreCapped(t *testing.T) {
	e := Event{Kind: KindResolved, Target: "prod", RunID: 3, At: at}
	for i := range 130 {
		e.Findings = append(e.Findings, Finding{AccountID: "111122223333", UserName: fmt.Sprintf("u%03d", i)})
	}
	text := Text(e, maxSlackUsers, nil)
	lines := strings.Split(text, "\n")
	if len(lines) != 22 || lines[0] != "iamgroups: 130 findings resolved in prod (run 3): users no longer hold policies directly" ||
		lines[20] != "• u019 (account 111122223333)" || lines[21] != "and 110 more" {
		t.Errorf("text:\n%s", text)
	}
	body, err := Render(FormatJSON, e)
	if err != nil {
		t.Fatal(err)
	}
	var m jsonEvent
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if m.Count != 130 || len(m.Findings) != 100 || m.Omitted != 30 {
		t.Errorf("json count %d, listed %d, omitted %d", m.Count, len(m.Findings), m.Omitted)
	}
}

func TestRetriesAfterServerErrorsAndTooManyRequests(t *testing.T) {
	r := newReceiver(t, 500, 429, 503)
	var log bytes.Buffer
	n := New([]Sink{{URL: r.srv.URL + "/hook?token=s3cret", Format: FormatJSON}}, fast(&log))
	n.Notify(newEvent())
	closeNow(t, n)
	got := r.got()
	if len(got) != 4 || got[0] != got[3] {
		t.Fatalf("%d attempts, want 4 identical ones", len(got))
	}
	if s := n.Stats(); s != (Stats{Delivered: 1}) {
		t.Errorf("stats %+v", s)
	}
	if strings.Contains(log.String(), "s3cret") || strings.Contains(log.String(), "/hook") {
		t.Errorf("the log shows the webhook's secret:\n%s", log.String())
	}
	if !strings.Contains(log.String(), "delivered after retries") {
		t.Errorf("log:\n%s", log.String())
	}
}

func TestGivesUpAfterMaxAttemptsAndOnClientErrors(t *testing.T) {
	down := newReceiver(t, 500, 500, 500, 500, 500, 500)
	refused := newReceiver(t, 400)
	var log bytes.Buffer
	o := fast(&log)
	o.MaxAttempts = 3
	n := New([]Sink{{URL: down.srv.URL, Format: FormatSlack}, {URL: refused.srv.URL, Format: FormatSlack}}, o)
	n.Notify(newEvent())
	closeNow(t, n)
	if len(down.got()) != 3 || len(refused.got()) != 1 {
		t.Errorf("attempts: %d to the failing webhook (want 3), %d to the refusing one (want 1)", len(down.got()), len(refused.got()))
	}
	if s := n.Stats(); s != (Stats{Failed: 2}) {
		t.Errorf("stats %+v", s)
	}
	if strings.Count(log.String(), "giving up") != 2 {
		t.Errorf("log:\n%s", log.String())
	}
}

func TestRetriesNetworkErrors(t *testing.T) {
	r := newReceiver(t)
	url := r.srv.URL
	r.srv.Close() // nothing listens there any more
	var log bytes.Buffer
	o := fast(&log)
	o.MaxAttempts = 2
	n := New([]Sink{{URL: url + "/secret-path", Format: FormatJSON}}, o)
	n.Notify(newEvent())
	closeNow(t, n)
	if s := n.Stats(); s != (Stats{Failed: 1}) {
		t.Errorf("stats %+v", s)
	}
	if !strings.Contains(log.String(), "retrying") || strings.Contains(log.String(), "secret-path") {
		t.Errorf("log:\n%s", log.String())
	}
}

func TestOnFiltersEvents(t *testing.T) {
	r := newReceiver(t)
	n := New([]Sink{{URL: r.srv.URL, Format: FormatJSON, On: []Kind{KindFailed}}}, fast(nil))
	n.Notify(newEvent())
	n.Notify(Event{Kind: KindResolved, Target: "prod"})
	n.Notify(Event{Kind: KindFailed, Target: "prod", Error: "boom"})
	closeNow(t, n)
	if got := r.got(); len(got) != 1 || !strings.Contains(got[0], `"event":"failed"`) {
		t.Errorf("got %q", got)
	}
}

// A receiver that never answers must not block Notify: events beyond the
// queue are dropped, and Close gives up at its deadline.
func TestHangingReceiverNeverBlocks(t *testing.T) {
	r := newReceiver(t)
	r.hang = make(chan struct{})
	defer close(r.hang)
	var log bytes.Buffer
	o := fast(&log)
	o.QueueSize = 2
	o.Timeout = time.Minute
	n := New([]Sink{{URL: r.srv.URL, Format: FormatSlack}}, o)
	start := time.Now()
	for range 10 {
		n.Notify(newEvent())
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Notify blocked for %v", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := n.Close(ctx)
	if err == nil || !strings.Contains(err.Error(), "drain notifications") {
		t.Errorf("Close = %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
	s := n.Stats()
	// One in flight, two queued, seven dropped at once; the three
	// undelivered ones fail or drop at shutdown.
	if s.Delivered != 0 || s.Dropped+s.Failed != 10 || s.Dropped < 7 {
		t.Errorf("stats %+v", s)
	}
	if !strings.Contains(log.String(), "queue is full") {
		t.Errorf("log:\n%s", log.String())
	}
	n.Notify(newEvent()) // after Close: dropped, no panic
}

func TestRetryAfter(t *testing.T) {
	n := &Notifier{opts: Options{MaxDelay: time.Minute}}
	for h, want := range map[string]time.Duration{"": 0, "3": 3 * time.Second, "600": time.Minute, "soon": 0, "-1": 0} {
		if got := n.retryAfter(h); got != want {
			t.Errorf("Retry-After %q: %v, want %v", h, got, want)
		}
	}
	if got := n.retryAfter(time.Now().Add(10 * time.Second).UTC().Format(http.TimeFormat)); got < 8*time.Second || got > 10*time.Second {
		t.Errorf("Retry-After as a date: %v", got)
	}
}

func TestBackoffGrowsWithJitterAndCap(t *testing.T) {
	n := &Notifier{opts: Options{BaseDelay: time.Second, MaxDelay: 10 * time.Second}}
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 5: 10 * time.Second, 40: 10 * time.Second} {
		for range 20 {
			if d := n.backoff(attempt); d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.slack.com/services/T0/B0/XYZ": "https://hooks.slack.com/…",
		"https://user:pw@example.com/?token=1":       "https://example.com/…",
		"http://127.0.0.1:9000":                      "http://127.0.0.1:9000",
		"not a url":                                  "(invalid URL)",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
