package web

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/iamgroups/iamgroups/internal/store"
)

// collector reads the store (and the scheduler) at scrape time. Nothing is
// kept in memory between scrapes, so the numbers are the store's, whatever
// process recorded the runs.
type collector struct {
	s *Server

	storeUp, users, open                             *prometheus.Desc
	lastDuration, lastTime, lastStatus, lastAPICalls *prometheus.Desc
	runs, apiCalls                                   *prometheus.Desc
	nextScan, running                                *prometheus.Desc
}

func newCollector(s *Server) *collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("iamgroups_"+name, help, labels, nil)
	}
	return &collector{
		s:            s,
		storeUp:      d("store_up", "1 when the history store answered this scrape, else 0 (and the other metrics are missing)."),
		users:        d("users", "IAM users by status in the latest run that covered the account.", "target", "account", "status"),
		open:         d("open_findings", "Open findings (failing users) of the account.", "target", "account"),
		lastDuration: d("last_scan_duration_seconds", "How long the latest finished run of the target took.", "target"),
		lastTime:     d("last_scan_timestamp_seconds", "When the latest finished run of the target ended (Unix time).", "target"),
		lastStatus:   d("last_scan_status", "1 for the status of the latest finished run of the target (ok, partial, failed, interrupted).", "target", "status"),
		lastAPICalls: d("last_scan_api_calls", "AWS API calls made by the latest finished run of the target, by operation.", "target", "operation"),
		runs:         d("runs_total", "Finished runs in the history, by target and status (failed and interrupted runs are scan errors).", "target", "status"),
		apiCalls:     d("api_calls_total", "AWS API calls made by every run in the history, by target and operation.", "target", "operation"),
		nextScan:     d("next_scan_timestamp_seconds", "When the next scheduled scan of the target starts (Unix time).", "target"),
		running:      d("scan_running", "1 while a scan of the target is in progress.", "target"),
	}
}

// Describe sends every descriptor.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.storeUp, c.users, c.open, c.lastDuration, c.lastTime,
		c.lastStatus, c.lastAPICalls, c.runs, c.apiCalls, c.nextScan, c.running} {
		ch <- d
	}
}

// Collect reads the store and sends the metrics.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	for _, t := range c.s.targets() {
		if !t.Next.IsZero() {
			gauge(c.nextScan, float64(t.Next.Unix()), t.Name)
		}
		running := 0.0
		if t.Running {
			running = 1
		}
		gauge(c.running, running, t.Name)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	accounts, err := c.s.store.Overview(ctx)
	var runs []store.Run
	if err == nil {
		// Every run: the history has no aggregate query, and a few thousand
		// runs read in milliseconds.
		runs, err = c.s.store.Runs(ctx, store.RunQuery{})
	}
	if err != nil {
		c.s.log.Error("metrics: read the store", "error", err)
		gauge(c.storeUp, 0)
		return
	}
	gauge(c.storeUp, 1)

	for _, a := range accounts {
		for _, st := range []struct {
			status string
			n      int
		}{{"PASS", a.Pass}, {"FAIL", a.Fail}, {"EXEMPT", a.Exempt}, {"ERROR", a.Error}} {
			gauge(c.users, float64(st.n), a.Target, a.AccountID, st.status)
		}
		gauge(c.open, float64(a.Open), a.Target, a.AccountID)
	}

	type key struct{ target, label string }
	runCount := map[key]int{}
	callCount := map[key]int{}
	latest := map[string]*store.Run{}
	for i := range runs {
		r := &runs[i]
		if r.Status == store.RunRunning {
			continue // not finished: counted once it ends
		}
		runCount[key{r.Target, r.Status}]++
		for op, n := range r.APICalls {
			callCount[key{r.Target, op}] += n
		}
		// Runs come newest first; keep the first finished one per target.
		if _, ok := latest[r.Target]; !ok {
			latest[r.Target] = r
		}
	}
	for k, n := range runCount {
		counter(c.runs, float64(n), k.target, k.label)
	}
	for k, n := range callCount {
		counter(c.apiCalls, float64(n), k.target, k.label)
	}
	for target, r := range latest {
		gauge(c.lastStatus, 1, target, r.Status)
		if !r.FinishedAt.IsZero() {
			gauge(c.lastDuration, r.Duration().Seconds(), target)
			gauge(c.lastTime, float64(r.FinishedAt.UnixMilli())/1000, target)
		}
		for op, n := range r.APICalls {
			gauge(c.lastAPICalls, float64(n), target, op)
		}
	}
}
