package exempt

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/rule"
)

const (
	acctA = "111122223333"
	acctB = "444455556666"
)

func managed(name string) model.AttachedPolicy {
	return model.AttachedPolicy{Name: name, ARN: "arn:aws:iam::aws:policy/" + name}
}

func customer(account, path, name string) model.AttachedPolicy {
	return model.AttachedPolicy{Name: name, ARN: "arn:aws:iam::" + account + ":policy" + path + name}
}

func inline(name string) model.InlinePolicy {
	return model.InlinePolicy{Name: name, Digest: "sha256:" + name}
}

func user(account, path, name string) model.User {
	return model.User{Name: name, Path: path, ARN: "arn:aws:iam::" + account + ":user" + path + name}
}

// fixture is two accounts whose users cover every matching case, and the
// IAM-071 results for them.
func fixture() ([]*model.Account, []rule.Result) {
	a := &model.Account{ID: acctA, Partition: "aws"}
	add := func(acct *model.Account, u model.User, f func(*model.User)) {
		if f != nil {
			f(&u)
		}
		acct.Users = append(acct.Users, &u)
	}
	add(a, user(acctA, "/", "break-glass-admin"), func(u *model.User) {
		u.AttachedPolicies = []model.AttachedPolicy{managed("AdministratorAccess")}
	})
	add(a, user(acctA, "/ops/", "alice"), func(u *model.User) {
		u.AttachedPolicies = []model.AttachedPolicy{managed("ReadOnlyAccess")}
	})
	add(a, user(acctA, "/ops/eu/", "bob"), func(u *model.User) {
		u.InlinePolicies = []model.InlinePolicy{inline("bob-inline")}
	})
	add(a, user(acctA, "/", "carol"), func(u *model.User) {
		u.AttachedPolicies = []model.AttachedPolicy{managed("ReadOnlyAccess")}
		u.Tags = []model.Tag{{Key: "team", Value: "data"}, {Key: "iamgroups:exempt", Value: "true"}}
	})
	add(a, user(acctA, "/", "hank"), func(u *model.User) {
		u.AttachedPolicies = []model.AttachedPolicy{managed("ReadOnlyAccess")}
		u.Tags = []model.Tag{{Key: "iamgroups:exempt", Value: "false"}}
	})
	add(a, user(acctA, "/", "dave"), func(u *model.User) {
		u.AttachedPolicies = []model.AttachedPolicy{managed("IAMUserChangePassword")}
		u.InlinePolicies = []model.InlinePolicy{inline("ForceMFA-dave")}
	})
	add(a, user(acctA, "/", "erin"), func(u *model.User) {
		u.AttachedPolicies = []model.AttachedPolicy{managed("IAMUserChangePassword"), managed("AdministratorAccess")}
	})
	add(a, user(acctA, "/", "ivan"), func(u *model.User) {
		u.AttachedPolicies = []model.AttachedPolicy{customer(acctA, "/team/", "Deploy")}
	})
	add(a, user(acctA, "/", "ci-build"), func(u *model.User) {
		u.AttachedPolicies = []model.AttachedPolicy{managed("PowerUserAccess")}
	})
	add(a, user(acctA, "/", "frank"), nil) // PASS
	add(a, user(acctA, "/", "gina"), func(u *model.User) {
		u.Error = "AccessDenied on ListAttachedUserPolicies"
		u.AttachedPolicies = []model.AttachedPolicy{managed("AdministratorAccess")}
	})

	b := &model.Account{ID: acctB, Partition: "aws"}
	add(b, user(acctB, "/", "ci-build"), func(u *model.User) {
		u.AttachedPolicies = []model.AttachedPolicy{managed("PowerUserAccess")}
	})
	add(b, user(acctB, "/", "break-glass-admin"), func(u *model.User) {
		u.AttachedPolicies = []model.AttachedPolicy{managed("AdministratorAccess")}
	})

	accounts := []*model.Account{a, b}
	var results []rule.Result
	for _, acct := range accounts {
		results = append(results, rule.IAM071.Check(acct)...)
	}
	return accounts, results
}

// want is the expected state of one result after Apply.
type want struct {
	status    rule.Status
	exemption string // Exemption.ID; "" for none
	expired   bool   // Exemption.Expired
	// violations are the IDs of the exemptions the violations carry, in
	// order; "" for none and a "!" prefix for an expired one. nil: none.
	violations []string
	suffix     string // appended to the message
}

func key(r *rule.Result) string { return r.AccountID + "/" + r.UserName }

