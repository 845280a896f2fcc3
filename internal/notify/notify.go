package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kind is what an event reports.
type Kind string

// The kinds of events.
const (
	// KindNew reports users that hold a policy directly and did not in the
	// previous run (first seen, or failing again after being resolved).
	KindNew Kind = "new"
	// KindResolved reports findings that no longer fail.
	KindResolved Kind = "resolved"
	// KindFailed reports a scan that produced no results.
	KindFailed Kind = "failed"
)

// Kinds are every event kind, in the order they are documented.
var Kinds = []Kind{KindNew, KindResolved, KindFailed}

// Format is how an event is rendered for a webhook.
type Format string

// The webhook formats.
const (
	// FormatJSON is iamgroups' own JSON document (schema
	// iamgroups.notification/v1).
	FormatJSON Format = "json"
	// FormatSlack is Slack's incoming-webhook message: {"text": ...}.
	FormatSlack Format = "slack"
)

// Formats are the webhook formats, in the order they are documented.
var Formats = []Format{FormatJSON, FormatSlack}

// Event is one notification: one run's findings of one kind, or its
// failure.
type Event struct {
	Kind   Kind
	Target string
	RunID  int64
	At     time.Time
	// Findings are the users concerned (none for KindFailed).
	Findings []Finding
	// Error says why the scan failed (KindFailed only).
	Error string
}

// Finding is one user in an event.
type Finding struct {
	AccountID string
	UserName  string
	UserARN   string
	// Policies name the user's direct policies ("AdministratorAccess",
	// "inline s3-reports"), for new findings.
	Policies []string
	// Reopened is set for a new finding that had been resolved before.
	Reopened bool
}

// Sink is one webhook.
type Sink struct {
	// URL receives a POST per event. It is a secret: it is never logged.
	URL    string
	Format Format
	// On are the kinds of events sent; empty means all.
	On []Kind
}

// wants reports whether the sink takes events of kind k.
func (s *Sink) wants(k Kind) bool {
	return len(s.On) == 0 || slices.Contains(s.On, k)
}

// Options tune delivery. Zero values take the defaults.
type Options struct {
	// Logger receives delivery failures and drops (default: discarded).
	Logger *slog.Logger
	// Client sends the requests (default: a client with no overall
	// timeout; each attempt is bounded by Timeout).
	Client *http.Client
	// QueueSize bounds the events waiting per webhook (default 100).
	QueueSize int
	// MaxAttempts bounds the attempts per event (default 5).
	MaxAttempts int
	// Timeout bounds one attempt (default 10s).
	Timeout time.Duration
	// BaseDelay is the wait before the first retry, doubled for each
	// further one (default 1s); MaxDelay caps it and any Retry-After
	// (default 1m).
	BaseDelay, MaxDelay time.Duration
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 100
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.BaseDelay <= 0 {
		o.BaseDelay = time.Second
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = time.Minute
	}
}

// Stats count what happened to events, over all webhooks.
type Stats struct {
	Delivered int // accepted by the webhook (2xx)
	Failed    int // given up after retries or refused (other 4xx)
	Dropped   int // not queued because the queue was full or closed
}

// Notifier queues events and delivers them in the background. It is safe
// for concurrent use.
type Notifier struct {
	opts    Options
	workers []*worker
	ctx     context.Context // cancelled when Close gives up waiting
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu     sync.RWMutex
	closed bool

	statsMu sync.Mutex
	stats   Stats
}

type worker struct {
	sink  Sink
	name  string // the redacted URL, for logs
	queue chan Event
}

// New starts one delivery worker per sink. Call Close to stop them.
func New(sinks []Sink, o Options) *Notifier {
	o.defaults()
	ctx, cancel := context.WithCancel(context.Background())
	n := &Notifier{opts: o, ctx: ctx, cancel: cancel}
	for _, s := range sinks {
		w := &worker{sink: s, name: RedactURL(s.URL), queue: make(chan Event, o.QueueSize)}
		n.workers = append(n.workers, w)
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			for e := range w.queue {
				n.deliver(w, e)
			}
		}()
	}
	return n
}

// Notify queues e for every webhook that wants its kind. It never blocks:
// when a webhook's queue is full, the event is dropped for that webhook
// and the drop is logged.
func (n *Notifier) Notify(e Event) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	for _, w := range n.workers {
		if !w.sink.wants(e.Kind) {
			continue
		}
		if n.closed {
			n.count(func(s *Stats) { s.Dropped++ })
			n.opts.Logger.Warn("notification dropped: the notifier is closed", "webhook", w.name, "event", e.Kind, "target", e.Target, "run", e.RunID)
			continue
		}
		select {
		case w.queue <- e:
		default:
			n.count(func(s *Stats) { s.Dropped++ })
			n.opts.Logger.Warn("notification dropped: the webhook's queue is full (the receiver is slow or down)",
				"webhook", w.name, "event", e.Kind, "target", e.Target, "run", e.RunID, "queue", cap(w.queue))
		}
	}
}

