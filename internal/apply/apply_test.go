package apply_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamgroups/iamgroups/internal/apply"
	"github.com/iamgroups/iamgroups/internal/awsiam"
	"github.com/iamgroups/iamgroups/internal/demo"
	"github.com/iamgroups/iamgroups/internal/exempt"
	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/mototest"
	"github.com/iamgroups/iamgroups/internal/rule"
)

// TestApplyAndRollbackDemo applies the demo plan: every planned user
// passes, holds exactly the permission sources it held, every former
// inline document is a managed policy with the same canonical content, and
// the writes are the plan's actions exactly. Rollback then restores the
// account exactly.
func TestApplyAndRollbackDemo(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	e.proxy.ResetCounts()
	r := e.runner(4)
	rep, err := r.Apply(ctx, e.plan, e.data)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.mutatingCalls(), planCalls(e.plan); !maps.Equal(got, want) {
		t.Errorf("writes %v, the plan's actions %v", got, want)
	}
	if n := e.proxy.Calls()["GetAccountAuthorizationDetails"]; n != 3 {
		t.Errorf("%d reads, want 3 (stale check, two verifications)", n)
	}
	after := e.read(t)
	e.shadow.check(t, after)

	results := rule.IAM071.Check(after)
	cfg, _ := exempt.Parse(demo.Exemptions, "demo")
	cfg.Apply([]*model.Account{after}, results, demoTime)
	status := map[string]rule.Status{}
	for _, res := range results {
		status[res.UserName] = res.Status
	}
	for _, u := range e.plan.Users {
		if st := status[u.Name]; st != rule.Pass && (st != rule.Exempt || len(u.Keep) == 0) {
			t.Errorf("%s is %s after apply", u.Name, st)
		}
	}
	for _, pol := range e.plan.Policies {
		found := false
		for _, m := range after.Policies {
			found = found || (m.ARN == pol.ARN && m.Digest == pol.Digest)
		}
		if !found {
			t.Errorf("policy %s is not in the account with digest %s", pol.ARN, pol.Digest)
		}
	}
	// The backup holds the hand-typed document byte for byte.
	backup, err := os.ReadFile(filepath.Join(rep.Dir, "backup.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(backup), `"Statement\": [ { \"Resource\": \"*\"`) {
		t.Errorf("the backup does not hold the inline document verbatim:\n%s", backup)
	}
	entries, err := apply.ReadEntries(rep.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if last := entries[len(entries)-1]; last.Event != "complete" {
		t.Errorf("the journal ends with %+v", last)
	}

	seen := map[string]bool{}
	for op := range e.proxy.Calls() {
		seen[op] = true
	}
	e.proxy.ResetCounts()
	if _, err := e.runner(4).Rollback(ctx, rep.Dir); err != nil {
		t.Fatal(err)
	}
	restored := e.read(t)
	e.shadow.check(t, restored)
	// The README's policy for apply is exactly what apply and rollback
	// called (the role assumption is the tests' way into the account).
	for op := range e.proxy.Calls() {
		seen[op] = true
	}
	var called []string
	for op := range seen {
		switch op {
		case "AssumeRole":
		case "GetCallerIdentity":
			called = append(called, "sts:"+op)
		default:
			called = append(called, "iam:"+op)
		}
	}
	slices.Sort(called)
	if want := readmeActions(t, "<!-- apply-policy -->"); !slices.Equal(called, want) {
		t.Errorf("apply and rollback called %v; the README's policy allows %v", called, want)
	}
	if d := diff(view(e.before), view(restored)); d != "" {
		t.Errorf("rollback did not restore the account:\n%s", d)
	}
}

// TestFaultAtEveryCall stops apply at each of its writes in turn — a
// persistent 5xx, then a crash after the call took effect but before its
// answer arrived — and checks that resume reaches the state of an
// uninterrupted apply and that rollback restores the original exactly,
// while no planned user ever holds more or less than before.
func TestFaultAtEveryCall(t *testing.T) {
	if testing.Short() {
		t.Skip("long: one apply, resume and rollback per write of the demo plan")
	}
	srv := mototest.Require(t)
	// The two faults run side by side, each in an account of its own.
	for kind, account := range map[string]string{"5xx": "111122223333", "crash": "444455556666"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			faultAtEveryCall(t, setupIn(t, srv, account, ""), kind)
		})
	}
}

