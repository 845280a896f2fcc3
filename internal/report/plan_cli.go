package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/iamgroups/iamgroups/internal/plan"
)

// planCLI is a bash script of plain `aws iam` calls in the plan's order:
// additive steps, then removals. No endpoint or profile is baked in, so
// the standard AWS environment applies; every value is shell-quoted.
type planCLI struct{}

// shellQuote quotes s for bash: single quotes, with each ' written '\”.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func (planCLI) WritePlan(w io.Writer, p *plan.Plan) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "#!/usr/bin/env bash\n# %s\n# Account %s. Additive steps first; the removals at the end run only if\n# everything before them succeeded. Review it before running it: a script\n# keeps no backup; save the account first with `iamgroups snapshot`.\nset -euo pipefail\n", p.Summary(), p.AccountID)
	fmt.Fprintf(bw, "\nactual=$(aws sts get-caller-identity --query Account --output text)\n"+
		"if [ \"$actual\" != %s ]; then echo \"these credentials are for account $actual, not %s\" >&2; exit 1; fi\n",
		shellQuote(p.AccountID), p.AccountID)
	docs := map[string]plan.Policy{}
	for _, pol := range p.Policies {
		docs[pol.Name] = pol
	}
	var paths = map[string]string{}
	for _, g := range p.Groups {
		paths[g.Name] = g.Path
	}
	section := ""
	for _, a := range p.Actions {
		title := map[string]string{
			plan.OpCreatePolicy: "Create the policies", plan.OpCreateGroup: "Create the groups",
			plan.OpAttachGroup: "Attach policies to the new groups", plan.OpAddUser: "Add users to groups",
			plan.OpDetachUserPolicy: "Detach users' managed policies", plan.OpDeleteUserPolicy: "Delete users' inline policies",
		}[a.Op]
		if title != section {
			fmt.Fprintf(bw, "\n# %s\n", title)
			section = title
		}
		switch a.Op {
		case plan.OpCreatePolicy:
			pol := docs[a.PolicyName]
			fmt.Fprintf(bw, "aws iam create-policy --policy-name %s --path %s --description %s --policy-document %s > /dev/null\n",
				shellQuote(pol.Name), shellQuote(pol.Path), shellQuote(pol.Description), shellQuote(pol.Document))
		case plan.OpCreateGroup:
			fmt.Fprintf(bw, "aws iam create-group --group-name %s --path %s > /dev/null\n", shellQuote(a.Group), shellQuote(paths[a.Group]))
		case plan.OpAttachGroup:
			fmt.Fprintf(bw, "aws iam attach-group-policy --group-name %s --policy-arn %s\n", shellQuote(a.Group), shellQuote(a.PolicyARN))
		case plan.OpAddUser:
			fmt.Fprintf(bw, "aws iam add-user-to-group --user-name %s --group-name %s\n", shellQuote(a.User), shellQuote(a.Group))
		case plan.OpDetachUserPolicy:
			fmt.Fprintf(bw, "aws iam detach-user-policy --user-name %s --policy-arn %s\n", shellQuote(a.User), shellQuote(a.PolicyARN))
		case plan.OpDeleteUserPolicy:
			fmt.Fprintf(bw, "aws iam delete-user-policy --user-name %s --policy-name %s\n", shellQuote(a.User), shellQuote(a.PolicyName))
		default:
			return fmt.Errorf("write plan script: unknown action %q", a.Op)
		}
	}
	return bw.Flush()
}
