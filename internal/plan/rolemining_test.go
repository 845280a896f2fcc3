package plan

import (
	"bufio"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/rule"
	"github.com/iamgroups/iamgroups/internal/shareddata"
)

// dataset reads an HP Labs role-mining dataset: "user permission" pairs.
// It returns one class per distinct user permission set (R = A) and the
// number of permissions.
func dataset(t testing.TB, file string) ([]class, int) {
	t.Helper()
	f, err := os.Open(shareddata.Path(t, "rolemining/"+file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	perms := map[int]int{}
	users := map[int][]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		u, err1 := strconv.Atoi(fields[0])
		p, err2 := strconv.Atoi(fields[1])
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: bad line %q", file, sc.Text())
		}
		if _, ok := perms[p]; !ok {
			perms[p] = len(perms)
		}
		users[u] = append(users[u], perms[p])
	}
	seen := map[string]bool{}
	var classes []class
	ids := slices.Sorted(mapKeys(users))
	for _, u := range ids {
		b := newBitset(len(perms))
		for _, p := range users[u] {
			b.set(p)
		}
		if !seen[b.key()] {
			seen[b.key()] = true
			classes = append(classes, class{R: b, A: b})
		}
	}
	return classes, len(perms)
}

func mapKeys[V any](m map[int]V) func(func(int) bool) {
	return func(yield func(int) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestRoleMiningDatasetsReachTheOptimum: without quotas the planner finds
// the published minimum number of roles on each dataset, as an exact
// cover (every user gets exactly its permissions).
func TestRoleMiningDatasetsReachTheOptimum(t *testing.T) {
	for _, d := range []struct {
		file    string
		optimum int
	}{{"hc.txt", 14}, {"domino.txt", 20}, {"emea.txt", 34}, {"fire2.txt", 10}} {
		t.Run(d.file, func(t *testing.T) {
			classes, n := dataset(t, d.file)
			roles := solve(n, classes, 0)
			if len(roles) != d.optimum {
				t.Errorf("%d roles, published optimum %d", len(roles), d.optimum)
			}
			checkExact(t, roles, classes)
			if lb := lowerBound(classes); lb > len(roles) {
				t.Errorf("lower bound %d above the solution %d", lb, len(roles))
			}
		})
	}
}

// TestRoleMiningWithIAMQuotas plans each dataset as an IAM account (one
// user per row, one AWS managed policy per permission) with IAM's limits of
// 10 groups per user and 10 policies per group: the plan is valid, and
// every user that the limits allow (at most 100 policies) is planned.
func TestRoleMiningWithIAMQuotas(t *testing.T) {
	for _, file := range []string{"hc.txt", "domino.txt", "emea.txt", "fire2.txt"} {
		acct := datasetAccount(t, file)
		results := rule.IAM071.Check(acct)
		q := Quotas{GroupsPerUser: 10, PoliciesPerGroup: 10, GroupsPerAccount: 100000, PoliciesPerAccount: 100000, PolicySize: 6144}
		p, err := Make(acct, results, Options{Quotas: q})
		if err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, acct, results, p)
		planned := map[string]bool{}
		for _, u := range p.Users {
			planned[u.Name] = true
		}
		coverable := 0
		for _, u := range acct.Users {
			if n := len(u.AttachedPolicies); n <= 100 {
				coverable++
				if !planned[u.Name] {
					t.Errorf("%s: %s (%d policies) is not planned", file, u.Name, n)
				}
			}
		}
		t.Logf("%s with 10/10 limits: %d groups for %d of %d users (%d coverable)", file, p.Stats.NewGroups, len(p.Users), len(acct.Users), coverable)
	}
}

// datasetAccount is a dataset as an IAM account.
func datasetAccount(t testing.TB, file string) *model.Account {
	t.Helper()
	f, err := os.Open(shareddata.Path(t, "rolemining/"+file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	users := map[string]*model.User{}
	a := &model.Account{ID: "210987654321", Partition: "aws", GroupsKnown: true}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		u := users[fields[0]]
		if u == nil {
			u = &model.User{Name: "u" + fields[0], ARN: "arn:aws:iam::210987654321:user/u" + fields[0]}
			users[fields[0]] = u
			a.Users = append(a.Users, u)
		}
		u.AttachedPolicies = append(u.AttachedPolicies, model.AttachedPolicy{Name: "perm-" + fields[1], ARN: "arn:aws:iam::aws:policy/perm-" + fields[1]})
	}
	return a
}

func checkExact(t *testing.T, roles []bitset, classes []class) {
	t.Helper()
	for i, c := range classes {
		picked := assign(roles, c)
		got := newBitset(len(c.R) * 64)
		for _, k := range picked {
			if !roles[k].subsetOf(c.A) {
				t.Fatalf("class %d gets a role beyond its permissions", i)
			}
			got = got.or(roles[k])
		}
		if !got.equal(c.R) {
			t.Fatalf("class %d is not covered exactly: %v vs %v", i, got.members(), c.R.members())
		}
	}
}

// TestExactSearchBeatsGreedy: on this instance the greedy cover takes 4
// roles ({2,3,5} first, as it covers most); the exact search finds 3:
// {1}, {2,3,5}, {0,3}.
func TestExactSearchBeatsGreedy(t *testing.T) {
	set := func(atoms ...int) bitset {
		b := newBitset(6)
		for _, a := range atoms {
			b.set(a)
		}
		return b
	}
	var classes []class
	for _, s := range []bitset{set(1), set(2, 3, 5), set(0, 1, 3), set(0, 2, 3, 5)} {
		classes = append(classes, class{R: s, A: s})
	}
	roles := solve(6, classes, 0)
	if len(roles) != 3 {
		t.Errorf("%d roles, want 3", len(roles))
	}
	checkExact(t, roles, classes)
}
