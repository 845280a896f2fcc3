package web

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

const testToken = "s3cr3t-Token-value-0123456789"

func TestAuthBearer(t *testing.T) {
	e := newEnv(t, testToken)
	for _, path := range []string{"/api/v1/summary", "/api/v1/findings", "/api/v1/runs", "/api/v1/nothing", "/metrics"} {
		res, body := e.get(path)
		if res.StatusCode != 401 || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s without a token: %d, WWW-Authenticate %q", path, res.StatusCode, res.Header.Get("WWW-Authenticate"))
		}
		if !strings.Contains(body, `"error"`) {
			t.Errorf("%s without a token: body %s", path, body)
		}
		for _, wrong := range []string{"Bearer wrong", "Bearer " + testToken + "x", "Basic " + testToken, "Bearer", testToken} {
			if res, _ := e.get(path, "Authorization", wrong); res.StatusCode != 401 {
				t.Errorf("%s with %q: %d, want 401", path, wrong, res.StatusCode)
			}
		}
		want := 200
		if path == "/api/v1/nothing" {
			want = 404
		}
		if res, body := e.get(path, "Authorization", "Bearer "+testToken); res.StatusCode != want {
			t.Errorf("%s with the token: %d, want %d (%s)", path, res.StatusCode, want, body)
		}
		if res, _ := e.get(path, "Authorization", "bearer "+testToken); res.StatusCode != want {
			t.Errorf("%s with a lower-case scheme: %d, want %d", path, res.StatusCode, want)
		}
	}
	// POST scans needs the token too, and nothing is triggered without it.
	if res, _ := e.do("POST", "/api/v1/scans?target=prod", nil); res.StatusCode != 401 || len(e.sched.triggered) != 0 {
		t.Errorf("POST scans without a token: %d, triggered %v", res.StatusCode, e.sched.triggered)
	}
	if res, _ := e.do("POST", "/api/v1/scans?target=prod", nil, "Authorization", "Bearer "+testToken); res.StatusCode != 202 {
		t.Errorf("POST scans with the token: %d", res.StatusCode)
	}
	// A dashboard cookie is no API credential (a cross-site form could send it).
	value, _ := e.srv.newSession()
	if res, _ := e.get("/api/v1/summary", "Cookie", sessionCookie+"="+value); res.StatusCode != 401 {
		t.Errorf("API with a session cookie only: %d, want 401", res.StatusCode)
	}
	// Health stays open.
	if res, _ := e.get("/healthz"); res.StatusCode != 200 {
		t.Errorf("healthz with a token configured: %d", res.StatusCode)
	}
}

