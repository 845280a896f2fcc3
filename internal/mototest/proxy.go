package mototest

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fault is what the proxy does to one request instead of forwarding it.
type Fault int

// The faults the proxy can inject.
const (
	None        Fault = iota
	Throttle          // 400 Throttling, which the SDK retries
	ServerError       // 500, which the SDK retries
	Reset             // the connection is closed without an answer
	Deny              // 403 AccessDenied
	Expired           // 403 ExpiredToken
	NotFound          // 404 NoSuchEntity, as for an entity deleted meanwhile
	Invalid           // 400 InvalidInput, which the SDK does not retry
	// Drop forwards the call, so that it takes effect, then closes the
	// connection without the answer: a crash between a call and its
	// outcome, as the caller sees it.
	Drop
)

// Request is what a fault rule sees of a call.
type Request struct {
	// Op is the operation: the query Action (IAM, STS) or the JSON target
	// (Organizations).
	Op string
	// Params are the query parameters of IAM and STS calls.
	Params url.Values
	// N is the number of calls of Op seen so far, this one included.
	N int
	// Status is the emulator's HTTP status, set for the observer.
	Status int
}

// Proxy forwards to moto_server, counting calls by operation and
// applying a fault rule.
type Proxy struct {
	URL string

	mu       sync.Mutex
	calls    map[string]int
	faults   map[string]int
	rule     func(Request) Fault
	latency  time.Duration
	observer func(Request)
	srv      *httptest.Server
}

// NewProxy starts a proxy in front of s, closed when the test ends.
func NewProxy(t testing.TB, s *Server) *Proxy {
	t.Helper()
	p, err := StartProxy(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// Close stops the proxy.
func (p *Proxy) Close() { p.srv.Close() }

// StartProxy starts a proxy in front of the emulator at targetURL; the
// caller closes it.
func StartProxy(targetURL string) (*Proxy, error) {
	target, err := url.Parse(targetURL)
	if err != nil {
		return nil, err
	}
	p := &Proxy{calls: map[string]int{}, faults: map[string]int{}}
	rp := httputil.NewSingleHostReverseProxy(target)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		req := describe(r, body)
		p.mu.Lock()
		p.calls[req.Op]++
		req.N = p.calls[req.Op]
		rule, latency, observer := p.rule, p.latency, p.observer
		p.mu.Unlock()
		if latency > 0 {
			time.Sleep(latency)
		}
		fault := None
		if rule != nil {
			fault = rule(req)
		}
		if fault != None {
			p.mu.Lock()
			p.faults[req.Op]++
			p.mu.Unlock()
		}
		json := strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-amz-json")
		switch fault {
		case Throttle:
			writeError(w, json, http.StatusBadRequest, "Throttling", "Rate exceeded")
		case ServerError:
			writeError(w, json, http.StatusInternalServerError, "ServiceFailure", "injected failure")
		case Deny:
			code := "AccessDenied"
			if json {
				code = "AccessDeniedException"
			}
			writeError(w, json, http.StatusForbidden, code, "User is not authorized to perform: "+req.Op+" (injected)")
		case Expired:
			writeError(w, json, http.StatusForbidden, "ExpiredToken", "The security token included in the request is expired")
		case Invalid:
			writeError(w, json, http.StatusBadRequest, "InvalidInput", "injected invalid input")
		case NotFound:
			writeError(w, json, http.StatusNotFound, "NoSuchEntity", "The entity cannot be found (injected)")
		case Reset:
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					return
				}
			}
			writeError(w, json, http.StatusBadGateway, "ServiceFailure", "reset")
		case Drop:
			// Forward with a context of its own, so that the caller
			// going away cannot cancel the call half-way.
			rec := &statusRecorder{ResponseWriter: discard{}, status: http.StatusOK}
			rp.ServeHTTP(rec, r.Clone(context.WithoutCancel(r.Context())))
			req.Status = rec.status
			if observer != nil {
				observer(req)
			}
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					return
				}
			}
			writeError(w, json, http.StatusBadGateway, "ServiceFailure", "dropped")
		default:
			rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
			rp.ServeHTTP(rec, r)
			req.Status = rec.status
			if observer != nil {
				observer(req)
			}
		}
	}))
	p.URL = p.srv.URL
	return p, nil
}

// statusRecorder remembers the status of a response it passes on.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// discard is a ResponseWriter that keeps nothing.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

// describe names the operation of a request.
func describe(r *http.Request, body []byte) Request {
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		return Request{Op: target[strings.LastIndexByte(target, '.')+1:]}
	}
	params, _ := url.ParseQuery(string(body))
	for k, v := range r.URL.Query() {
		params[k] = v
	}
	return Request{Op: params.Get("Action"), Params: params}
}

func writeError(w http.ResponseWriter, json bool, status int, code, msg string) {
	if json {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-Errortype", code)
		w.WriteHeader(status)
		io.WriteString(w, `{"__type":"`+code+`","message":"`+msg+`"}`)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	io.WriteString(w, `<ErrorResponse><Error><Type>Sender</Type><Code>`+code+`</Code><Message>`+msg+
		`</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>`)
}

// SetRule sets the fault rule (nil: forward everything).
func (p *Proxy) SetRule(rule func(Request) Fault) {
	p.mu.Lock()
	p.rule = rule
	p.mu.Unlock()
}

// SetLatency delays every call by d.
func (p *Proxy) SetLatency(d time.Duration) {
	p.mu.Lock()
	p.latency = d
	p.mu.Unlock()
}

// SetObserver is called after every forwarded call.
func (p *Proxy) SetObserver(f func(Request)) {
	p.mu.Lock()
	p.observer = f
	p.mu.Unlock()
}

// Calls returns the calls seen by operation (faulted ones included).
func (p *Proxy) Calls() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.calls)
}

// Faults returns the faults injected by operation.
func (p *Proxy) Faults() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.faults)
}

// ResetCounts forgets the calls and faults seen so far.
func (p *Proxy) ResetCounts() {
	p.mu.Lock()
	p.calls = map[string]int{}
	p.faults = map[string]int{}
	p.mu.Unlock()
}
