package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/iamgroups/iamgroups/internal/plan"
)

// planText is the summary a reviewer reads: what is created, who joins
// what, what each user loses directly, and who is left out and why.
type planText struct{}

func (planText) WritePlan(w io.Writer, p *plan.Plan) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "Account %s\n%s\n", p.AccountID, p.Summary())
	if p.Stats.NewGroups > 0 {
		fmt.Fprintf(bw, "New groups: %d (at least %d are needed: optimality gap %d).\n",
			p.Stats.NewGroups, p.Stats.LowerBound, p.Stats.NewGroups-p.Stats.LowerBound)
	}
	if len(p.Policies) > 0 {
		bw.WriteString("\nPolicies to create (from inline documents):\n")
		for _, pol := range p.Policies {
			fmt.Fprintf(bw, "  %s%s  %s\n", pol.Path, printable(pol.Name), printable(pol.Description))
		}
	}
	if len(p.Groups) > 0 {
		bw.WriteString("\nGroups to create:\n")
		for _, g := range p.Groups {
			fmt.Fprintf(bw, "  %s\n", printable(g.Name))
			var pols []string
			for _, arn := range g.Policies {
				pols = append(pols, policyLabel(p, arn))
			}
			fmt.Fprintf(bw, "    policies: %s\n", printable(strings.Join(pols, ", ")))
			fmt.Fprintf(bw, "    members:  %s\n", printable(strings.Join(g.Members, ", ")))
		}
	}
	if len(p.Users) > 0 {
		bw.WriteString("\nUsers:\n")
		for _, u := range p.Users {
			var direct []string
			for _, arn := range u.Detach {
				direct = append(direct, policyName(arn))
			}
			for _, n := range u.DeleteInline {
				direct = append(direct, n+" (inline)")
			}
			fmt.Fprintf(bw, "  %s\n    joins: %s\n    no longer direct: %s\n", printable(u.Name),
				printable(listOrDash(u.Join)), printable(strings.Join(direct, ", ")))
			if len(u.Keep) > 0 {
				fmt.Fprintf(bw, "    kept direct (exempt): %s\n", printable(strings.Join(u.Keep, ", ")))
			}
		}
	}
	if len(p.Unplanned) > 0 {
		bw.WriteString("\nLeft untouched:\n")
		for _, u := range p.Unplanned {
			fmt.Fprintf(bw, "  %s: %s\n", printable(u.Name), printable(u.Reason))
		}
	}
	return bw.Flush()
}
