package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/iamgroups/iamgroups/internal/rule"
	"github.com/iamgroups/iamgroups/internal/store"
)

// SeedStart is when the first run of Seed starts; runs follow every
// SeedEvery.
var SeedStart = time.Date(2026, 1, 5, 6, 0, 0, 0, time.UTC)

// SeedEvery is the interval between two runs of Seed.
const SeedEvery = 6 * time.Hour

// Seed fills s with the history of target: runs scans, SeedEvery apart from
// SeedStart, of an estate of about users IAM users spread over several
// accounts. About a fifth of the users fail (AWS and customer managed
// policies, inline policies), a few service users are exempt and some of
// those exemptions expire on the way; between runs users are fixed, get a
// direct policy, are deleted or created, fail to be read, and now and then
// a whole account cannot be read (a partial run). The same arguments give
// the same history.
func Seed(ctx context.Context, s store.Store, target string, runs, users int, seed int64) error {
	if runs < 0 || users < 0 {
		return fmt.Errorf("seed store: runs and users must not be negative (got %d, %d)", runs, users)
	}
	h := NewHistory(target, users, seed)
	for range runs {
		start, end := h.Next()
		id, err := s.BeginRun(ctx, start)
		if err != nil {
			return fmt.Errorf("seed store: %w", err)
		}
		if _, err := s.FinishRun(ctx, id, end); err != nil {
			return fmt.Errorf("seed store: %w", err)
		}
	}
	return nil
}

// History is the estate Seed simulates, one scan at a time, for tests and
// benchmarks that record runs themselves.
type History struct {
	e      *estate
	target string
	runs   int
}

// NewHistory starts the history Seed(ctx, s, target, …, users, seed)
// records.
func NewHistory(target string, users int, seed int64) *History {
	return &History{e: newEstate(users, seed), target: target}
}

// Next returns the next scan of the estate: how the run starts and how it
// ends. The estate changes a little between two scans.
func (h *History) Next() (store.RunStart, store.RunEnd) {
	if h.runs > 0 {
		h.e.evolve()
	}
	start := SeedStart.Add(time.Duration(h.runs) * SeedEvery)
	h.runs++
	return store.RunStart{Target: h.target, Trigger: "schedule", Source: "organization", StartedAt: start}, h.e.scan(start)
}

// seedUser is one user of the seeded estate and what it holds now.
type seedUser struct {
	account  string
	name     string
	arn      string
	groups   []string
	boundary string
	managed  []rule.Violation
	inline   []rule.Violation
	// exemption applies to the user until expires (a run time).
	exemption *rule.Exemption
	expires   time.Time
	deleted   bool
}

type estate struct {
	rng      *rand.Rand
	accounts []string
	users    []*seedUser
	next     int // the number of the next user created
	// broken is the account that cannot be read in the coming scan, if any.
	broken string
	// flaky are users that cannot be read in the coming scan.
	flaky map[*seedUser]bool
}

var seedTeams = []struct{ path, group string }{
	{"/engineering/", "Developers"}, {"/engineering/", "Developers"}, {"/engineering/", "Developers"},
	{"/ops/", "DevOps"}, {"/data/", "DataEngineering"}, {"/data/", "DataAnalysts"},
	{"/security/", "SecurityAuditors"}, {"/finance/", "Finance"}, {"/support/", "Support"},
	{"/qa/", "QA"}, {"/", "ReadOnly"},
}

var seedNames = []string{
	"amelia.chen", "ben.walker", "chloe.martin", "diego.ramirez", "emma.johansson", "ethan.brooks",
	"fatima.zahra", "grace.okafor", "hiro.tanaka", "isla.murphy", "jonas.weber", "kofi.mensah",
	"lena.novak", "mateo.silva", "nora.lindqvist", "omar.haddad", "priya.patel", "quinn.oconnor",
	"rosa.garcia", "sam.kowalski", "tara.singh", "umar.farouk", "vera.ivanova", "wei.zhang",
	"xenia.popescu", "yusuf.demir", "zoe.dubois",
}

