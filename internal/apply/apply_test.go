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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

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

// TestVerificationStopsBeforeRemoving: when a fresh read does not show
// every planned user receiving its permissions through groups, apply stops
// before removing anything, says who lacks what, and rollback undoes it.
func TestVerificationStopsBeforeRemoving(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	r := e.runner(4)
	// One group never gets its policies: the writer loses those calls.
	lost := e.plan.Groups[0].Name
	real := r.W
	r.W = apply.WriterFunc(func(ctx context.Context, c apply.Call) error {
		if c.Op == apply.OpAttachGroupPolicy && c.Group == lost {
			return nil
		}
		return real.Do(ctx, c)
	})
	rep, err := r.Apply(ctx, e.plan, e.data)
	var verr *apply.VerifyError
	if !errors.As(err, &verr) {
		t.Fatalf("apply returned %v, want a failed verification", err)
	}
	if !strings.Contains(err.Error(), "not granted through groups") || !strings.Contains(err.Error(), e.plan.Groups[0].Members[0]) {
		t.Errorf("the failure does not say who lacks what:\n%v", err)
	}
	calls := e.mutatingCalls()
	if calls["DetachUserPolicy"]+calls["DeleteUserPolicy"] != 0 {
		t.Errorf("direct policies were removed after a failed verification: %v", calls)
	}
	e.shadow.check(t, e.read(t))
	if _, err := e.runner(4).Rollback(ctx, rep.Dir); err != nil {
		t.Fatal(err)
	}
	if d := diff(view(e.before), view(e.read(t))); d != "" {
		t.Errorf("rollback did not restore the account:\n%s", d)
	}
}

// TestForeignGroupStopsTheRun: a group of the plan's name created by
// someone else between the check and the run, with a policy of its own,
// stops the run before any policy is attached to it or anyone joins it.
func TestForeignGroupStopsTheRun(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	target := e.plan.Groups[0]
	var once sync.Once
	e.proxy.SetRule(func(r mototest.Request) mototest.Fault {
		if r.Op == "CreateGroup" && r.Params.Get("GroupName") == target.Name {
			once.Do(func() {
				c := iam.NewFromConfig(e.direct)
				if _, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(target.Name), Path: aws.String(target.Path)}); err != nil {
					t.Error(err)
				}
				if _, err := c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String(target.Name),
					PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}); err != nil {
					t.Error(err)
				}
			})
		}
		return mototest.None
	})
	rep, err := e.runner(1).Apply(ctx, e.plan, e.data)
	var step *apply.StepError
	if !errors.As(err, &step) || !strings.Contains(err.Error(), "exists already with other content") || !strings.Contains(err.Error(), "AdministratorAccess") {
		t.Fatalf("apply returned %v, want a stop naming the foreign policy", err)
	}
	calls := e.mutatingCalls()
	if calls["AttachGroupPolicy"]+calls["AddUserToGroup"] != 0 {
		t.Errorf("the run went on after finding a foreign group: %v", calls)
	}
	e.proxy.SetRule(nil)
	// Rollback leaves the foreign group alone and restores the rest.
	rb, err := e.runner(1).Rollback(ctx, rep.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(rb.Warnings, "\n"), "group "+target.Name+" left in place") {
		t.Errorf("rollback warnings %v", rb.Warnings)
	}
	after := view(e.read(t))
	if _, ok := after["group "+target.Name+" "+target.Path]; !ok {
		t.Error("rollback deleted a group the run did not create")
	}
}

// TestRollbackFromHalfway rolls back straight from runs stopped at a few
// points of the additive and subtractive phases.
func TestRollbackFromHalfway(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	original := view(e.before)
	n := len(e.plan.Actions)
	for _, k := range []int{1, n / 4, n / 2, 3 * n / 4, n} {
		var mu sync.Mutex
		seen := 0
		e.proxy.SetRule(func(r mototest.Request) mototest.Fault {
			if !mutating[r.Op] {
				return mototest.None
			}
			mu.Lock()
			defer mu.Unlock()
			if seen++; seen >= k {
				return mototest.ServerError
			}
			return mototest.None
		})
		rep, err := e.runner(4).Apply(ctx, e.plan, e.data)
		e.proxy.SetRule(nil)
		if err == nil {
			t.Fatalf("write %d: apply did not stop", k)
		}
		if _, err := e.runner(4).Rollback(ctx, rep.Dir); err != nil {
			t.Fatalf("write %d: rollback: %v", k, err)
		}
		if d := diff(original, view(e.read(t))); d != "" {
			t.Fatalf("write %d: rollback did not restore the account:\n%s", k, d)
		}
	}
	e.shadow.check(t, e.read(t))
}

// TestRollbackLeavesLaterChanges: a change someone made after the run is
// reported, not undone, and does not stop the rollback.
func TestRollbackLeavesLaterChanges(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	rep, err := e.runner(4).Apply(ctx, e.plan, e.data)
	if err != nil {
		t.Fatal(err)
	}
	user := e.plan.Users[0].Name
	attach(t, e, user, "arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess")
	rb, err := e.runner(4).Rollback(ctx, rep.Dir)
	if err != nil {
		t.Fatal(err)
	}
	want := "user " + user + ": managed policy arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess was attached by someone else"
	if !strings.Contains(strings.Join(rb.Warnings, "\n"), want) {
		t.Errorf("rollback warnings do not say %q: %v", want, rb.Warnings)
	}
}

// TestTornJournal: a last line cut short by a crash is ignored when read
// and cut off before the next append.
func TestTornJournal(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	runCtx, cancel := context.WithCancel(ctx)
	e.proxy.SetRule(func(r mototest.Request) mototest.Fault {
		if r.Op == "CreateGroup" {
			cancel()
			return mototest.Drop
		}
		return mototest.None
	})
	rep, _ := e.runner(1).Apply(runCtx, e.plan, e.data)
	e.proxy.SetRule(nil)
	path := filepath.Join(rep.Dir, "journal.jsonl")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"seq":999,"event":"int`)
	f.Close()
	before, err := apply.ReadEntries(rep.Dir)
	if err != nil {
		t.Fatalf("a torn last line: %v", err)
	}
	if _, err := e.runner(4).Resume(ctx, rep.Dir); err != nil {
		t.Fatal(err)
	}
	after, err := apply.ReadEntries(rep.Dir)
	if err != nil {
		t.Fatalf("the journal after resume: %v", err)
	}
	if len(after) <= len(before) || after[len(after)-1].Event != "complete" {
		t.Errorf("the journal did not go on after the torn line: %d entries, then %d", len(before), len(after))
	}
}