func TestAuthLoginFlow(t *testing.T) {
	e := newEnv(t, testToken)
	var bodies []string
	keep := func(res *http.Response, body string) (*http.Response, string) {
		bodies = append(bodies, body)
		return res, body
	}

	res, _ := keep(e.get("/findings?state=all"))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login?next="+url.QueryEscape("/findings?state=all") {
		t.Fatalf("dashboard without a session: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, body := keep(e.get("/login?next=%2Ffindings"))
	if res.StatusCode != 200 || !strings.Contains(body, `type="password"`) || !strings.Contains(body, `<label for="token">`) {
		t.Fatalf("login form: %d %s", res.StatusCode, body)
	}

	post := func(form url.Values, header ...string) (*http.Response, string) {
		h := append([]string{"Content-Type", "application/x-www-form-urlencoded"}, header...)
		return keep(e.do("POST", "/login", strings.NewReader(form.Encode()), h...))
	}
	res, body = post(url.Values{"token": {"not-it"}, "next": {"/findings"}}, "Origin", "http://example.com")
	if res.StatusCode != 401 || !strings.Contains(body, "not the one") || len(res.Cookies()) != 0 {
		t.Errorf("wrong token: %d, cookies %v", res.StatusCode, res.Cookies())
	}
	// Cross-site form posts are refused whatever they carry.
	res, _ = post(url.Values{"token": {testToken}}, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if res.StatusCode != 403 || len(res.Cookies()) != 0 {
		t.Errorf("cross-site login: %d, cookies %v", res.StatusCode, res.Cookies())
	}
	res, _ = post(url.Values{"token": {testToken}}, "Origin", "https://evil.example")
	if res.StatusCode != 403 {
		t.Errorf("login from another origin: %d, want 403", res.StatusCode)
	}

	res, _ = post(url.Values{"token": {testToken}, "next": {"/findings"}}, "Origin", "http://example.com", "Sec-Fetch-Site", "same-origin")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/findings" {
		t.Fatalf("right token: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	cookies := res.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies %v", cookies)
	}
	c := cookies[0]
	if c.Name != sessionCookie || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure || c.Path != "/" {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, not Secure over plain HTTP", c)
	}
	if strings.Contains(c.Value, testToken) || strings.Contains(c.Value, sessionValue(testToken)) {
		t.Errorf("cookie value %q carries the token or the signing key", c.Value)
	}

	for _, page := range []string{"/", "/findings", "/runs", "/exemptions", "/users/" + acctProd + "/alice"} {
		res, body := keep(e.get(page, "Cookie", c.Name+"="+c.Value))
		if res.StatusCode != 200 {
			t.Errorf("%s with the session: %d", page, res.StatusCode)
		}
		if !strings.Contains(body, "Sign out") {
			t.Errorf("%s: no sign-out button", page)
		}
	}
	// A forged or tampered cookie is not a session.
	for _, forged := range []string{"1", c.Value + "0", "99999999999." + strings.Repeat("0", 64), sessionValue(testToken)} {
		if res, _ := e.get("/", "Cookie", sessionCookie+"="+forged); res.StatusCode != http.StatusSeeOther {
			t.Errorf("forged cookie %q: %d", forged, res.StatusCode)
		}
	}
	// Sessions expire.
	e.srv.now = func() time.Time { return testNow.Add(sessionLifetime + time.Minute) }
	if res, _ := e.get("/", "Cookie", c.Name+"="+c.Value); res.StatusCode != http.StatusSeeOther {
		t.Errorf("expired session: %d", res.StatusCode)
	}
	e.srv.now = func() time.Time { return testNow }

	// Sign out clears the cookie.
	res, _ = keep(e.do("POST", "/logout", nil, "Cookie", c.Name+"="+c.Value, "Sec-Fetch-Site", "same-origin"))
	if res.StatusCode != http.StatusSeeOther || len(res.Cookies()) != 1 || res.Cookies()[0].MaxAge >= 0 {
		t.Errorf("logout: %d, cookies %v", res.StatusCode, res.Cookies())
	}

	// The same token on a new server signs the same sessions; another
	// token does not accept them.
	other, err := New(Options{Store: e.store, Token: "another-token", Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(c)
	other.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Errorf("session of another token: %d", rec.Code)
	}

	for i, b := range bodies {
		if strings.Contains(b, testToken) {
			t.Errorf("response %d contains the token", i)
		}
	}
}

func TestAuthSecureCookieOverTLS(t *testing.T) {
	e := newEnv(t, testToken)
	req := httptest.NewRequest("POST", "https://dash.example/login", strings.NewReader("token="+url.QueryEscape(testToken)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.TLS = &tls.ConnectionState{}
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	cs := rec.Result().Cookies()
	if rec.Code != http.StatusSeeOther || len(cs) != 1 || !cs[0].Secure {
		t.Errorf("login over TLS: %d, cookies %+v; want a Secure cookie", rec.Code, cs)
	}
}

func TestLoginRedirectStaysLocal(t *testing.T) {
	for next, want := range map[string]string{
		"/findings?state=all":   "/findings?state=all",
		"//evil.example/x":      "/",
		"https://evil.example/": "/",
		"/\\evil.example":       "/",
		"findings":              "/",
		"":                      "/",
	} {
		if got := localPath(next); got != want {
			t.Errorf("localPath(%q) = %q, want %q", next, got, want)
		}
	}
}

func TestNoTokenNoAuth(t *testing.T) {
	e := newEnv(t, "")
	for _, path := range []string{"/", "/findings", "/api/v1/summary", "/metrics"} {
		if res, _ := e.get(path); res.StatusCode != 200 {
			t.Errorf("%s without a token configured: %d", path, res.StatusCode)
		}
	}
	if res, _ := e.get("/login"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("login without a token configured: %d, want a redirect", res.StatusCode)
	}
}

func TestCheckListen(t *testing.T) {
	for _, tc := range []struct {
		addr, token string
		ok          bool
	}{
		{"127.0.0.1:8080", "", true},
		{"127.0.0.2:8080", "", true},
		{"[::1]:8080", "", true},
		{"localhost:8080", "", true},
		{"LOCALHOST:9000", "", true},
		{"0.0.0.0:8080", "", false},
		{":8080", "", false},
		{"[::]:8080", "", false},
		{"192.168.1.20:8080", "", false},
		{"10.0.0.5:443", "", false},
		{"dash.example.com:8080", "", false},
		{"0.0.0.0:8080", "tok", true},
		{":8080", "tok", true},
		{"192.168.1.20:8080", "tok", true},
		{"127.0.0.1", "", false}, // no port
	} {
		err := CheckListen(tc.addr, tc.token)
		if (err == nil) != tc.ok {
			t.Errorf("CheckListen(%q, %q) = %v, want ok=%v", tc.addr, tc.token, err, tc.ok)
		}
		if err != nil && tc.token == "" && strings.Contains(tc.addr, ":") && tc.addr != "127.0.0.1" {
			if msg := err.Error(); !strings.Contains(msg, "IAMGROUPS_TOKEN") || !strings.Contains(msg, "127.0.0.1") {
				t.Errorf("CheckListen(%q): message %q should say to set the token or listen on 127.0.0.1", tc.addr, msg)
			}
		}
	}
}

func TestHTTPServerTimeouts(t *testing.T) {
	srv := HTTPServer(DefaultListen, http.NotFoundHandler(), nil)
	if srv.ReadHeaderTimeout == 0 || srv.ReadTimeout == 0 || srv.WriteTimeout == 0 || srv.IdleTimeout == 0 {
		t.Errorf("timeouts not all set: %+v", srv)
	}
}