func TestApply(t *testing.T) {
	midMarch := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		config   string
		now      time.Time
		want     map[string]want // results not listed must not change
		warnings []string
	}{
		{
			name:   "name glob matches the name in every account",
			config: "exemptions:\n- users: [break-glass-*]\n  reason: emergency\n",
			want: map[string]want{
				acctA + "/break-glass-admin": {status: rule.Exempt, exemption: "#1 users: break-glass-*"},
				acctB + "/break-glass-admin": {status: rule.Exempt, exemption: "#1 users: break-glass-*"},
			},
		},
		{
			name:   "name glob does not match the path",
			config: "exemptions:\n- users: [alice, 'ops*']\n  reason: r\n",
			want: map[string]want{
				acctA + "/alice": {status: rule.Exempt, exemption: "#1 users: alice, ops*"},
			},
		},
		{
			name:   "ARN glob matches every user, whatever the path",
			config: "exemptions:\n- users: ['arn:aws:iam::*:user/*']\n  reason: r\n",
			want: func() map[string]want {
				m := map[string]want{}
				for _, n := range []string{"break-glass-admin", "alice", "bob", "carol", "hank", "dave", "erin", "ivan", "ci-build"} {
					m[acctA+"/"+n] = want{status: rule.Exempt, exemption: "#1 users: arn:aws:iam::*:user/*"}
				}
				m[acctB+"/ci-build"] = want{status: rule.Exempt, exemption: "#1 users: arn:aws:iam::*:user/*"}
				m[acctB+"/break-glass-admin"] = want{status: rule.Exempt, exemption: "#1 users: arn:aws:iam::*:user/*"}
				return m
			}(),
		},
		{
			name:   "ARN glob by path includes deeper paths",
			config: "exemptions:\n- users: ['arn:aws:iam::111122223333:user/ops/*']\n  reason: r\n",
			want: map[string]want{
				acctA + "/alice": {status: rule.Exempt, exemption: "#1 users: arn:aws:iam::111122223333:user/ops/*"},
				acctA + "/bob":   {status: rule.Exempt, exemption: "#1 users: arn:aws:iam::111122223333:user/ops/*"},
			},
		},
		{
			name:   "ARN glob with ? and a class",
			config: "exemptions:\n- users: ['arn:aws:iam::[14]1??22223333:user?ops?alic[a-e]']\n  reason: r\n",
			want: map[string]want{
				acctA + "/alice": {status: rule.Exempt, exemption: "#1 users: arn:aws:iam::[14]1??22223333:user?ops?alic[a-e]"},
			},
		},
		{
			name:   "an ARN without the path does not match a user with a path",
			config: "exemptions:\n- users: ['arn:aws:iam::111122223333:user/alice']\n  reason: r\n",
			want:   map[string]want{},
		},
		{
			name:   "tag match needs the value too",
			config: "exemptions:\n- tags: ['iamgroups:exempt=true', 'team=platform']\n  reason: r\n",
			want: map[string]want{
				acctA + "/carol": {status: rule.Exempt, exemption: "#1 tags: iamgroups:exempt=true, team=platform"},
			},
		},
		{
			name:   "users AND tags",
			config: "exemptions:\n- users: [carol, hank, alice]\n  tags: ['iamgroups:exempt=true']\n  reason: r\n",
			want: map[string]want{
				acctA + "/carol": {status: rule.Exempt, exemption: "#1 users: carol, hank, alice; tags: iamgroups:exempt=true"},
			},
		},
		{
			name:   "account restriction",
			config: "exemptions:\n- accounts: ['111122223333']\n  users: [ci-*]\n  reason: r\n",
			want: map[string]want{
				acctA + "/ci-build": {status: rule.Exempt, exemption: "#1 users: ci-*; accounts: 111122223333"},
			},
		},
		{
			name:   "policies cover all of one user and part of another",
			config: "exemptions:\n- policies: ['arn:aws:iam::aws:policy/IAMUserChangePassword', 'ForceMFA*']\n  reason: self-service\n",
			want: map[string]want{
				acctA + "/dave": {status: rule.Exempt, exemption: "#1 policies: arn:aws:iam::aws:policy/IAMUserChangePassword, ForceMFA*",
					violations: []string{"#1 policies: arn:aws:iam::aws:policy/IAMUserChangePassword, ForceMFA*", "#1 policies: arn:aws:iam::aws:policy/IAMUserChangePassword, ForceMFA*"}},
				acctA + "/erin": {status: rule.Fail,
					violations: []string{"#1 policies: arn:aws:iam::aws:policy/IAMUserChangePassword, ForceMFA*", ""}},
			},
		},
		{
			name: "several policy entries together cover a user; the first is the result's",
			config: "exemptions:\n- policies: [IAMUserChangePassword]\n  reason: a\n" +
				"- policies: [ForceMFA-*]\n  reason: b\n",
			want: map[string]want{
				acctA + "/dave": {status: rule.Exempt, exemption: "#1 policies: IAMUserChangePassword",
					violations: []string{"#1 policies: IAMUserChangePassword", "#2 policies: ForceMFA-*"}},
				acctA + "/erin": {status: rule.Fail, violations: []string{"#1 policies: IAMUserChangePassword", ""}},
			},
		},
		{
			name:   "a policy ARN glob does not match an inline policy; a name glob does",
			config: "exemptions:\n- policies: ['arn:aws:iam::*:policy/bob-inline']\n  reason: a\n- policies: ['*-inline']\n  users: [bob]\n  reason: b\n",
			want: map[string]want{
				acctA + "/bob": {status: rule.Exempt, exemption: "#2 users: bob; policies: *-inline",
					violations: []string{"#2 users: bob; policies: *-inline"}},
			},
		},
		{
			name:   "a policy ARN glob crosses the policy path",
			config: "exemptions:\n- policies: ['arn:aws:iam::111122223333:policy/*']\n  reason: r\n",
			want: map[string]want{
				acctA + "/ivan": {status: rule.Exempt, exemption: "#1 policies: arn:aws:iam::111122223333:policy/*",
					violations: []string{"#1 policies: arn:aws:iam::111122223333:policy/*"}},
			},
		},
		{
			name:   "policies restricted to users",
			config: "exemptions:\n- users: [erin]\n  policies: [AdministratorAccess]\n  reason: r\n",
			want: map[string]want{
				acctA + "/erin": {status: rule.Fail, violations: []string{"", "#1 users: erin; policies: AdministratorAccess"}},
			},
		},
		{
			name: "first matching entry wins",
			config: "exemptions:\n- users: [alice]\n  reason: a\n" +
				"- users: ['arn:aws:iam::*:user/ops/*']\n  reason: b\n",
			want: map[string]want{
				acctA + "/alice": {status: rule.Exempt, exemption: "#1 users: alice"},
				acctA + "/bob":   {status: rule.Exempt, exemption: "#2 users: arn:aws:iam::*:user/ops/*"},
			},
		},
		{
			name: "a whole-user entry makes a partly covered user exempt",
			config: "exemptions:\n- policies: [IAMUserChangePassword]\n  reason: a\n" +
				"- users: [erin, dave]\n  reason: b\n",
			want: map[string]want{
				// dave is fully covered by #1, which comes first.
				acctA + "/dave": {status: rule.Exempt, exemption: "#2 users: erin, dave", violations: []string{"#1 policies: IAMUserChangePassword", ""}},
				acctA + "/erin": {status: rule.Exempt, exemption: "#2 users: erin, dave", violations: []string{"#1 policies: IAMUserChangePassword", ""}},
			},
		},
		{
			name: "full policy coverage before a whole-user entry wins",
			config: "exemptions:\n- policies: [IAMUserChangePassword, ForceMFA*]\n  reason: a\n" +
				"- users: [dave]\n  reason: b\n",
			want: map[string]want{
				acctA + "/dave": {status: rule.Exempt, exemption: "#1 policies: IAMUserChangePassword, ForceMFA*",
					violations: []string{"#1 policies: IAMUserChangePassword, ForceMFA*", "#1 policies: IAMUserChangePassword, ForceMFA*"}},
				acctA + "/erin": {status: rule.Fail, violations: []string{"#1 policies: IAMUserChangePassword, ForceMFA*", ""}},
			},
		},
		{
			name:   "expires today still applies",
			config: "exemptions:\n- users: [alice]\n  reason: r\n  expires: 2026-03-15\n",
			now:    time.Date(2026, 3, 15, 23, 59, 59, 0, time.UTC),
			want: map[string]want{
				acctA + "/alice": {status: rule.Exempt, exemption: "#1 users: alice"},
			},
		},
		{
			name:   "today is the UTC day, not the local one",
			config: "exemptions:\n- users: [alice]\n  reason: r\n  expires: 2026-03-15\n",
			now:    time.Date(2026, 3, 16, 1, 0, 0, 0, time.FixedZone("UTC+5", 5*3600)),
			want: map[string]want{
				acctA + "/alice": {status: rule.Exempt, exemption: "#1 users: alice"},
			},
		},
		{
			name:   "expired yesterday no longer applies",
			config: "exemptions:\n- users: [alice]\n  reason: r\n  expires: 2026-03-14\n",
			now:    time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC),
			want: map[string]want{
				acctA + "/alice": {status: rule.Fail, exemption: "#1 users: alice", expired: true,
					suffix: " (exemption #1 users: alice expired 2026-03-14)"},
			},
			warnings: []string{"exemption #1 (users: alice) expired on 2026-03-14; it no longer applies"},
		},
		{
			name: "expired entry: one warning for all the users it matched",
			config: "exemptions:\n- users: [nobody]\n  reason: a\n" +
				"- users: [break-glass-*]\n  reason: b\n  expires: 2026-01-31\n",
			want: map[string]want{
				acctA + "/break-glass-admin": {status: rule.Fail, exemption: "#2 users: break-glass-*", expired: true,
					suffix: " (exemption #2 users: break-glass-* expired 2026-01-31)"},
				acctB + "/break-glass-admin": {status: rule.Fail, exemption: "#2 users: break-glass-*", expired: true,
					suffix: " (exemption #2 users: break-glass-* expired 2026-01-31)"},
			},
			warnings: []string{"exemption #2 (users: break-glass-*) expired on 2026-01-31; it no longer applies"},
		},
		{
			name: "an expired entry gives way to a live one but is still reported",
			config: "exemptions:\n- users: [alice]\n  reason: a\n  expires: 2026-01-31\n" +
				"- users: ['arn:aws:iam::*:user/ops/*']\n  reason: b\n  expires: 2027-01-31\n",
			want: map[string]want{
				acctA + "/alice": {status: rule.Exempt, exemption: "#2 users: arn:aws:iam::*:user/ops/*"},
				acctA + "/bob":   {status: rule.Exempt, exemption: "#2 users: arn:aws:iam::*:user/ops/*"},
			},
			warnings: []string{"exemption #1 (users: alice) expired on 2026-01-31; it no longer applies"},
		},
		{
			name:   "expired policy entry marks the violations it would have covered",
			config: "exemptions:\n- policies: [IAMUserChangePassword, ForceMFA*]\n  reason: r\n  expires: 2026-03-01\n",
			want: map[string]want{
				acctA + "/dave": {status: rule.Fail, exemption: "#1 policies: IAMUserChangePassword, ForceMFA*", expired: true,
					violations: []string{"!#1 policies: IAMUserChangePassword, ForceMFA*", "!#1 policies: IAMUserChangePassword, ForceMFA*"},
					suffix:     " (exemption #1 policies: IAMUserChangePassword, ForceMFA* expired 2026-03-01)"},
				acctA + "/erin": {status: rule.Fail, exemption: "#1 policies: IAMUserChangePassword, ForceMFA*", expired: true,
					violations: []string{"!#1 policies: IAMUserChangePassword, ForceMFA*", ""},
					suffix:     " (exemption #1 policies: IAMUserChangePassword, ForceMFA* expired 2026-03-01)"},
			},
			warnings: []string{"exemption #1 (policies: IAMUserChangePassword, ForceMFA*) expired on 2026-03-01; it no longer applies"},
		},
		{
			// erin's only violation #2 names is covered by #1: the expiry
			// changes nothing for her, so her result does not mention it.
			name: "a live policy entry and an expired one on the same user",
			config: "exemptions:\n- policies: [IAMUserChangePassword]\n  reason: a\n" +
				"- policies: [ForceMFA*, IAMUserChangePassword]\n  reason: b\n  expires: 2026-03-01\n",
			want: map[string]want{
				acctA + "/dave": {status: rule.Fail, exemption: "#2 policies: ForceMFA*, IAMUserChangePassword", expired: true,
					violations: []string{"#1 policies: IAMUserChangePassword", "!#2 policies: ForceMFA*, IAMUserChangePassword"},
					suffix:     " (exemption #2 policies: ForceMFA*, IAMUserChangePassword expired 2026-03-01)"},
				acctA + "/erin": {status: rule.Fail, violations: []string{"#1 policies: IAMUserChangePassword", ""}},
			},
			warnings: []string{"exemption #2 (policies: ForceMFA*, IAMUserChangePassword) expired on 2026-03-01; it no longer applies"},
		},
		{
			name: "expired entries that match no FAIL user give no warning",
			config: "exemptions:\n- users: [nobody]\n  reason: a\n  expires: 2026-01-01\n" +
				"- users: [frank, gina]\n  reason: b\n  expires: 2026-01-01\n" +
				"- users: [erin]\n  policies: [ReadOnlyAccess]\n  reason: c\n  expires: 2026-01-01\n",
			want: map[string]want{},
		},
		{
			name:   "PASS and ERROR results are never changed",
			config: "exemptions:\n- users: [frank, gina]\n  reason: r\n- policies: ['*']\n  reason: r\n  users: [frank, gina]\n",
			want:   map[string]want{},
		},
		{
			name:   "an empty config changes nothing",
			config: "# nothing\n",
			want:   map[string]want{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tt.config), "config.yaml")
			if err != nil {
				t.Fatal(err)
			}
			accounts, results := fixture()
			_, before := fixture()
			now := tt.now
			if now.IsZero() {
				now = midMarch
			}
			warnings := cfg.Apply(accounts, results, now)
			if !slices.Equal(warnings, tt.warnings) {
				t.Errorf("warnings =\n%q\nwant\n%q", warnings, tt.warnings)
			}
			seen := map[string]bool{}
			for i := range results {
				r, orig := &results[i], &before[i]
				k := key(r)
				w, ok := tt.want[k]
				if !ok {
					if !reflect.DeepEqual(r, orig) {
						t.Errorf("%s changed:\n%+v\nwas\n%+v", k, r, orig)
					}
					continue
				}
				seen[k] = true
				checkResult(t, k, r, orig, cfg, w)
			}
			for k := range tt.want {
				if !seen[k] {
					t.Errorf("no result for %s", k)
				}
			}
		})
	}
}

