// Package mototest runs the IAM API emulator moto_server for tests, and a
// reverse proxy in front of it that counts calls and injects faults
// (throttling, server errors, connection resets, refusals, latency). Tests
// reach AWS through the real SDK, pointed at the proxy.
//
// It is imported by tests only. moto_server (Python moto 5 with Flask) is
// on every machine of this project's kind; when it is missing, tests that
// need it skip, except under CI, where that fails the run.
package mototest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is a running moto_server.
type Server struct {
	URL string
	cmd *exec.Cmd
	log bytes.Buffer
}

var (
	shared    *Server
	sharedErr error
)

// Main starts one moto_server for the test package, runs the tests, and
// stops it. Use it from TestMain: os.Exit(mototest.Main(m)).
func Main(m *testing.M) int {
	// The SDK needs credentials and a region; moto accepts any.
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "",
		"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_PROFILE": "", "AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "",
	} {
		if v == "" {
			os.Unsetenv(k)
		} else {
			os.Setenv(k, v)
		}
	}
	shared, sharedErr = start()
	if sharedErr != nil && os.Getenv("CI") != "" {
		fmt.Fprintf(os.Stderr, "mototest: %v (required under CI)\n", sharedErr)
		return 1
	}
	code := m.Run()
	if shared != nil {
		shared.stop()
		if code != 0 && testing.Verbose() {
			fmt.Fprintf(os.Stderr, "moto_server log:\n%s\n", shared.log.String())
		}
	}
	return code
}

// Require returns the package's moto_server, reset to an empty state, or
// skips the test when moto_server could not be started.
func Require(t testing.TB) *Server {
	t.Helper()
	if shared == nil {
		if sharedErr == nil {
			t.Fatal("mototest.Require: call mototest.Main from TestMain")
		}
		t.Skipf("moto_server is not available: %v", sharedErr)
	}
	shared.Reset(t)
	return shared
}

func start() (*Server, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, fmt.Errorf("moto_server not found on PATH (pip install 'moto[server]')")
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port)}
	s.cmd = exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	s.cmd.Env = append(os.Environ(), "MOTO_IAM_LOAD_MANAGED_POLICIES=true")
	s.cmd.Stdout, s.cmd.Stderr = &s.log, &s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.URL + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return s, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.stop()
	return nil, fmt.Errorf("moto_server did not answer on %s within 30s: %s", s.URL, s.log.String())
}

func (s *Server) stop() {
	if s.cmd.Process != nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		}
	}
}

var resetMu sync.Mutex

// Reset empties every account of the emulator.
func (s *Server) Reset(t testing.TB) {
	t.Helper()
	resetMu.Lock()
	defer resetMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/moto-api/reset", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("reset moto_server: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reset moto_server: %s", resp.Status)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
