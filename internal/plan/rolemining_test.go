package plan

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

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

// TestRoleMiningWithIAMQuotas: with 10 policies per group and 10 groups per
// user every user of the datasets is still covered exactly.
func TestRoleMiningWithIAMQuotas(t *testing.T) {
	for _, file := range []string{"hc.txt", "domino.txt", "emea.txt", "fire2.txt"} {
		classes, n := dataset(t, file)
		roles := solve(n, classes, 10)
		checkExact(t, roles, classes)
		for _, r := range roles {
			if r.count() > 10 {
				t.Fatalf("%s: a role with %d permissions", file, r.count())
			}
		}
		t.Logf("%s with 10 policies per group: %d groups", file, len(roles))
	}
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

var _ = fmt.Sprint