// Close stops taking events and waits until the queued ones are delivered
// or given up, or until ctx ends; then it abandons what is left and
// returns an error saying so.
func (n *Notifier) Close(ctx context.Context) error {
	n.mu.Lock()
	if !n.closed {
		n.closed = true
		for _, w := range n.workers {
			close(w.queue)
		}
	}
	n.mu.Unlock()
	done := make(chan struct{})
	go func() { n.wg.Wait(); close(done) }()
	select {
	case <-done:
		n.cancel()
		return nil
	case <-ctx.Done():
		n.cancel() // in-flight attempts and waits end; the rest is dropped
		<-done
		return fmt.Errorf("drain notifications: %w", ctx.Err())
	}
}

// Stats returns the counts so far.
func (n *Notifier) Stats() Stats {
	n.statsMu.Lock()
	defer n.statsMu.Unlock()
	return n.stats
}

func (n *Notifier) count(f func(*Stats)) {
	n.statsMu.Lock()
	f(&n.stats)
	n.statsMu.Unlock()
}

// maxResponse bounds how much of an answer is read (to reuse the
// connection) or shown in a log.
const maxResponse = 4 << 10

// deliver sends one event to one webhook, retrying what may succeed later.
func (n *Notifier) deliver(w *worker, e Event) {
	log := n.opts.Logger.With("webhook", w.name, "event", e.Kind, "target", e.Target, "run", e.RunID)
	if n.ctx.Err() != nil {
		n.count(func(s *Stats) { s.Dropped++ })
		log.Warn("notification dropped at shutdown")
		return
	}
	body, err := Render(w.sink.Format, e)
	if err != nil {
		n.count(func(s *Stats) { s.Failed++ })
		log.Error("notification not sent", "error", err)
		return
	}
	for attempt := 1; ; attempt++ {
		retry, wait, err := n.send(w, body)
		if err == nil {
			n.count(func(s *Stats) { s.Delivered++ })
			if attempt > 1 {
				log.Info("notification delivered after retries", "attempts", attempt)
			}
			return
		}
		if !retry || attempt == n.opts.MaxAttempts {
			n.count(func(s *Stats) { s.Failed++ })
			log.Error("notification not delivered; giving up", "attempts", attempt, "error", err)
			return
		}
		if wait == 0 {
			wait = n.backoff(attempt)
		}
		log.Warn("notification not delivered; retrying", "attempt", attempt, "retry_in", wait.Round(time.Millisecond), "error", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-n.ctx.Done():
			t.Stop()
			n.count(func(s *Stats) { s.Failed++ })
			log.Error("notification not delivered: shutting down", "attempts", attempt, "error", err)
			return
		}
	}
}

// send makes one attempt. It returns whether a failure is worth retrying
// and how long the receiver asked to wait (0: not said).
func (n *Notifier) send(w *worker, body []byte) (retry bool, wait time.Duration, err error) {
	ctx, cancel := context.WithTimeout(n.ctx, n.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.sink.URL, bytes.NewReader(body))
	if err != nil {
		// The URL was validated when the config was read; never echo it.
		return false, 0, errors.New("build the request: invalid webhook URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "iamgroups")
	resp, err := n.opts.Client.Do(req)
	if err != nil {
		return n.ctx.Err() == nil, 0, fmt.Errorf("post: %s", redactError(err, w.sink.URL))
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return false, 0, nil
	}
	err = fmt.Errorf("the webhook answered %s: %.200s", resp.Status, snippet)
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		return true, n.retryAfter(resp.Header.Get("Retry-After")), err
	}
	return false, 0, err
}

// backoff is the wait before retry number attempt: exponential, capped,
// with jitter (between half and all of it) so that several instances do not
// retry in step.
func (n *Notifier) backoff(attempt int) time.Duration {
	d := n.opts.BaseDelay << min(attempt-1, 20)
	if d > n.opts.MaxDelay || d <= 0 {
		d = n.opts.MaxDelay
	}
	return d/2 + rand.N(d/2+1)
}

// retryAfter parses a Retry-After header (seconds or an HTTP date),
// capped at MaxDelay; 0 when absent or unreadable.
func (n *Notifier) retryAfter(h string) time.Duration {
	if h == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.Atoi(h); err == nil {
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = time.Until(t)
	}
	if d <= 0 {
		return 0
	}
	return min(d, n.opts.MaxDelay)
}

// RedactURL names a webhook without its secrets: scheme and host only
// ("https://hooks.slack.com/…").
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(invalid URL)"
	}
	s := u.Scheme + "://" + u.Host
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		s += "/…"
	}
	return s
}

// redactError returns err's message with the URL replaced by its redacted
// form (the HTTP client quotes the whole URL).
func redactError(err error, raw string) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return strings.ReplaceAll(err.Error(), raw, RedactURL(raw))
}
