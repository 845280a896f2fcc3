package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/iamgroups/iamgroups/internal/plan"
)

// planMarkdown is the plan as Markdown, for a pull request or a ticket.
type planMarkdown struct{}

// mdCell escapes text for a Markdown table cell.
func mdCell(s string) string {
	s = printable(s)
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, "|", `\|`)
	for _, c := range []string{"*", "_", "`", "<", ">", "[", "]"} {
		s = strings.ReplaceAll(s, c, `\`+c)
	}
	return s
}

func (planMarkdown) WritePlan(w io.Writer, p *plan.Plan) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "## IAM groups plan for account %s\n\n%s\n", mdCell(p.AccountID), mdCell(p.Summary()))
	if len(p.Groups) > 0 {
		bw.WriteString("\n| New group | Policies | Members |\n|---|---|---|\n")
		for _, g := range p.Groups {
			var pols []string
			for _, arn := range g.Policies {
				pols = append(pols, mdCell(policyLabel(p, arn)))
			}
			var members []string
			for _, m := range g.Members {
				members = append(members, mdCell(m))
			}
			fmt.Fprintf(bw, "| %s | %s | %s |\n", mdCell(g.Name), strings.Join(pols, "<br>"), strings.Join(members, ", "))
		}
	}
	if len(p.Users) > 0 {
		bw.WriteString("\n| User | Joins | No longer direct |\n|---|---|---|\n")
		for _, u := range p.Users {
			var joins, direct []string
			for _, g := range u.Join {
				joins = append(joins, mdCell(g))
			}
			for _, arn := range u.Detach {
				direct = append(direct, mdCell(policyName(arn)))
			}
			for _, n := range u.DeleteInline {
				direct = append(direct, mdCell(n)+" (inline)")
			}
			kept := ""
			if len(u.Keep) > 0 {
				var k []string
				for _, x := range u.Keep {
					k = append(k, mdCell(policyName(x)))
				}
				kept = " (kept, exempt: " + strings.Join(k, ", ") + ")"
			}
			fmt.Fprintf(bw, "| %s | %s | %s%s |\n", mdCell(u.Name), strings.Join(joins, ", "), strings.Join(direct, ", "), kept)
		}
	}
	if len(p.Unplanned) > 0 {
		bw.WriteString("\n| Left untouched | Reason |\n|---|---|\n")
		for _, u := range p.Unplanned {
			fmt.Fprintf(bw, "| %s | %s |\n", mdCell(u.Name), mdCell(u.Reason))
		}
	}
	return bw.Flush()
}
