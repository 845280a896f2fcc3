package rule

import (
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/iamgroups/iamgroups/internal/model"
)

func TestIAM071(t *testing.T) {
	managed := model.AttachedPolicy{Name: "ReadOnlyAccess", ARN: "arn:aws:iam::aws:policy/ReadOnlyAccess"}
	inline := model.InlinePolicy{Name: "s3", Digest: "abc123"}
	acct := &model.Account{ID: "111122223333", Users: []*model.User{
		{Name: "none", ARN: "arn:aws:iam::111122223333:user/none"},
		{Name: "groups-only", ARN: "arn:aws:iam::111122223333:user/groups-only", Groups: []string{"Dev"}},
		{Name: "boundary-only", ARN: "arn:aws:iam::111122223333:user/boundary-only", PermissionsBoundary: "arn:aws:iam::111122223333:policy/b"},
		{Name: "managed", ARN: "arn:aws:iam::111122223333:user/managed", AttachedPolicies: []model.AttachedPolicy{managed}},
		{Name: "inline", ARN: "arn:aws:iam::111122223333:user/inline", InlinePolicies: []model.InlinePolicy{inline}},
		{Name: "both-in-group", ARN: "arn:aws:iam::111122223333:user/both-in-group", Groups: []string{"Dev"},
			AttachedPolicies: []model.AttachedPolicy{managed}, InlinePolicies: []model.InlinePolicy{inline},
			PermissionsBoundary: "arn:aws:iam::111122223333:policy/b"},
		{Name: "unreadable", ARN: "arn:aws:iam::111122223333:user/unreadable", Error: "AccessDenied"},
		{Name: "unreadable-with-policy", ARN: "arn:aws:iam::111122223333:user/unreadable-with-policy", Error: "AccessDenied",
			AttachedPolicies: []model.AttachedPolicy{managed}},
	}}
	want := map[string]struct {
		status     Status
		violations int
	}{
		"none":                   {Pass, 0},
		"groups-only":            {Pass, 0},
		"boundary-only":          {Pass, 0},
		"managed":                {Fail, 1},
		"inline":                 {Fail, 1},
		"both-in-group":          {Fail, 2},
		"unreadable":             {Error, 0},
		"unreadable-with-policy": {Error, 0},
	}
	results := IAM071.Check(acct)
	if len(results) != len(acct.Users) {
		t.Fatalf("%d results for %d users: want one per user", len(results), len(acct.Users))
	}
	for i, r := range results {
		w := want[r.UserName]
		if r.Status != w.status || len(r.Violations) != w.violations {
			t.Errorf("%s: %s with %d violations, want %s with %d", r.UserName, r.Status, len(r.Violations), w.status, w.violations)
		}
		if r.UserName != acct.Users[i].Name {
			t.Errorf("result %d is for %s, want the users' order", i, r.UserName)
		}
		if r.RuleID != "IAM-071" || r.Risk != Medium || r.AccountID != "111122223333" {
			t.Errorf("%s: rule %s risk %s account %s", r.UserName, r.RuleID, r.Risk, r.AccountID)
		}
	}
	both := results[5]
	if both.Violations[0].Kind != "managed" || both.Violations[0].ARN != managed.ARN ||
		both.Violations[1].Kind != "inline" || both.Violations[1].Digest != "abc123" {
		t.Errorf("violations = %+v", both.Violations)
	}
	if both.PermissionsBoundary == "" || len(both.Groups) != 1 {
		t.Error("groups and boundary must be carried as evidence")
	}
	if both.Message != "holds 1 managed policy and 1 inline policy directly" {
		t.Errorf("message = %q", both.Message)
	}
	if !strings.Contains(results[6].Message, "AccessDenied") {
		t.Errorf("error message = %q", results[6].Message)
	}
	if got := both.Fingerprint(); got != "IAM-071/111122223333/arn:aws:iam::111122223333:user/both-in-group" {
		t.Errorf("fingerprint = %q", got)
	}
	s := Summarize(results)
	if s != (Summary{Users: 8, Pass: 3, Fail: 3, Error: 2}) {
		t.Errorf("summary = %+v", s)
	}
}

func TestLookup(t *testing.T) {
	if r, err := Lookup("iam-071"); err != nil || r.ID != "IAM-071" {
		t.Errorf("Lookup(iam-071) = %v, %v", r, err)
	}
	if _, err := Lookup("IAM-999"); err == nil || !strings.Contains(err.Error(), "known: IAM-071") {
		t.Errorf("Lookup(IAM-999) error = %v", err)
	}
}

func TestRegistryDocumentation(t *testing.T) {
	for _, r := range Registry {
		if r.ID == "" || r.Title == "" || r.Risk == "" || r.Summary == "" || r.Rationale == "" ||
			r.HowToCheck == "" || r.Remediation == "" || len(r.Aliases) == 0 || r.Check == nil {
			t.Errorf("rule %q is missing documentation or its check", r.ID)
		}
	}
}

func TestSortIsStable(t *testing.T) {
	rs := []Result{{AccountID: "2", UserName: "a"}, {AccountID: "1", UserName: "b"}, {AccountID: "1", UserName: "a"}}
	Sort(rs)
	if rs[0].AccountID != "1" || rs[0].UserName != "a" || rs[2].AccountID != "2" {
		t.Errorf("sorted = %+v", rs)
	}
}

func TestParallelCheckKeepsOrder(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4)) // the parallel path even on one CPU
	acct := &model.Account{ID: "111122223333"}
	for i := range parallelUsers + 17 {
		u := model.User{Name: strconv.Itoa(i), ARN: "arn:aws:iam::111122223333:user/" + strconv.Itoa(i)}
		if i%3 == 0 {
			u.InlinePolicies = []model.InlinePolicy{{Name: "p"}}
		}
		acct.Users = append(acct.Users, &u)
	}
	for i, r := range IAM071.Check(acct) {
		want := Pass
		if i%3 == 0 {
			want = Fail
		}
		if r.UserName != strconv.Itoa(i) || r.Status != want {
			t.Fatalf("result %d: %s %s, want user %d %s", i, r.UserName, r.Status, i, want)
		}
	}
}

func TestSortMatchesReference(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7, 100, 1000} {
		rs := make([]Result, n)
		for i := range rs {
			// A scrambled but deterministic order with duplicates.
			k := (i*7919 + 13) % (n/2 + 1)
			rs[i] = Result{AccountID: strconv.Itoa(k % 3), UserName: "u" + strconv.Itoa(k), UserARN: "arn" + strconv.Itoa(i)}
		}
		want := append([]Result(nil), rs...)
		slices.SortStableFunc(want, func(a, b Result) int { return compare(&a, &b) })
		Sort(rs)
		for i := range rs {
			if rs[i].UserARN != want[i].UserARN {
				t.Fatalf("n=%d: position %d holds %s, want %s", n, i, rs[i].UserARN, want[i].UserARN)
			}
		}
	}
}