// seedManaged are AWS managed policies users are given directly, the
// common ones first.
var seedManaged = []string{
	"ReadOnlyAccess", "AmazonS3ReadOnlyAccess", "IAMUserChangePassword", "AmazonEC2ReadOnlyAccess",
	"CloudWatchLogsReadOnlyAccess", "AmazonS3FullAccess", "AdministratorAccess", "AmazonAthenaFullAccess",
	"AmazonDynamoDBReadOnlyAccess", "AWSBillingReadOnlyAccess", "AmazonEC2ContainerRegistryPowerUser",
	"AWSLambda_FullAccess", "PowerUserAccess", "SecurityAudit",
}

var seedCustomer = []string{"ci-artifacts-publish", "CostExplorerReports", "team-s3-access", "dev-sandbox", "kms-decrypt-app"}

var seedInline = []string{"athena-results-bucket", "dev-sandbox-s3", "sandbox-bucket", "assume-deploy-role", "sqs-consumer", "ssm-params-read"}

func newEstate(users int, seed int64) *estate {
	e := &estate{rng: rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))}
	n := min(2+users/1500, 6)
	for i := range n {
		e.accounts = append(e.accounts, fmt.Sprintf("%012d", 111122223333+int64(i)*101010101010))
	}
	for range users {
		e.users = append(e.users, e.newUser())
	}
	return e
}

func (e *estate) newUser() *seedUser {
	i := e.next
	e.next++
	u := &seedUser{account: e.accounts[i%len(e.accounts)]}
	path := "/automation/"
	if e.rng.IntN(40) == 0 {
		u.name = fmt.Sprintf("ci-deploy-%d", i)
	} else {
		team := seedTeams[e.rng.IntN(len(seedTeams))]
		path = team.path
		u.name = fmt.Sprintf("%s%d", seedNames[e.rng.IntN(len(seedNames))], i)
		u.groups = []string{team.group}
		if e.rng.IntN(6) == 0 {
			u.groups = append(u.groups, "MFARequired")
		}
		if e.rng.IntN(10) == 0 {
			u.boundary = "arn:aws:iam::" + u.account + ":policy/boundaries/DeveloperBoundary"
		}
	}
	u.arn = "arn:aws:iam::" + u.account + ":user" + path + u.name
	switch {
	case len(u.groups) == 0:
		// Service users hold their policies directly; most are exempt for
		// a while.
		e.grant(u)
		if e.rng.IntN(4) != 0 {
			u.exemption = &rule.Exemption{
				ID:     "#2 users: ci-deploy-*",
				Reason: "CI deploy users move to the OIDC deploy role (PLAT-812)",
			}
			u.expires = SeedStart.Add(time.Duration(e.rng.IntN(400)) * SeedEvery)
			u.exemption.Expires = u.expires.Format(time.DateOnly)
		}
	case e.rng.IntN(5) == 0:
		e.grant(u)
	}
	return u
}

// grant gives u one to three direct policies.
func (e *estate) grant(u *seedUser) {
	for range 1 + e.rng.IntN(3) {
		switch r := e.rng.IntN(10); {
		case r < 6:
			// Biased to the front: a few policies are most of the findings.
			name := seedManaged[min(e.rng.IntN(len(seedManaged)), e.rng.IntN(len(seedManaged)))]
			u.managed = appendPolicy(u.managed, rule.Violation{Kind: "managed", Name: name, ARN: "arn:aws:iam::aws:policy/" + name})
		case r < 8:
			name := seedCustomer[e.rng.IntN(len(seedCustomer))]
			u.managed = appendPolicy(u.managed, rule.Violation{Kind: "managed", Name: name, ARN: "arn:aws:iam::" + u.account + ":policy/" + name})
		default:
			name := seedInline[e.rng.IntN(len(seedInline))]
			sum := sha256.Sum256([]byte(name + "/" + u.account))
			u.inline = appendPolicy(u.inline, rule.Violation{Kind: "inline", Name: name, Digest: hex.EncodeToString(sum[:])})
		}
	}
}

func appendPolicy(vs []rule.Violation, v rule.Violation) []rule.Violation {
	for _, w := range vs {
		if w.Name == v.Name && w.ARN == v.ARN {
			return vs
		}
	}
	return append(vs, v)
}

