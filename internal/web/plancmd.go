package web

import (
	"strings"

	"github.com/iamgroups/iamgroups/internal/shellword"
)

// defaultOrgRole is the role Organizations creates in member accounts; the
// same default as `iamgroups audit --org-role-name`.
const defaultOrgRole = "OrganizationAccountAccessRole"

// auditOnlyFlags are flags of `audit --org` that `plan` does not take,
// with whether each takes a value.
var auditOnlyFlags = map[string]bool{
	"--org":           false,
	"--org-role-name": true,
	"--accounts":      true,
	"--concurrency":   true,
}

// planCommand is the `iamgroups plan` command that designs the fix for
// one account of a target, shell-quoted, ready to paste.
//
// plan reads one account. For an account of an Organization target it
// assumes the Organization's role in that account (--role-arn
// arn:aws:iam::ID:role/NAME) with the credentials that reach the
// management account, in place of any --role-arn the target uses to reach
// the management account itself.
func planCommand(t Target, account string) string {
	args := []string{"iamgroups", "plan"}
	role := t.OrgRoleName
	org := t.Org
	for i := 0; i < len(t.Flags); i++ {
		f := t.Flags[i]
		name, value, hasValue := strings.Cut(f, "=")
		takesValue, auditOnly := auditOnlyFlags[name]
		if auditOnly {
			if name == "--org" {
				org = true
			}
			if takesValue && !hasValue && i+1 < len(t.Flags) {
				i++
				value = t.Flags[i]
			}
			if name == "--org-role-name" && role == "" {
				role = value
			}
			continue
		}
		args = append(args, f)
	}
	out := "plan.json"
	if org {
		args = withoutRole(args)
		if role == "" {
			role = defaultOrgRole
		}
		args = append(args, "--role-arn", "arn:aws:iam::"+account+":role/"+role)
		out = "plan-" + account + ".json"
	}
	args = append(args, "--out", out)
	for i, a := range args {
		args[i] = shellword.Quote(a)
	}
	return strings.Join(args, " ")
}

// withoutRole drops --role-arn and --external-id (and their values).
func withoutRole(args []string) []string {
	out := args[:0:0]
	for i := 0; i < len(args); i++ {
		name, _, hasValue := strings.Cut(args[i], "=")
		if name == "--role-arn" || name == "--external-id" {
			if !hasValue {
				i++
			}
			continue
		}
		out = append(out, args[i])
	}
	return out
}