func faultAtEveryCall(t *testing.T, e *env, kind string) {
	ctx := context.Background()
	original := view(e.before)

	// The reference: an uninterrupted apply, rolled back.
	rep, err := e.runner(1).Apply(ctx, e.plan, e.data)
	if err != nil {
		t.Fatal(err)
	}
	applied := view(e.read(t))
	if _, err := e.runner(1).Rollback(ctx, rep.Dir); err != nil {
		t.Fatal(err)
	}
	writes := len(e.plan.Actions)

	for k := 1; k <= writes; k++ {
		if d := diff(original, view(e.read(t))); d != "" {
			t.Fatalf("%s at write %d: the account is not back to the original before the run:\n%s", kind, k, d)
		}
		runCtx, cancel := context.WithCancel(ctx)
		var mu sync.Mutex
		seen := 0
		e.proxy.SetRule(func(r mototest.Request) mototest.Fault {
			if !mutating[r.Op] {
				return mototest.None
			}
			mu.Lock()
			defer mu.Unlock()
			seen++
			switch {
			case seen < k:
				return mototest.None
			case kind == "5xx":
				return mototest.ServerError
			case seen == k:
				cancel()
				return mototest.Drop
			}
			return mototest.Invalid // nothing may follow a crash
		})
		rep, err := e.runner(1).Apply(runCtx, e.plan, e.data)
		cancel()
		e.proxy.SetRule(nil)
		var step *apply.StepError
		if !errors.As(err, &step) {
			t.Fatalf("%s at write %d: apply returned %v, want a stopped step", kind, k, err)
		}
		if rep == nil || rep.Dir == "" {
			t.Fatalf("%s at write %d: no run directory", kind, k)
		}
		if _, err := e.runner(1).Resume(ctx, rep.Dir); err != nil {
			t.Fatalf("%s at write %d: resume: %v", kind, k, err)
		}
		if d := diff(applied, view(e.read(t))); d != "" {
			t.Fatalf("%s at write %d: resume did not reach the applied state:\n%s", kind, k, d)
		}
		if _, err := e.runner(1).Rollback(ctx, rep.Dir); err != nil {
			t.Fatalf("%s at write %d: rollback: %v", kind, k, err)
		}
		if t.Failed() {
			return
		}
	}
	final := e.read(t)
	if d := diff(original, view(final)); d != "" {
		t.Errorf("the account is not back to the original:\n%s", d)
	}
	e.shadow.check(t, final)
	if e.shadow.writes < 3*writes*writes/2 {
		t.Errorf("the shadow saw %d writes; %d faults of %d writes each need more", e.shadow.writes, writes, writes)
	}
	t.Logf("%s: %d writes observed and checked", kind, e.shadow.writes)
}

// TestThrottled applies a plan of part of the demo while 30% of all calls
// are throttled. (Part: the SDK's adaptive retryer slows right down under
// that much throttling, as it should against IAM.)
func TestThrottled(t *testing.T) {
	e := setupUsers(t, "[a-f]*")
	rng := rand.New(rand.NewPCG(7, 30))
	var mu sync.Mutex
	e.proxy.SetRule(func(mototest.Request) mototest.Fault {
		mu.Lock()
		defer mu.Unlock()
		if rng.Float64() < 0.3 {
			return mototest.Throttle
		}
		return mototest.None
	})
	var err error
	e.sess, err = awsiam.NewSession(context.Background(), awsiam.Options{EndpointURL: e.proxy.URL,
		RoleARN: "arn:aws:iam::" + demoAccount + ":role/apply", MaxAttempts: 10, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r := e.runner(4)
	if _, err := r.Apply(context.Background(), e.plan, e.data); err != nil {
		t.Fatalf("apply under throttling: %v (faults %v)", err, e.proxy.Faults())
	}
	e.proxy.SetRule(nil)
	after := e.read(t)
	e.shadow.check(t, after)
	if e.proxy.Faults()["CreateGroup"]+e.proxy.Faults()["DetachUserPolicy"] == 0 {
		t.Error("no write was throttled")
	}
	if got := fmt.Sprint(r.Calls()); got == "map[]" {
		t.Error("no calls counted")
	}
}

// TestStaleAndLocked refuses a plan that no longer matches the account,
// and a second run while the lock is held, before any write.
func TestStaleAndLocked(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	lock, err := apply.LockAccount(e.root, demoAccount, "test holder")
	if err != nil {
		t.Fatal(err)
	}
	e.proxy.ResetCounts()
	_, err = e.runner(1).Apply(ctx, e.plan, e.data)
	if !errors.Is(err, apply.ErrLocked) || !strings.Contains(err.Error(), "test holder") {
		t.Errorf("apply under a held lock: %v", err)
	}
	lock.Release()

	user := e.plan.Users[0].Name
	attach(t, e, user, "arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess")
	_, err = e.runner(1).Apply(ctx, e.plan, e.data)
	var stale *apply.StaleError
	if !errors.As(err, &stale) {
		t.Fatalf("apply of a stale plan: %v", err)
	}
	want := "user " + user + ": managed policy arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess added since planning"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("the refusal does not say %q:\n%v", want, err)
	}
	if n := len(e.mutatingCalls()); n != 0 {
		t.Errorf("%d writes despite the refusals", n)
	}
	entries, _ := os.ReadDir(e.root)
	for _, d := range entries {
		if d.IsDir() {
			t.Errorf("a refused run left a run directory: %s", d.Name())
		}
	}
}
