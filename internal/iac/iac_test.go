package iac

import (
	"strings"
	"testing"
	"time"

	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/rule"
)

func at(line int, addr string) model.Location {
	return model.Location{File: "main.tf", Line: line, Address: addr}
}

func TestAccountAndSuppressions(t *testing.T) {
	s := &Scan{
		Files: 2,
		Users: []User{
			{Name: "alice", Location: at(1, "aws_iam_user.alice")},
			{Name: "", Location: at(5, "aws_iam_user.noname")},
			{Name: "bob", Location: at(9, "aws_iam_user.bob")},
		},
		Findings: []Finding{
			{Location: at(20, "aws_iam_user_policy_attachment.a"), User: "alice", Kind: "managed", Policy: "arn:aws:iam::aws:policy/ReadOnlyAccess"},
			{Location: at(30, "aws_iam_user_policy.b"), User: "alice", Kind: "inline", Policy: "b",
				Suppression: &Suppression{Rule: "IAM-071", Reason: "temporary", Expires: "2026-01-31", Line: 29}},
			{Location: at(40, "aws_iam_user_policy.c"), UserRef: "var.deployer", Kind: "inline", PolicyRef: "var.policy_name",
				Suppression: &Suppression{Rule: "IAM-071", Reason: "reviewed", Line: 39}},
		},
		Errors: []FileError{{File: "broken.tf", Line: 3, Column: 1, Msg: "unexpected }"}},
	}
	a := s.Account("iac")
	results := rule.IAM071.Check(a)
	warnings := s.Suppress(results, time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC))
	got := map[string]rule.Status{}
	for _, r := range results {
		got[r.UserName] = r.Status
	}
	want := map[string]rule.Status{
		"alice":               rule.Fail, // one live violation, one expired suppression
		"aws_iam_user.noname": rule.Pass, // declared, no policy
		"bob":                 rule.Pass,
		"var.deployer":        rule.Exempt, // its only violation is suppressed
		"broken.tf":           rule.Error,
	}
	for u, st := range want {
		if got[u] != st {
			t.Errorf("%s: %s, want %s", u, got[u], st)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "expired on 2026-01-31") {
		t.Errorf("warnings = %q", warnings)
	}
	for _, r := range results {
		if r.UserName == "alice" {
			if len(r.Violations) != 2 || r.Violations[1].Exemption == nil || !r.Violations[1].Exemption.Expired {
				t.Errorf("alice's violations = %+v", r.Violations)
			}
			if r.Violations[0].Location == nil || r.Violations[0].Location.Address != "aws_iam_user_policy_attachment.a" {
				t.Errorf("location lost: %+v", r.Violations[0].Location)
			}
		}
	}
}

func TestMergeAddsUp(t *testing.T) {
	m := Merge(&Scan{Files: 2, Findings: make([]Finding, 3)}, nil, &Scan{Files: 1, Errors: make([]FileError, 1)})
	if m.Files != 3 || len(m.Findings) != 3 || len(m.Errors) != 1 {
		t.Errorf("merged %+v", m)
	}
}

// TestUnnamedDeclaredUserIsNotAFalsePass: a CloudFormation user without
// a UserName is declared by logical ID and referenced as "Ref: <ID>"; both
// are one user, which fails.
func TestUnnamedDeclaredUserIsNotAFalsePass(t *testing.T) {
	loc := model.Location{File: "t.yaml", Line: 3, Address: "Deployer"}
	s := &Scan{
		Users:    []User{{Location: loc}},
		Findings: []Finding{{Location: model.Location{File: "t.yaml", Line: 9, Address: "DeployPolicy"}, UserRef: "Ref: Deployer", Kind: "inline", Policy: "deploy"}},
	}
	results := rule.IAM071.Check(s.Account("iac"))
	if len(results) != 1 || results[0].Status != rule.Fail {
		t.Errorf("results = %+v: want one FAIL user", results)
	}
}
