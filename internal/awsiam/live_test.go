package awsiam

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/mototest"
)

func TestMain(m *testing.M) { os.Exit(mototest.Main(m)) }

// session returns a session that reaches moto through p.
func session(t *testing.T, p *mototest.Proxy) *Session {
	t.Helper()
	s, err := NewSession(context.Background(), Options{EndpointURL: p.URL})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// summary is what an audit sees of a user, in a comparable form.
func summary(a *model.Account) map[string]string {
	m := map[string]string{}
	for _, u := range a.Users {
		var b strings.Builder
		fmt.Fprintf(&b, "arn=%s groups=%v boundary=%s err=%q", u.ARN, u.Groups, u.PermissionsBoundary, u.Error)
		for _, p := range u.AttachedPolicies {
			fmt.Fprintf(&b, " managed=%s", p.ARN)
		}
		for _, p := range u.InlinePolicies {
			fmt.Fprintf(&b, " inline=%s:%s", p.Name, p.Digest)
		}
		for _, tg := range u.Tags {
			fmt.Fprintf(&b, " tag=%s=%s", tg.Key, tg.Value)
		}
		m[u.Name] = b.String()
	}
	return m
}

func failing(a *model.Account) []string {
	var out []string
	for _, u := range a.Users {
		if u.DirectPolicyCount() > 0 {
			out = append(out, u.Name)
		}
	}
	slices.Sort(out)
	return out
}

func diff(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d users, want %d", what, len(got), len(want))
	}
	n := 0
	for k, v := range want {
		if got[k] != v && n < 5 {
			t.Errorf("%s: user %s\n got %s\nwant %s", what, k, got[k], v)
			n++
		}
	}
}

func TestGAADAndListAgree(t *testing.T) {
	srv := mototest.Require(t)
	p := mototest.NewProxy(t, srv)
	ctx := context.Background()
	s := session(t, p)
	seeded := mototest.Seed(t, ctx, s.Config, 210)

	p.ResetCounts()
	gs := session(t, p)
	viaGAAD, err := Collect(ctx, gs, CollectOptions{Method: MethodGAAD})
	if err != nil {
		t.Fatal(err)
	}
	if viaGAAD.Source.Method != "gaad" || viaGAAD.ID != "123456789012" || viaGAAD.Partition != "aws" {
		t.Errorf("source %+v account %s partition %s", viaGAAD.Source, viaGAAD.ID, viaGAAD.Partition)
	}
	gaadCalls := gs.Calls.Counts()
	ls := session(t, p)
	viaList, err := Collect(ctx, ls, CollectOptions{Method: MethodList, Concurrency: 6})
	if err != nil {
		t.Fatal(err)
	}
	if viaList.Source.Method != "list" {
		t.Errorf("list source %+v", viaList.Source)
	}
	diff(t, "list against gaad", summary(viaList), summary(viaGAAD))
	if got := failing(viaGAAD); !slices.Equal(got, seeded.Failing) {
		t.Errorf("failing users via GAAD: %d, seeded %d", len(got), len(seeded.Failing))
	}
	// One GAAD page for 210 users, plus the identity call.
	if gaadCalls["GetAccountAuthorizationDetails"] != 1 || gaadCalls["GetCallerIdentity"] != 1 || len(gaadCalls) != 2 {
		t.Errorf("gaad calls = %v", gaadCalls)
	}
	listCalls := ls.Calls.Counts()
	if listCalls["ListAttachedUserPolicies"] != 210 || listCalls["GetUser"] != 210 || listCalls["ListGroupsForUser"] != 210 {
		t.Errorf("list calls = %v", listCalls)
	}
	t.Logf("gaad: %d calls %v; list: %d calls %v", gs.Calls.Total(), gaadCalls, ls.Calls.Total(), listCalls)
}

