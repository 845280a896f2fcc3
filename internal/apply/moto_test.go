package apply_test

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
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
	"github.com/iamgroups/iamgroups/internal/plan"
	"github.com/iamgroups/iamgroups/internal/policydoc"
	"github.com/iamgroups/iamgroups/internal/rule"
	"github.com/iamgroups/iamgroups/internal/snapshot"
)

func TestMain(m *testing.M) { os.Exit(mototest.Main(m)) }

// demoAccount is the account the demo describes.
const demoAccount = "111122223333"

// demoTime is when the demo's exemptions are evaluated.
var demoTime = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

// mutating are the IAM operations that change the account.
var mutating = map[string]bool{
	"CreatePolicy": true, "CreateGroup": true, "AttachGroupPolicy": true, "AddUserToGroup": true,
	"DetachUserPolicy": true, "DeleteUserPolicy": true, "AttachUserPolicy": true, "PutUserPolicy": true,
	"RemoveUserFromGroup": true, "DetachGroupPolicy": true, "DeleteGroup": true, "DeletePolicy": true,
}

// opOf maps the plan's operations to the API's.
var opOf = map[string]string{
	plan.OpCreatePolicy: "CreatePolicy", plan.OpCreateGroup: "CreateGroup", plan.OpAttachGroup: "AttachGroupPolicy",
	plan.OpAddUser: "AddUserToGroup", plan.OpDetachUserPolicy: "DetachUserPolicy", plan.OpDeleteUserPolicy: "DeleteUserPolicy",
}

// env is the demo account in moto, its plan, and a proxy in front of
// moto that injects faults and watches every write.
type env struct {
	srv     *mototest.Server
	account string
	proxy   *mototest.Proxy
	direct  aws.Config // straight to moto, in the demo account
	sess    *awsiam.Session
	plan    *plan.Plan
	data    []byte
	before  *model.Account
	root    string
	shadow  *shadow
}

