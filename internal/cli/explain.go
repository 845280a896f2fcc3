package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/iamgroups/iamgroups/internal/rule"
	"github.com/spf13/cobra"
)

func newExplainCommand(s streams) *cobra.Command {
	return &cobra.Command{
		Use:   "explain [RULE]",
		Short: "Explain a rule: what it checks, why, how to check by hand, how to fix",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return listRules(s.out)
			}
			r, err := rule.Lookup(args[0])
			if err != nil {
				return usageError(err)
			}
			return explain(s.out, r)
		},
	}
}

func listRules(w io.Writer) error {
	var b strings.Builder
	for _, r := range rule.Registry {
		fmt.Fprintf(&b, "%-8s %-7s %s\n", r.ID, r.Risk, r.Title)
	}
	b.WriteString("\nRun `iamgroups explain RULE` for the details of one rule.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func explain(w io.Writer, r *rule.Rule) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s\nRisk: %s\n\n", r.ID, r.Title, r.Risk)
	section := func(title, text string) {
		b.WriteString(title + "\n")
		b.WriteString(wrap(text, 78, "  "))
		b.WriteString("\n")
	}
	section("What it checks", r.Summary)
	section("Why it matters", r.Rationale)
	section("How to check by hand", r.HowToCheck)
	section("How to fix", r.Remediation)
	b.WriteString("Mappings\n")
	for _, a := range r.Aliases {
		fmt.Fprintf(&b, "  %-42s %s\n", a.Framework, a.Control)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// wrap breaks text into lines of at most width characters, each indented.
func wrap(text string, width int, indent string) string {
	var b strings.Builder
	line := indent
	for _, word := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(word) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += word
	}
	if len(line) > len(indent) {
		b.WriteString(line + "\n")
	}
	return b.String()
}