func checkResult(t *testing.T, k string, r, orig *rule.Result, cfg *Config, w want) {
	t.Helper()
	if r.Status != w.status {
		t.Errorf("%s: status %s, want %s", k, r.Status, w.status)
	}
	if w.exemption == "" {
		if r.Exemption != nil {
			t.Errorf("%s: exemption %+v, want none", k, r.Exemption)
		}
	} else {
		wantEx := exemptionFor(cfg, w.exemption, w.expired)
		if !reflect.DeepEqual(r.Exemption, wantEx) {
			t.Errorf("%s: exemption %+v, want %+v", k, r.Exemption, wantEx)
		}
	}
	if r.Message != orig.Message+w.suffix {
		t.Errorf("%s: message %q, want %q", k, r.Message, orig.Message+w.suffix)
	}
	if len(r.Violations) != len(orig.Violations) {
		t.Fatalf("%s: %d violations, was %d", k, len(r.Violations), len(orig.Violations))
	}
	for j, v := range r.Violations {
		wantID := ""
		if j < len(w.violations) {
			wantID = w.violations[j]
		}
		var wantEx *rule.Exemption
		if wantID != "" {
			wantEx = exemptionFor(cfg, strings.TrimPrefix(wantID, "!"), strings.HasPrefix(wantID, "!"))
		}
		if !reflect.DeepEqual(v.Exemption, wantEx) {
			t.Errorf("%s: violation %s exemption %+v, want %+v", k, v.Name, v.Exemption, wantEx)
		}
		v.Exemption = nil
		if !reflect.DeepEqual(v, orig.Violations[j]) {
			t.Errorf("%s: violation %d changed: %+v, was %+v", k, j, v, orig.Violations[j])
		}
	}
	// Nothing else may change.
	got, was := *r, *orig
	got.Status, got.Exemption, got.Message, got.Violations = was.Status, was.Exemption, was.Message, was.Violations
	if !reflect.DeepEqual(got, was) {
		t.Errorf("%s: other fields changed:\n%+v\nwas\n%+v", k, got, was)
	}
}

