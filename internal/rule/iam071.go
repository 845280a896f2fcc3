package rule

import (
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/iamgroups/iamgroups/internal/model"
)

const (
	iam071ID   = "IAM-071"
	iam071Risk = Medium
)

// IAM071 is "IAM users receive permissions only through IAM groups".
var IAM071 = Rule{
	ID:    iam071ID,
	Title: "Receive permissions via IAM groups only",
	Risk:  iam071Risk,
	Summary: "An IAM user must hold no policy of its own: no managed policy attached " +
		"to the user and no inline user policy. Its permissions come from the groups it joins.",
	Rationale: "Permissions given user by user drift: two people with the same job end up " +
		"with different rights, a leaver's exceptions are forgotten, and nobody can answer " +
		"\"who can do X?\" without reading every user. Groups name a job function once, so " +
		"granting, reviewing and revoking access is done in one place and audits compare " +
		"groups, not thousands of users. A permissions boundary grants nothing, so it is " +
		"not a direct policy; group membership alone never makes a user pass if it also " +
		"holds a policy of its own.",
	HowToCheck: "For each user: aws iam list-attached-user-policies --user-name NAME and " +
		"aws iam list-user-policies --user-name NAME must both return empty lists. " +
		"For a whole account in one call: aws iam get-account-authorization-details " +
		"--filter User, then look for users whose AttachedManagedPolicies or " +
		"UserPolicyList is not empty.",
	Remediation: "Create a group per job function, attach the policies to the group (turn " +
		"inline policies into customer managed policies first), add the users, check that " +
		"each user still has exactly the access it needs, then detach the user's managed " +
		"policies and delete its inline policies. `iamgroups plan` designs those groups so " +
		"that nobody gains or loses a permission, and `iamgroups apply` carries the plan " +
		"out with a backup and a rollback.",
	Aliases: []Alias{
		{"CIS AWS Foundations v1.2", "1.16"},
		{"CIS AWS Foundations v1.4", "1.15"},
		{"CIS AWS Foundations v1.5", "1.15"},
		{"CIS AWS Foundations v2.0", "1.15"},
		{"CIS AWS Foundations v3.0", "1.15"},
		{"CIS AWS Foundations v4.0", "1.15"},
		{"CIS AWS Foundations v5.0", "1.14"},
		{"AWS Foundational Security Best Practices", "IAM.2"},
		{"AWS Config", "iam-user-no-policies-check"},
		{"NIST 800-53 r5", "AC-2"},
		{"NIST 800-53 r5", "AC-2(1)"},
		{"NIST 800-53 r5", "AC-3"},
		{"NIST 800-53 r5", "AC-3(7)"},
		{"NIST 800-53 r5", "AC-3(15)"},
		{"NIST 800-53 r5", "AC-6"},
		{"NIST 800-53 r5", "AC-6(3)"},
		{"PCI DSS v3.2.1", "7.2.1"},
		{"Trend Micro Conformity", "IAM-071"},
		{"Trivy", "AVD-AWS-0143"},
		{"Checkov", "CKV_AWS_40"},
	},
	Check: checkIAM071,
}

// parallelUsers is the account size from which users are evaluated on
// several CPUs (an Organization's snapshot holds hundreds of thousands).
const parallelUsers = 8192

func checkIAM071(a *model.Account) []Result {
	if a.Error != "" {
		// No user of the account could be evaluated: one ERROR result
		// stands for all of them.
		return []Result{{RuleID: iam071ID, Risk: iam071Risk, Status: Error, AccountID: a.ID,
			Message: "account could not be audited: " + a.Error}}
	}
	results := make([]Result, len(a.Users))
	n := runtime.GOMAXPROCS(0)
	if len(a.Users) < parallelUsers || n < 2 {
		evaluateUsers(a, a.Users, results)
		return results
	}
	var wg sync.WaitGroup
	for w := range n {
		lo, hi := w*len(a.Users)/n, (w+1)*len(a.Users)/n
		wg.Go(func() { evaluateUsers(a, a.Users[lo:hi], results[lo:hi]) })
	}
	wg.Wait()
	return results
}

// evaluateUsers fills results[i] for users[i]. The violations of all the
// users share one allocation.
func evaluateUsers(a *model.Account, users []*model.User, results []Result) {
	total := 0
	for _, u := range users {
		total += u.DirectPolicyCount()
	}
	arena := make([]Violation, 0, total)
	for i, u := range users {
		results[i] = evaluateUser(a, u, &arena)
	}
}

func evaluateUser(a *model.Account, u *model.User, arena *[]Violation) Result {
	r := Result{
		RuleID:              iam071ID,
		Risk:                iam071Risk,
		AccountID:           a.ID,
		UserName:            u.Name,
		UserARN:             u.ARN,
		Groups:              u.Groups,
		PermissionsBoundary: u.PermissionsBoundary,
		Location:            u.Location,
	}
	if u.Error != "" {
		r.Status = Error
		r.Message = "could not be evaluated: " + u.Error
		return r
	}
	if u.DirectPolicyCount() == 0 {
		r.Status = Pass
		r.Message = "no direct policies"
		return r
	}
	start := len(*arena)
	for _, p := range u.AttachedPolicies {
		*arena = append(*arena, Violation{Kind: "managed", Name: p.Name, ARN: p.ARN, Location: p.Location, Note: p.Note})
	}
	for _, p := range u.InlinePolicies {
		*arena = append(*arena, Violation{Kind: "inline", Name: p.Name, Digest: p.Digest, Location: p.Location, Note: p.Note})
	}
	r.Violations = (*arena)[start:len(*arena):len(*arena)]
	r.Status = Fail
	r.Message = FailMessage(r.Violations)
	return r
}

// failMessages caches the messages for the common numbers of direct
// policies, so that a large account does not build one string per user.
var failMessages = func() (m [8][8]string) {
	for i := range m {
		for j := range m[i] {
			m[i][j] = failMessage(i, j)
		}
	}
	return m
}()

// FailMessage summarises the direct policies of a failing user; the
// policies themselves are listed in the result's violations.
func FailMessage(vs []Violation) string {
	managed := 0
	for _, v := range vs {
		if v.Kind == "managed" {
			managed++
		}
	}
	inline := len(vs) - managed
	if managed < len(failMessages) && inline < len(failMessages[0]) {
		return failMessages[managed][inline]
	}
	return failMessage(managed, inline)
}

func failMessage(managed, inline int) string {
	var parts []string
	if managed > 0 {
		parts = append(parts, plural(managed, "managed policy", "managed policies"))
	}
	if inline > 0 {
		parts = append(parts, plural(inline, "inline policy", "inline policies"))
	}
	return "holds " + strings.Join(parts, " and ") + " directly"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
