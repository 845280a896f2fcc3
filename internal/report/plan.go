package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/iamgroups/iamgroups/internal/plan"
)

// PlanWriter renders a plan in one format.
type PlanWriter interface {
	WritePlan(w io.Writer, p *plan.Plan) error
}

// planWriters are the plan formats, filled in one place.
var planWriters = map[string]PlanWriter{
	"text":      planText{},
	"json":      planJSON{},
	"cli":       planCLI{},
	"terraform": planTerraform{},
	"markdown":  planMarkdown{},
}

// planFormats lists the plan formats in the order help texts show them.
var planFormats = []string{"text", "json", "cli", "terraform", "markdown"}

// PlanFormats returns the names of the plan formats.
func PlanFormats() []string { return append([]string(nil), planFormats...) }

// NewPlanWriter returns the writer for a plan format name.
func NewPlanWriter(format string) (PlanWriter, error) {
	w, ok := planWriters[format]
	if !ok {
		return nil, fmt.Errorf("unknown format %q (use one of: %s)", format, strings.Join(planFormats, ", "))
	}
	return w, nil
}

// planJSON writes the plan file itself.
type planJSON struct{}

func (planJSON) WritePlan(w io.Writer, p *plan.Plan) error {
	b, err := p.Encode()
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// policyLabel is how texts name a policy ARN: its name, marked when the
// plan creates it.
func policyLabel(p *plan.Plan, arn string) string {
	for _, pol := range p.Policies {
		if pol.ARN == arn {
			return pol.Name + " (new, from inline)"
		}
	}
	return policyName(arn)
}
