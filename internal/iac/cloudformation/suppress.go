package cloudformation

import (
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/iamgroups/iamgroups/internal/iac"
)

// Rule is the rule this package reports for.
const Rule = "IAM-071"

// suppression reads a resource's Metadata.iamgroups. It returns the
// suppression for IAM-071, or a note saying why one that was written is
// not applied.
func suppression(meta *yaml.Node) (*iac.Suppression, string) {
	ig := get(meta, "iamgroups")
	if ig == nil {
		return nil, ""
	}
	var entries []*yaml.Node
	switch ig.Kind {
	case yaml.ScalarNode:
		entries = []*yaml.Node{ig}
	case yaml.SequenceNode:
		entries = ig.Content
	case yaml.MappingNode:
		ign := get(ig, "ignore")
		switch {
		case ign == nil:
		case ign.Kind == yaml.SequenceNode:
			entries = ign.Content
		default:
			entries = []*yaml.Node{ign}
		}
	}
	var note string
	for _, e := range entries {
		e = deref(e)
		if e == nil {
			continue
		}
		var sp *iac.Suppression
		switch e.Kind {
		case yaml.ScalarNode:
			sp = parseSuppressionString(e.Value)
		case yaml.MappingNode:
			sp = &iac.Suppression{}
			sp.Rule, _ = literal(get(e, "rule"))
			sp.Reason, _ = literal(get(e, "reason"))
			sp.Expires, _ = literal(get(e, "expires"))
		}
		if sp == nil || !strings.EqualFold(sp.Rule, Rule) {
			continue
		}
		sp.Rule = Rule
		sp.Reason = strings.TrimSpace(sp.Reason)
		sp.Expires = strings.TrimSpace(sp.Expires)
		sp.Line = e.Line
		if sp.Reason == "" {
			note = "suppression ignored: it gives no reason"
			continue
		}
		if sp.Expires != "" {
			if _, err := time.Parse(time.DateOnly, sp.Expires); err != nil {
				note = "suppression ignored: expiry " + sp.Expires + " is not YYYY-MM-DD"
				continue
			}
		}
		return sp, ""
	}
	return nil, note
}

// parseSuppressionString reads "ignore IAM-071 <reason> [exp:YYYY-MM-DD]"
// (an optional "iamgroups:" prefix, brackets around the expiry optional).
func parseSuppressionString(s string) *iac.Suppression {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "iamgroups:")
	f := strings.Fields(s)
	if len(f) < 2 || !strings.EqualFold(f[0], "ignore") {
		return nil
	}
	sp := &iac.Suppression{Rule: f[1]}
	var reason []string
	for _, w := range f[2:] {
		t := strings.TrimSuffix(strings.TrimPrefix(w, "["), "]")
		if strings.HasPrefix(strings.ToLower(t), "exp:") {
			sp.Expires = t[4:]
			continue
		}
		reason = append(reason, w)
	}
	sp.Reason = strings.Join(reason, " ")
	return sp
}