// evolve is what happens to the estate between two scans.
func (e *estate) evolve() {
	e.flaky = map[*seedUser]bool{}
	e.broken = ""
	for _, u := range e.users {
		if u.deleted {
			continue
		}
		failing := len(u.managed)+len(u.inline) > 0
		switch r := e.rng.IntN(1000); {
		case failing && u.exemption == nil && r < 40:
			// Remediated: the policies moved to groups.
			u.managed, u.inline = nil, nil
			if len(u.groups) == 0 {
				u.groups = []string{"Deployers"}
			}
		case !failing && r < 5:
			e.grant(u)
		case r >= 997:
			u.deleted = true
		case r >= 994:
			e.flaky[u] = true
		}
	}
	for range max(1, len(e.users)/500) {
		if e.rng.IntN(2) == 0 {
			e.users = append(e.users, e.newUser())
		}
	}
	if e.rng.IntN(17) == 0 {
		e.broken = e.accounts[e.rng.IntN(len(e.accounts))]
	}
}

// scan is the outcome of scanning the estate at a run's start.
func (e *estate) scan(at time.Time) store.RunEnd {
	end := store.RunEnd{
		Status:     store.RunOK,
		FinishedAt: at.Add(35*time.Second + time.Duration(e.rng.IntN(20000))*time.Millisecond),
		Method:     "gaad",
		Accounts:   e.accounts,
		APICalls:   map[string]int{"GetAccountAuthorizationDetails": 0, "ListAccounts": 1, "AssumeRole": len(e.accounts)},
	}
	perAccount := map[string]int{}
	for _, u := range e.users {
		if !u.deleted {
			perAccount[u.account]++
		}
	}
	for _, a := range e.accounts {
		if a == e.broken {
			end.Status = store.RunPartial
			end.Error = "account " + a + ": AccessDenied: not authorized to perform sts:AssumeRole"
			end.Results = append(end.Results, rule.Result{RuleID: "IAM-071", Risk: rule.Medium, Status: rule.Error,
				AccountID: a, Message: "account could not be audited: " + end.Error})
			continue
		}
		end.APICalls["GetAccountAuthorizationDetails"] += 1 + perAccount[a]/1000
	}
	for _, u := range e.users {
		if u.deleted || u.account == e.broken {
			continue
		}
		r := rule.Result{RuleID: "IAM-071", Risk: rule.Medium, AccountID: u.account, UserName: u.name, UserARN: u.arn,
			Groups: u.groups, PermissionsBoundary: u.boundary}
		switch {
		case e.flaky[u]:
			r.Status = rule.Error
			r.Message = "could not be evaluated: ListAttachedUserPolicies: Throttling: Rate exceeded"
			if end.Status == store.RunOK {
				end.Status = store.RunPartial
				end.Error = "some users could not be read"
			}
		case len(u.managed)+len(u.inline) == 0:
			r.Status = rule.Pass
			r.Message = "no direct policies"
		default:
			r.Violations = append(append([]rule.Violation{}, u.managed...), u.inline...)
			r.Message = holds(len(u.managed), len(u.inline))
			r.Status = rule.Fail
			if u.exemption != nil {
				ex := *u.exemption
				if at.Before(u.expires) {
					r.Status = rule.Exempt
				} else {
					ex.Expired = true
					r.Message += " (exemption " + ex.ID + " expired " + ex.Expires + ")"
				}
				r.Exemption = &ex
			}
		}
		end.Results = append(end.Results, r)
	}
	rule.Sort(end.Results)
	return end
}

func holds(managed, inline int) string {
	plural := func(n int, what string) string {
		if n == 1 {
			return fmt.Sprintf("1 %s policy", what)
		}
		return fmt.Sprintf("%d %s policies", n, what)
	}
	switch {
	case inline == 0:
		return "holds " + plural(managed, "managed") + " directly"
	case managed == 0:
		return "holds " + plural(inline, "inline") + " directly"
	}
	return "holds " + plural(managed, "managed") + " and " + plural(inline, "inline") + " directly"
}