// exemptionFor builds the rule.Exemption for the entry whose ID is id.
func exemptionFor(cfg *Config, id string, expired bool) *rule.Exemption {
	var n int
	if _, err := fmt.Sscanf(id, "#%d", &n); err != nil || n < 1 || n > len(cfg.Exemptions) {
		return &rule.Exemption{ID: "bad test ID " + id}
	}
	e := cfg.Exemptions[n-1]
	return &rule.Exemption{ID: id, Reason: e.Reason, Expires: e.Expires, Expired: expired}
}

func TestApplyNilConfig(t *testing.T) {
	accounts, results := fixture()
	_, before := fixture()
	var cfg *Config
	if w := cfg.Apply(accounts, results, time.Now()); w != nil {
		t.Errorf("warnings %q from a nil config", w)
	}
	if !reflect.DeepEqual(results, before) {
		t.Error("a nil config changed the results")
	}
}

func TestApplyUserNotInAccounts(t *testing.T) {
	// A result whose user the accounts do not hold is matched by the name
	// and ARN it carries; its tags are unknown, so no tag matches it.
	results := []rule.Result{
		{Status: rule.Fail, AccountID: acctA, UserName: "zed", UserARN: "arn:aws:iam::" + acctA + ":user/zed", Message: "m"},
		{Status: rule.Fail, AccountID: acctA, UserName: "carol", UserARN: "arn:aws:iam::" + acctA + ":user/carol", Message: "m"},
	}
	cfg := &Config{Exemptions: []Exemption{
		{Tags: []string{"iamgroups:exempt=true"}, Reason: "tag"},
		{Users: []string{"arn:aws:iam::*:user/zed"}, Reason: "arn"},
	}}
	cfg.Apply([]*model.Account{nil, {ID: acctA}}, results, time.Now())
	if results[0].Status != rule.Exempt || results[0].Exemption.ID != "#2 users: arn:aws:iam::*:user/zed" {
		t.Errorf("zed: %+v", results[0])
	}
	if results[1].Status != rule.Fail || results[1].Exemption != nil {
		t.Errorf("carol: %+v", results[1])
	}
}