// verbatimDoc is an inline document with the spacing and order a person
// typed: rollback must put back these bytes, not a canonical form.
const verbatimDoc = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [ { \"Resource\": \"*\", \"Action\": [\"ssm:GetParameter\"],  \"Effect\": \"Allow\" } ]\n}"

func setup(t *testing.T) *env { return setupIn(t, mototest.Require(t), demoAccount, "") }

// setupUsers plans only the failing users whose names match glob.
func setupUsers(t *testing.T, glob string) *env {
	return setupIn(t, mototest.Require(t), demoAccount, glob)
}

// setupIn seeds the demo into the given account of srv (the demo's ARNs
// moved there) and plans the failing users whose names match glob.
func setupIn(t *testing.T, srv *mototest.Server, account, glob string) *env {
	t.Helper()
	ctx := context.Background()
	direct, _, err := mototest.InAccount(ctx, srv.URL, account)
	if err != nil {
		t.Fatal(err)
	}
	accounts, err := snapshot.Decode(bytes.ReplaceAll(demo.Account, []byte(demoAccount), []byte(account)), "demo", snapshot.Options{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	// One more failing user whose inline document is not canonical.
	accounts[0].Users = append(accounts[0].Users, &model.User{Name: "typed-by-hand", Path: "/",
		InlinePolicies: []model.InlinePolicy{{Name: "params", Document: verbatimDoc}}})
	if err := mototest.SeedModel(ctx, direct, accounts[0]); err != nil {
		t.Fatal(err)
	}
	e := &env{srv: srv, account: account, direct: direct, root: t.TempDir()}
	e.proxy = mototest.NewProxy(t, srv)
	e.sess, err = awsiam.NewSession(ctx, awsiam.Options{EndpointURL: e.proxy.URL, RoleARN: "arn:aws:iam::" + account + ":role/apply",
		MaxAttempts: 3, MaxBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e.before = e.read(t)
	results := rule.IAM071.Check(e.before)
	cfg, err := exempt.Parse(demo.Exemptions, "demo")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Apply([]*model.Account{e.before}, results, demoTime)
	e.plan, err = plan.Make(e.before, results, plan.Options{Users: glob, Quotas: plan.DefaultQuotas()})
	if err != nil {
		t.Fatal(err)
	}
	if e.data, err = e.plan.Encode(); err != nil {
		t.Fatal(err)
	}
	if glob == "" && (len(e.plan.Users) < 10 || len(e.plan.Actions) < 50) {
		t.Fatalf("the demo plan is too small to test with: %s", e.plan.Summary())
	}
	e.shadow = newShadow(t, e.before, e.plan, account)
	e.proxy.SetObserver(e.shadow.observe)
	return e
}

// read reads the account straight from moto.
func (e *env) read(t *testing.T) *model.Account {
	t.Helper()
	s := &awsiam.Session{Config: e.direct, Calls: awsiam.NewCalls()}
	a, err := awsiam.ReadFull(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (e *env) runner(concurrency int) *apply.Runner {
	w := awsiam.NewWriter(e.sess)
	return &apply.Runner{
		W: apply.WriterFunc(func(ctx context.Context, c apply.Call) error { return w.Do(ctx, awsiam.WriteCall(c)) }),
		R: reader(func(ctx context.Context) (*model.Account, error) { return awsiam.ReadFull(ctx, e.sess) }),
		Opts: apply.Options{JournalRoot: e.root, Concurrency: concurrency, VerifyAttempts: 1,
			Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }},
	}
}

type reader func(ctx context.Context) (*model.Account, error)

func (f reader) Read(ctx context.Context) (*model.Account, error) { return f(ctx) }

// mutatingCalls counts the writes the proxy forwarded or faulted.
func (e *env) mutatingCalls() map[string]int {
	out := map[string]int{}
	for op, n := range e.proxy.Calls() {
		if mutating[op] {
			out[op] = n
		}
	}
	return out
}

// view is what the tests compare between two reads: every user's direct
// policies (inline ones by name, digest and verbatim text) and groups,
// every group's policies, and the customer managed policies.
func view(a *model.Account) map[string]string {
	out := map[string]string{}
	for _, u := range a.Users {
		var parts []string
		for _, p := range u.AttachedPolicies {
			parts = append(parts, "managed "+p.ARN)
		}
		for _, p := range u.InlinePolicies {
			parts = append(parts, "inline "+p.Name+" "+p.Digest+" "+p.Document)
		}
		for _, g := range u.Groups {
			parts = append(parts, "group "+g)
		}
		out["user "+u.Name] = strings.Join(parts, "\n")
	}
	for _, g := range a.Groups {
		var parts []string
		for _, p := range g.AttachedPolicies {
			parts = append(parts, "managed "+p.ARN)
		}
		for _, p := range g.InlinePolicies {
			parts = append(parts, "inline "+p.Name+" "+p.Digest)
		}
		out["group "+g.Name+" "+g.Path] = strings.Join(parts, "\n")
	}
	for _, p := range a.Policies {
		out["policy "+p.ARN] = p.Digest
	}
	return out
}

// diff describes how two views differ.
func diff(want, got map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if g, ok := got[k]; !ok {
			b.WriteString("missing " + k + "\n")
		} else if g != want[k] {
			b.WriteString(k + ":\n want " + strings.ReplaceAll(want[k], "\n", "; ") + "\n got  " + strings.ReplaceAll(g, "\n", "; ") + "\n")
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			b.WriteString("unexpected " + k + "\n")
		}
	}
	return b.String()
}

// shadow follows every write the emulator accepts and checks, after each
// one, that no planned user holds fewer permission sources than before or
// one it did not hold. It starts from a real read and is compared with
// real reads at the end of each test, so it cannot drift unseen.
type shadow struct {
	t       *testing.T
	account string
	mu      sync.Mutex
	planned []string
	want    map[string]map[string]bool
	users   map[string]*shadowUser
	groups  map[string]*shadowGroup
	docs    map[string]string // customer managed policy ARN → atom
	newARNs map[string]bool
	writes  int
	errs    []string
}

type shadowUser struct {
	managed, groups map[string]bool
	inline          map[string]string
}

type shadowGroup struct {
	managed map[string]bool
	inline  map[string]string
}

func newShadow(t *testing.T, a *model.Account, p *plan.Plan, account string) *shadow {
	s := &shadow{t: t, account: account, users: map[string]*shadowUser{}, groups: map[string]*shadowGroup{}, docs: map[string]string{}, newARNs: map[string]bool{}}
	for _, pol := range p.Policies {
		s.newARNs[pol.ARN] = true
	}
	for _, u := range a.Users {
		su := &shadowUser{managed: map[string]bool{}, groups: map[string]bool{}, inline: map[string]string{}}
		for _, x := range u.AttachedPolicies {
			su.managed[x.ARN] = true
		}
		for _, x := range u.InlinePolicies {
			su.inline[x.Name] = x.Digest
		}
		for _, g := range u.Groups {
			su.groups[g] = true
		}
		s.users[u.Name] = su
	}
	for _, g := range a.Groups {
		sg := &shadowGroup{managed: map[string]bool{}, inline: map[string]string{}}
		for _, x := range g.AttachedPolicies {
			sg.managed[x.ARN] = true
		}
		for _, x := range g.InlinePolicies {
			sg.inline[x.Name] = x.Digest
		}
		s.groups[g.Name] = sg
	}
	s.want = map[string]map[string]bool{}
	for _, u := range p.Users {
		s.planned = append(s.planned, u.Name)
		s.want[u.Name] = s.atoms(u.Name)
	}
	return s
}

func (s *shadow) atom(arn string) string {
	if s.newARNs[arn] {
		return "doc " + s.docs[arn]
	}
	return "managed " + arn
}

func (s *shadow) atoms(user string) map[string]bool {
	out := map[string]bool{}
	u := s.users[user]
	for a := range u.managed {
		out[s.atom(a)] = true
	}
	for _, d := range u.inline {
		out["doc "+d] = true
	}
	for g := range u.groups {
		if sg := s.groups[g]; sg != nil {
			for a := range sg.managed {
				out[s.atom(a)] = true
			}
			for _, d := range sg.inline {
				out["doc "+d] = true
			}
		}
	}
	return out
}

// observe applies one accepted write and checks every planned user.
func (s *shadow) observe(r mototest.Request) {
	if !mutating[r.Op] || r.Status != 200 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	q := r.Params
	user, group, arn, name := q.Get("UserName"), q.Get("GroupName"), q.Get("PolicyArn"), q.Get("PolicyName")
	switch r.Op {
	case "CreatePolicy":
		d, err := policydoc.ParseString(q.Get("PolicyDocument"))
		if err != nil {
			s.errs = append(s.errs, "CreatePolicy with a bad document: "+err.Error())
			return
		}
		s.docs["arn:aws:iam::"+s.account+":policy"+q.Get("Path")+name] = d.Digest
	case "CreateGroup":
		s.groups[group] = &shadowGroup{managed: map[string]bool{}, inline: map[string]string{}}
	case "DeleteGroup":
		delete(s.groups, group)
	case "AttachGroupPolicy":
		s.groups[group].managed[arn] = true
	case "DetachGroupPolicy":
		delete(s.groups[group].managed, arn)
	case "AddUserToGroup":
		s.users[user].groups[group] = true
	case "RemoveUserFromGroup":
		delete(s.users[user].groups, group)
	case "AttachUserPolicy":
		s.users[user].managed[arn] = true
	case "DetachUserPolicy":
		delete(s.users[user].managed, arn)
	case "PutUserPolicy":
		d, err := policydoc.ParseString(q.Get("PolicyDocument"))
		if err != nil {
			s.errs = append(s.errs, "PutUserPolicy with a bad document: "+err.Error())
			return
		}
		s.users[user].inline[name] = d.Digest
	case "DeleteUserPolicy":
		delete(s.users[user].inline, name)
	}
	for _, u := range s.planned {
		if got := s.atoms(u); !maps.Equal(got, s.want[u]) {
			s.errs = append(s.errs, r.Op+" "+q.Encode()+": user "+u+" now holds "+strings.Join(slices.Sorted(maps.Keys(got)), ", ")+
				"; before: "+strings.Join(slices.Sorted(maps.Keys(s.want[u])), ", "))
		}
	}
}

// check fails the test if any write broke the invariant, and compares the
// shadow with a real read.
func (s *shadow) check(t *testing.T, real *model.Account) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, e := range s.errs {
		if i == 5 {
			t.Errorf("and %d more", len(s.errs)-i)
			break
		}
		t.Error(e)
	}
	s.errs = nil
	for _, u := range real.Users {
		su := s.users[u.Name]
		var managed, groups []string
		for _, p := range u.AttachedPolicies {
			managed = append(managed, p.ARN)
		}
		groups = append(groups, u.Groups...)
		inline := map[string]string{}
		for _, p := range u.InlinePolicies {
			inline[p.Name] = p.Digest
		}
		if !slices.Equal(managed, slices.Sorted(maps.Keys(su.managed))) || !slices.Equal(groups, slices.Sorted(maps.Keys(su.groups))) || !maps.Equal(inline, su.inline) {
			t.Errorf("the shadow of user %s drifted from the account", u.Name)
		}
	}
	if len(real.Groups) != len(s.groups) {
		t.Errorf("the shadow has %d groups, the account %d", len(s.groups), len(real.Groups))
	}
}

// userCount is how many mutating API calls the plan's actions are.
func planCalls(p *plan.Plan) map[string]int {
	out := map[string]int{}
	for _, a := range p.Actions {
		out[opOf[a.Op]]++
	}
	return out
}

// attach is a change made behind the tool's back.
func attach(t *testing.T, e *env, user, arn string) {
	t.Helper()
	if _, err := iam.NewFromConfig(e.direct).AttachUserPolicy(context.Background(), &iam.AttachUserPolicyInput{UserName: aws.String(user), PolicyArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
}

// readmeActions returns the actions of the JSON policy that follows marker
// in the README.
func readmeActions(t *testing.T, marker string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), marker)
	if !ok {
		t.Fatalf("README.md has no %s marker", marker)
	}
	_, block, _ := strings.Cut(after, "```json\n")
	block, _, _ = strings.Cut(block, "```")
	var policy struct{ Statement []struct{ Action []string } }
	if err := json.Unmarshal([]byte(block), &policy); err != nil {
		t.Fatalf("the README's policy after %s is not JSON: %v", marker, err)
	}
	var actions []string
	for _, st := range policy.Statement {
		actions = append(actions, st.Action...)
	}
	slices.Sort(actions)
	return actions
}
