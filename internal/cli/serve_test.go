package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamgroups/iamgroups/internal/store"
)

// syncBuffer is a buffer that the server's goroutines may log to while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serving is a serve command running in the background.
type serving struct {
	addr string
	log  *syncBuffer
	stop func() error // cancels the context (as SIGTERM does) and waits
}

func startServe(t *testing.T, config string) *serving {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	sv := &serving{log: &syncBuffer{}}
	opts := serveOptions{Config: config, minInterval: time.Second, ready: func(addr string) { ready <- addr }}
	go func() { done <- runServe(ctx, opts, streams{in: strings.NewReader(""), out: io.Discard, err: sv.log}) }()
	select {
	case sv.addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("serve did not start: %v\n%s", err, sv.log)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatalf("serve did not start within 10s\n%s", sv.log)
	}
	var once sync.Once
	var result error
	sv.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case result = <-done:
			case <-time.After(30 * time.Second):
				t.Fatalf("serve did not stop within 30s\n%s", sv.log)
			}
		})
		return result
	}
	t.Cleanup(func() { sv.stop() })
	return sv
}

func TestServeBadConfigExitsTwo(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "iamgroups.yaml", "targets:\n  - name: prod\n    profile: prod\n    every: 10s\n")
	_, errOut, code := run(t, "serve", "--config", cfg)
	want := cfg + ":4:12: targets[0].every: 10s is shorter than the minimum 1m0s; scan less often, or use cron for fixed times"
	if code != ExitUsage || strings.TrimSpace(errOut) != want {
		t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, want)
	}
	_, errOut, code = run(t, "serve", "--config", filepath.Join(dir, "none.yaml"))
	if code != ExitUsage || !strings.Contains(errOut, "none.yaml does not exist") {
		t.Errorf("missing config: exit %d, %q", code, errOut)
	}
}

func TestServeRefusesNonLoopbackWithoutToken(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("IAMGROUPS_TOKEN", "")
	cfg := writeFile(t, dir, "iamgroups.yaml", "listen: 0.0.0.0:0\ntargets:\n  - {name: demo, demo: true, every: 1h}\n")
	_, errOut, code := run(t, "serve", "--config", cfg)
	if code != ExitUsage || !strings.Contains(errOut, "refusing to listen on 0.0.0.0 without an auth token") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if _, err := filepath.Glob(filepath.Join(dir, "*.db")); err != nil {
		t.Fatal(err)
	}
	if dbs, _ := filepath.Glob(filepath.Join(dir, "*.db")); len(dbs) != 0 {
		t.Errorf("a refused serve created %v", dbs)
	}

	// With a token it starts, and the API wants the token.
	t.Setenv("IAMGROUPS_TOKEN", "s3cret-t0ken")
	sv := startServe(t, cfg)
	port := sv.addr[strings.LastIndex(sv.addr, ":"):]
	resp, err := http.Get("http://127.0.0.1" + port + "/api/v1/summary")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("API without the token: %s", resp.Status)
	}
	if err := sv.stop(); err != nil {
		t.Errorf("serve returned %v", err)
	}
	if strings.Contains(sv.log.String(), "s3cret-t0ken") {
		t.Errorf("the log shows the token:\n%s", sv.log)
	}
}

// A SIGTERM (the context's end) during a scan: the server stops, the
// scan's run is recorded as interrupted, the other target's finished run
// is kept, and serve returns nil (exit 0).
func TestServeShutdownDuringAScan(t *testing.T) {
	dir := t.TempDir()
	reached := make(chan struct{}, 1)
	hang := make(chan struct{})
	// An AWS endpoint that never answers: the scan waits until shutdown.
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case reached <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-hang:
		}
	}))
	defer endpoint.Close()
	defer close(hang) // before Close, which waits for the handlers
	hook := &hookRecorder{}
	receiver := httptest.NewServer(hook)
	defer receiver.Close()
	cfg := writeFile(t, dir, "iamgroups.yaml", "listen: 127.0.0.1:0\n"+
		"targets:\n"+
		"  - name: demo\n    demo: true\n    every: 1h\n"+
		"  - name: stuck\n    endpoint_url: "+endpoint.URL+"\n    every: 1h\n"+
		"notify:\n  - url: "+receiver.URL+"/hook\n    format: slack\n")
	sv := startServe(t, cfg)
	select {
	case <-reached:
	case <-time.After(10 * time.Second):
		t.Fatalf("the scan never reached the endpoint\n%s", sv.log)
	}
	resp, err := http.Get("http://" + sv.addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz: %s", resp.Status)
	}
	// Wait for the demo's run to be recorded before stopping.
	db := filepath.Join(dir, "iamgroups.db")
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		runs, err := st.Runs(context.Background(), store.RunQuery{Target: "demo"})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) == 1 && runs[0].Status != store.RunRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo's run was not recorded: %+v\n%s", runs, sv.log)
		}
		time.Sleep(20 * time.Millisecond)
	}

	if err := sv.stop(); err != nil {
		t.Fatalf("serve returned %v, want nil (exit 0)\n%s", err, sv.log)
	}
	runs, err := st.Runs(context.Background(), store.RunQuery{})
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, r := range runs {
		status[r.Target] = r.Status
		if r.Target == "stuck" && !strings.Contains(r.Error, "stopped during the scan") {
			t.Errorf("interrupted run's reason %q", r.Error)
		}
	}
	if len(runs) != 2 || status["demo"] != store.RunPartial || status["stuck"] != store.RunInterrupted {
		t.Errorf("runs after shutdown: %v\n%s", status, sv.log)
	}
	if got := hook.count(); got != 1 {
		t.Errorf("%d notifications delivered before exit, want the demo's one", got)
	}
	for _, want := range []string{"scan interrupted", "scans in progress recorded as interrupted", "msg=stopped"} {
		if !strings.Contains(sv.log.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, sv.log)
		}
	}
	if _, err := http.Get("http://" + sv.addr + "/healthz"); err == nil {
		t.Error("the server still answers after shutdown")
	}
}

// hookRecorder counts the notifications it receives.
type hookRecorder struct {
	mu sync.Mutex
	n  int
}

func (h *hookRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	h.mu.Lock()
	h.n++
	h.mu.Unlock()
}

func (h *hookRecorder) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}
