package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// sessionCookie is the dashboard's cookie. Its value is
// "EXPIRY.MAC": the Unix time it stops being valid and an HMAC-SHA256 of
// that time keyed with the token, so it proves the browser knew the token
// without carrying it, and a new token invalidates every session.
const sessionCookie = "iamgroups_session"

// sessionLifetime is how long a dashboard sign-in lasts.
const sessionLifetime = 7 * 24 * time.Hour

// sessionLabel separates this MAC from any other use of the token as a key.
const sessionLabel = "iamgroups dashboard session v1|"

// sessionValue derives the key that signs sessions from the token: an HMAC
// of a fixed label keyed with the token, so the token itself is used for
// nothing else than this derivation and the bearer comparison.
func sessionValue(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte(sessionLabel))
	return hex.EncodeToString(m.Sum(nil))
}

// sessionMAC signs an expiry time.
func (s *Server) sessionMAC(expiry int64) string {
	m := hmac.New(sha256.New, []byte(s.session))
	m.Write([]byte(strconv.FormatInt(expiry, 10)))
	return hex.EncodeToString(m.Sum(nil))
}

// newSession returns a cookie value valid until now+sessionLifetime.
func (s *Server) newSession() (value string, expires time.Time) {
	expires = s.now().Add(sessionLifetime).Truncate(time.Second)
	exp := expires.Unix()
	return strconv.FormatInt(exp, 10) + "." + s.sessionMAC(exp), expires
}

// validSession checks a cookie value's MAC and expiry.
func (s *Server) validSession(value string) bool {
	expStr, mac, ok := strings.Cut(value, ".")
	if !ok {
		return false
	}
	exp, err := strconv.ParseInt(expStr, 10, 64)
	if err != nil {
		return false
	}
	if !hmac.Equal([]byte(mac), []byte(s.sessionMAC(exp))) {
		return false
	}
	return s.now().Unix() < exp
}

// tokenMatches compares a presented token with the configured one in
// constant time (digests first, so the length does not leak either).
func (s *Server) tokenMatches(presented string) bool {
	a := sha256.Sum256([]byte(presented))
	b := sha256.Sum256([]byte(s.token))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// requireBearer lets a request through when no token is configured or when
// it carries "Authorization: Bearer TOKEN"; otherwise it answers 401.
func (s *Server) requireBearer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.token == "" {
			next.ServeHTTP(w, r)
			return
		}
		auth := r.Header.Get("Authorization")
		scheme, presented, _ := strings.Cut(auth, " ")
		if auth == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="iamgroups"`)
			writeError(w, http.StatusUnauthorized, "authentication required: send the token as \"Authorization: Bearer TOKEN\"")
			return
		}
		if !strings.EqualFold(scheme, "Bearer") || !s.tokenMatches(strings.TrimSpace(presented)) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="iamgroups", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "invalid token")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requireSession lets a dashboard request through when no token is
// configured or when it carries a valid session cookie; otherwise it
// redirects to the login form, which comes back to the page afterwards.
func (s *Server) requireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.token == "" {
			next.ServeHTTP(w, r)
			return
		}
		if c, err := r.Cookie(sessionCookie); err == nil && s.validSession(c.Value) {
			next.ServeHTTP(w, r)
			return
		}
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	})
}

// csrf refuses cross-origin form posts: browsers say where a request comes
// from (Sec-Fetch-Site, Origin), and the cookie is SameSite=Strict as well.
var csrf = http.NewCrossOriginProtection()

// localPath returns next when it is a path on this server, else "/", so
// the login form cannot be used to redirect elsewhere.
func localPath(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return next
}

type loginView struct {
	pageBase
	Next  string
	Error string
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"))
	if s.token == "" {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "login", &loginView{pageBase: s.base(r, "Sign in", ""), Next: next})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if err := csrf.Check(r); err != nil {
		s.renderError(w, r, http.StatusForbidden, "This sign-in came from another site and was refused.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "The sign-in form could not be read.")
		return
	}
	next := localPath(r.PostForm.Get("next"))
	if s.token == "" {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	if !s.tokenMatches(r.PostForm.Get("token")) {
		s.log.Warn("dashboard sign-in refused: wrong token", "remote", r.RemoteAddr)
		s.render(w, r, http.StatusUnauthorized, "login", &loginView{
			pageBase: s.base(r, "Sign in", ""), Next: next,
			Error: "That token is not the one this server was started with.",
		})
		return
	}
	value, expires := s.newSession()
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    value,
		Path:     "/",
		Expires:  expires,
		MaxAge:   int(sessionLifetime / time.Second),
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if err := csrf.Check(r); err != nil {
		s.renderError(w, r, http.StatusForbidden, "This sign-out came from another site and was refused.")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
