package plan

import (
	"strings"
	"testing"
)

// TestValidateRefusesEdits: a plan edited so that its actions reach
// beyond what its users, groups and policies say is refused.
func TestValidateRefusesEdits(t *testing.T) {
	acct, results := demoAccount(t)
	for _, c := range []struct {
		name string
		edit func(p *Plan)
		want string
	}{
		{"extra detach of an unplanned user", func(p *Plan) {
			p.Actions = append(p.Actions, Action{Op: OpDetachUserPolicy, User: "bob", PolicyARN: "arn:aws:iam::aws:policy/ReadOnlyAccess"})
		}, "actions, its policies, groups and users imply"},
		{"attach to an existing group", func(p *Plan) {
			p.Actions[len(p.Policies)+len(p.Groups)] = Action{Op: OpAttachGroup, Group: "Admins", PolicyARN: "arn:aws:iam::aws:policy/AdministratorAccess"}
		}, "actions[13]"},
		{"group renamed in groups only", func(p *Plan) { p.Groups[0].Name = "renamed" }, "neither a new group of the plan nor an existing group"},
		{"policy ARN elsewhere", func(p *Plan) { p.Policies[0].ARN = "arn:aws:iam::999999999999:policy/x" }, "has ARN arn:aws:iam::999999999999:policy/x"},
		{"member added", func(p *Plan) { p.Groups[0].Members = append(p.Groups[0].Members, "zed") }, "lists members"},
		{"kept and removed", func(p *Plan) {
			for i := range p.Users {
				if len(p.Users[i].Detach) > 0 {
					p.Users[i].Keep = append(p.Users[i].Keep, p.Users[i].Detach[0])
					return
				}
			}
		}, "keeps arn:"},
		{"duplicate group name", func(p *Plan) { p.Groups[1].Name = strings.ToUpper(p.Groups[0].Name) }, "same name ignoring case"},
		{"bad account", func(p *Plan) { p.AccountID = "1234" }, "not a 12-digit account ID"},
	} {
		p, err := Make(acct, results, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("the demo plan does not validate: %v", err)
		}
		c.edit(p)
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Validate() = %v, want an error with %q", c.name, err, c.want)
		}
	}
}

// TestValidateRecounts: the summary a user confirms comes from the plan's
// content, not from stats written in the file.
func TestValidateRecounts(t *testing.T) {
	acct, results := demoAccount(t)
	p, err := Make(acct, results, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := p.Stats
	p.Stats.Detachments, p.Stats.NewGroups = 0, 1
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if p.Stats.Detachments != want.Detachments || p.Stats.NewGroups != want.NewGroups {
		t.Errorf("stats after Validate %+v, want %+v", p.Stats, want)
	}
}