func TestThrottledCollectionCompletes(t *testing.T) {
	srv := mototest.Require(t)
	p := mototest.NewProxy(t, srv)
	ctx := context.Background()
	// Adaptive retry slows the client to a crawl under this much
	// throttling, as it should against IAM: a small account keeps the test
	// short while every call kind still meets faults.
	mototest.Seed(t, ctx, session(t, p).Config, 15)
	want, err := Collect(ctx, session(t, p), CollectOptions{Method: MethodGAAD})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(1, 2))
	p.SetRule(func(mototest.Request) mototest.Fault {
		mu.Lock()
		defer mu.Unlock()
		if rng.Float64() < 0.3 {
			return []mototest.Fault{mototest.Throttle, mototest.Throttle, mototest.ServerError, mototest.Reset}[rng.IntN(4)]
		}
		return mototest.None
	})
	for _, m := range []Method{MethodGAAD, MethodList} {
		s, err := NewSession(ctx, Options{EndpointURL: p.URL, MaxBackoff: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		got, err := Collect(ctx, s, CollectOptions{Method: m})
		if err != nil {
			t.Fatalf("%s under 30%% faults: %v", m, err)
		}
		diff(t, string(m)+" under faults", summary(got), summary(want))
	}
	if f := p.Faults(); len(f) == 0 {
		t.Error("no fault was injected")
	}
}

func TestUserThatCannotBeListedIsError(t *testing.T) {
	srv := mototest.Require(t)
	p := mototest.NewProxy(t, srv)
	ctx := context.Background()
	mototest.Seed(t, ctx, session(t, p).Config, 12)
	p.SetRule(func(r mototest.Request) mototest.Fault {
		if r.Op == "ListUserPolicies" && r.Params.Get("UserName") == "user-0004" {
			return mototest.ServerError // every attempt: it never recovers
		}
		return mototest.None
	})
	s, err := NewSession(ctx, Options{EndpointURL: p.URL, MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	a, err := Collect(ctx, s, CollectOptions{Method: MethodList})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range a.Users {
		switch {
		case u.Name == "user-0004" && (u.Error == "" || !strings.Contains(u.Error, "ListUserPolicies")):
			t.Errorf("user-0004: error %q, want the failed ListUserPolicies", u.Error)
		case u.Name != "user-0004" && u.Error != "":
			t.Errorf("%s: unexpected error %q", u.Name, u.Error)
		}
	}
	if len(a.Users) != 12 {
		t.Errorf("%d users, want 12 (the failing one kept as ERROR)", len(a.Users))
	}
}

func TestGAADDeniedFallsBackToList(t *testing.T) {
	srv := mototest.Require(t)
	p := mototest.NewProxy(t, srv)
	ctx := context.Background()
	seeded := mototest.Seed(t, ctx, session(t, p).Config, 20)
	p.SetRule(func(r mototest.Request) mototest.Fault {
		if r.Op == "GetAccountAuthorizationDetails" {
			return mototest.Deny
		}
		return mototest.None
	})
	a, err := Collect(ctx, session(t, p), CollectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Source.Method != "list" || len(a.Warnings) != 1 || !strings.Contains(a.Warnings[0], "GetAccountAuthorizationDetails was denied") {
		t.Errorf("method %s, warnings %q: want the list method and a warning", a.Source.Method, a.Warnings)
	}
	if got := failing(a); !slices.Equal(got, seeded.Failing) {
		t.Errorf("failing = %v, want %v", got, seeded.Failing)
	}
	if _, err := Collect(ctx, session(t, p), CollectOptions{Method: MethodGAAD}); err == nil || !IsAccessDenied(err) {
		t.Errorf("--method gaad when denied: err = %v, want access denied", err)
	}
}

func TestBadConnectionSettings(t *testing.T) {
	srv := mototest.Require(t)
	p := mototest.NewProxy(t, srv)
	ctx := context.Background()
	var ce *ConfigError

	_, err := NewSession(ctx, Options{Profile: "no-such-profile"})
	if !errors.As(err, &ce) || ce.Flag != "--profile" {
		t.Errorf("unknown profile: %v", err)
	}
	_, err = NewSession(ctx, Options{RoleARN: "arn:aws:iam::12345:user/x"})
	if !errors.As(err, &ce) || ce.Flag != "--role-arn" {
		t.Errorf("bad role ARN: %v", err)
	}
	_, err = NewSession(ctx, Options{EndpointURL: "localhost:5000"})
	if !errors.As(err, &ce) || ce.Flag != "--endpoint-url" {
		t.Errorf("bad endpoint: %v", err)
	}
	s, err := NewSession(ctx, Options{EndpointURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Collect(ctx, s, CollectOptions{})
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "cannot reach the AWS endpoint") {
		t.Errorf("unreachable endpoint: %v", err)
	}
	if n := s.Calls.Attempts()["GetCallerIdentity"]; n != 1 {
		t.Errorf("a refused connection was tried %d times, want 1", n)
	}
	p.SetRule(func(mototest.Request) mototest.Fault { return mototest.Expired })
	_, err = Collect(ctx, session(t, p), CollectOptions{})
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired credentials: %v", err)
	}
}

func TestListMethodEntitiesDeletedMeanwhile(t *testing.T) {
	srv := mototest.Require(t)
	p := mototest.NewProxy(t, srv)
	ctx := context.Background()
	mototest.Seed(t, ctx, session(t, p).Config, 12)
	// user-0003 has a customer managed policy and an inline one (see
	// Seed); its inline policy vanishes between ListUserPolicies and
	// GetUserPolicy. user-0007 vanishes between ListUsers and the rest.
	p.SetRule(func(r mototest.Request) mototest.Fault {
		switch {
		case r.Op == "GetUserPolicy" && r.Params.Get("UserName") == "user-0003":
			return mototest.NotFound
		case r.Op != "ListUsers" && r.Params.Get("UserName") == "user-0007":
			return mototest.NotFound
		}
		return mototest.None
	})
	a, err := Collect(ctx, session(t, p), CollectOptions{Method: MethodList})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*model.User{}
	for _, u := range a.Users {
		byName[u.Name] = u
	}
	if u := byName["user-0003"]; u == nil || len(u.AttachedPolicies) != 1 || len(u.InlinePolicies) != 0 || u.Error != "" {
		t.Errorf("user-0003 = %+v: want it kept, with its managed policy and without the deleted inline one", u)
	}
	if byName["user-0007"] != nil || len(a.Users) != 11 {
		t.Errorf("%d users; the deleted user-0007 must be dropped", len(a.Users))
	}
}
