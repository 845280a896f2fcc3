package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/iamgroups/iamgroups/internal/exempt"
	"github.com/iamgroups/iamgroups/internal/store"
)

// DefaultListen is the address serve listens on unless told otherwise:
// loopback only.
const DefaultListen = "127.0.0.1:8080"

// TokenEnv is the environment variable serve reads the token from by
// default (the config's auth_token_env can name another one).
const TokenEnv = "IAMGROUPS_TOKEN"

// Options configure a Server. Store is required; everything else is
// optional.
type Options struct {
	// Store is the history the server reads.
	Store store.Store
	// Scheduler lists targets and starts scans; nil means no scheduler (the
	// pages show history only and POST /api/v1/scans answers 503).
	Scheduler Scheduler
	// Exemptions are the configured exemptions, shown on /exemptions.
	Exemptions *exempt.Config
	// Token, when not empty, is required by the API and /metrics (bearer)
	// and by the dashboard (login form). It is never rendered or logged.
	Token string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives one line per request and the server's errors; nil
	// discards them.
	Logger *slog.Logger
	// Version is shown in the page footer and /healthz ("" leaves it out).
	Version string
}

// Server serves the API, metrics, health endpoint and dashboard. It is an
// http.Handler; use HTTPServer for an http.Server with sane timeouts.
type Server struct {
	store      store.Store
	sched      Scheduler
	exemptions *exempt.Config
	token      string
	session    string // the dashboard cookie's value, derived from token
	now        func() time.Time
	log        *slog.Logger
	version    string
	pages      map[string]*template.Template
	mux        *http.ServeMux
	handler    http.Handler
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// New builds a Server from opts.
func New(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("new web server: no store")
	}
	s := &Server{
		store:      opts.Store,
		sched:      opts.Scheduler,
		exemptions: opts.Exemptions,
		token:      opts.Token,
		now:        opts.Now,
		log:        opts.Logger,
		version:    opts.Version,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.token != "" {
		s.session = sessionValue(s.token)
	}
	pages, err := parsePages()
	if err != nil {
		return nil, fmt.Errorf("new web server: %w", err)
	}
	s.pages = pages

	reg := prometheus.NewRegistry()
	if err := reg.Register(newCollector(s)); err != nil {
		return nil, fmt.Errorf("new web server: register metrics: %w", err)
	}
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      slogPromLogger{s.log},
		ErrorHandling: promhttp.ContinueOnError,
	})

	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("new web server: %w", err)
	}

	mux := http.NewServeMux()
	s.mux = mux
	// API: methods are checked by s.api so that a wrong method gets a JSON
	// 405, like every other API error.
	s.api("/api/v1/summary", http.MethodGet, s.apiSummary)
	s.api("/api/v1/findings", http.MethodGet, s.apiFindings)
	s.api("/api/v1/runs", http.MethodGet, s.apiRuns)
	s.api("/api/v1/runs/{id}", http.MethodGet, s.apiRun)
	s.api("/api/v1/users", http.MethodGet, s.apiUserByARN)
	s.api("/api/v1/users/{account}/{name}", http.MethodGet, s.apiUser)
	s.api("/api/v1/scans", http.MethodPost, s.apiScan)
	mux.Handle("/api/", s.requireBearer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API endpoint: "+r.URL.Path)
	})))

	mux.Handle("GET /metrics", s.requireBearer(metrics))
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))

	mux.HandleFunc("GET /login", s.loginForm)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)

	s.page("GET /{$}", s.overviewPage)
	s.page("GET /findings", s.findingsPage)
	s.page("GET /runs", s.runsPage)
	s.page("GET /runs/{id}", s.runPage)
	s.page("GET /users/{account}/{name}", s.userPage)
	s.page("GET /exemptions", s.exemptionsPage)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			// The dashboard's only forms are the sign-in and sign-out ones.
			w.Header().Set("Allow", "GET, HEAD")
			s.renderError(w, r, http.StatusMethodNotAllowed, "Pages answer GET only.")
			return
		}
		s.renderError(w, r, http.StatusNotFound, "There is no page at "+r.URL.Path+".")
	})

	s.handler = s.logRequests(securityHeaders(mux))
	return s, nil
}

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// api registers an API handler for one method (GET also answers HEAD),
// behind the bearer check.
func (s *Server) api(pattern, method string, h http.HandlerFunc) {
	s.mux.Handle(pattern, s.requireBearer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method && (method != http.MethodGet || r.Method != http.MethodHead) {
			allow := method
			if method == http.MethodGet {
				allow = "GET, HEAD"
			}
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s (use %s)", r.Method, r.URL.Path, method))
			return
		}
		h(w, r)
	})))
}

// page registers a dashboard page behind the login check.
func (s *Server) page(pattern string, h http.HandlerFunc) {
	s.mux.Handle(pattern, s.requireSession(h))
}

// HTTPServer returns an http.Server for h on addr with timeouts that keep
// slow or idle clients from holding connections forever.
func HTTPServer(addr string, h http.Handler, logger *slog.Logger) *http.Server {
	srv := &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	if logger != nil {
		srv.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	}
	return srv
}

// CheckListen refuses to serve without a token on an address other hosts
// can reach. addr is host:port; an empty host (":8080") listens on every
// interface and so needs a token too. "localhost" counts as loopback.
func CheckListen(addr, token string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("check listen address %q: %w (want host:port, such as %s)", addr, err, DefaultListen)
	}
	if token != "" || isLoopback(host) {
		return nil
	}
	shown := host
	if shown == "" {
		shown = "every interface"
	}
	return fmt.Errorf("check listen address %q: refusing to listen on %s without an auth token: set the token in the environment variable named by auth_token_env (%s by default), or listen on 127.0.0.1", addr, shown, TokenEnv)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	return ip != nil && ip.IsLoopback()
}

// securityHeaders sets the headers every response carries. The policy
// allows the dashboard's own stylesheet and images drawn inline (SVG), and
// nothing from elsewhere; forms post only to this server.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// statusWriter remembers the status code for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs method, path (never the query string, which may carry
// user names an operator did not mean to log, nor any header), status and
// duration.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "http request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", sw.status),
			slog.Duration("duration", time.Since(start)))
	})
}

// slogPromLogger passes promhttp's errors to the server's logger.
type slogPromLogger struct{ log *slog.Logger }

func (l slogPromLogger) Println(v ...any) {
	l.log.Warn("metrics", slog.String("error", fmt.Sprint(v...)))
}

// ctxTimeout bounds a store query made for one request.
func ctxTimeout(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), 30*time.Second)
}