func TestApplyConfigBuiltInCode(t *testing.T) {
	// Entries the parser would refuse never exempt anyone.
	accounts, results := fixture()
	_, before := fixture()
	cfg := &Config{Exemptions: []Exemption{
		{Reason: "selects nothing"},
		{Accounts: []string{acctA}, Reason: "accounts alone"},
		{Users: []string{"arn:aws:iam::*:user/["}, Reason: "bad glob"},
		{Users: []string{"["}, Reason: "bad glob"},
		{Policies: []string{"arn:[", "["}, Reason: "bad glob"},
	}}
	if w := cfg.Apply(accounts, results, time.Now()); w != nil {
		t.Errorf("warnings %q", w)
	}
	if !reflect.DeepEqual(results, before) {
		t.Error("invalid entries changed the results")
	}
}

func TestApplyTwice(t *testing.T) {
	cfg, err := Parse([]byte("exemptions:\n- users: [alice]\n  reason: r\n  expires: 2026-01-01\n- users: [bob]\n  reason: r\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	accounts, results := fixture()
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	cfg.Apply(accounts, results, now)
	once := slices.Clone(results)
	w := cfg.Apply(accounts, results, now)
	if !reflect.DeepEqual(results, once) {
		t.Error("a second Apply changed the results")
	}
	if len(w) != 1 {
		t.Errorf("warnings %q, want one", w)
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		e    Exemption
		want string
	}{
		{Exemption{Users: []string{"a"}}, "users: a"},
		{Exemption{Users: []string{"a", "b", "c", "d", "e"}}, "users: a, b, c (+2 more)"},
		{Exemption{Accounts: []string{acctA}, Policies: []string{"P"}, Tags: []string{"k=v"}, Users: []string{"u"}},
			"users: u; tags: k=v; policies: P; accounts: " + acctA},
		{Exemption{}, ""},
	}
	for _, tt := range tests {
		if got := tt.e.Describe(); got != tt.want {
			t.Errorf("Describe(%+v) = %q, want %q", tt.e, got, tt.want)
		}
	}
}

func TestExpiredOn(t *testing.T) {
	e := Exemption{Expires: "2026-03-15"}
	tests := []struct {
		now  time.Time
		want bool
	}{
		{time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC), false},
		{time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC), false},
		{time.Date(2026, 3, 15, 23, 59, 59, 999999999, time.UTC), false},
		{time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC), true},
		{time.Date(2026, 3, 15, 20, 0, 0, 0, time.FixedZone("UTC-5", -5*3600)), true}, // 2026-03-16 01:00 UTC
		{time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), true},
	}
	for _, tt := range tests {
		if got := e.ExpiredOn(tt.now); got != tt.want {
			t.Errorf("ExpiredOn(%s) = %v, want %v", tt.now, got, tt.want)
		}
	}
	if (&Exemption{}).ExpiredOn(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("an exemption without expires expired")
	}
}
