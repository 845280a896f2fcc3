package report

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/iamgroups/iamgroups/internal/plan"
)

// hostilePlan has names and documents with quotes, shell and template
// metacharacters.
func hostilePlan() *plan.Plan {
	p := &plan.Plan{Schema: plan.Schema, AccountID: "210987654321", Partition: "aws", Quotas: plan.DefaultQuotas(),
		Policies: []plan.Policy{{Name: "it's-${x}", Path: "/iamgroups/", ARN: "arn:aws:iam::210987654321:policy/iamgroups/it's-${x}",
			Description: `from "inline" $(rm -rf /) %{if}`, Digest: "abc",
			Document: `{"Statement":[{"Action":["s3:Get*"],"Effect":"Allow","Resource":["arn:aws:s3:::b/${aws:username}/*"]}],"Version":"2012-10-17"}`}},
		Groups: []plan.Group{{Name: "g'1`", Path: "/iamgroups/", Policies: []string{"arn:aws:iam::210987654321:policy/iamgroups/it's-${x}", "arn:aws:iam::aws:policy/ReadOnlyAccess"}, Members: []string{"a$b", "c;d"}}},
		Users: []plan.User{
			{Name: "a$b", ARN: "arn:aws:iam::210987654321:user/a$b", Join: []string{"g'1`", "Existing"}, Detach: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}, DeleteInline: []string{"x'y"}},
			{Name: "c;d", ARN: "arn:aws:iam::210987654321:user/c;d", Join: []string{"g'1`"}, Detach: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}, Keep: []string{"arn:aws:iam::aws:policy/IAMUserChangePassword", "keep-inline"}},
		},
	}
	p.Actions = []plan.Action{
		{Op: plan.OpCreatePolicy, PolicyName: "it's-${x}"}, {Op: plan.OpCreateGroup, Group: "g'1`"},
		{Op: plan.OpAttachGroup, Group: "g'1`", PolicyARN: p.Groups[0].Policies[0]}, {Op: plan.OpAddUser, User: "a$b", Group: "g'1`"},
		{Op: plan.OpDetachUserPolicy, User: "a$b", PolicyARN: "arn:aws:iam::aws:policy/ReadOnlyAccess"},
		{Op: plan.OpDeleteUserPolicy, User: "a$b", PolicyName: "x'y"},
	}
	return p
}

func TestTerraformDeclaresExactlyThePlan(t *testing.T) {
	p := hostilePlan()
	var buf bytes.Buffer
	if err := (planTerraform{}).WritePlan(&buf, p); err != nil {
		t.Fatal(err)
	}
	file, diags := hclsyntax.ParseConfig(buf.Bytes(), "plan.tf", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("the Terraform does not parse: %s\n%s", diags.Error(), buf.String())
	}
	body := file.Body.(*hclsyntax.Body)
	count := map[string]int{}
	literal := func(b *hclsyntax.Block, attr string) string {
		a := b.Body.Attributes[attr]
		if a == nil {
			return ""
		}
		v, diags := a.Expr.Value(nil)
		if diags.HasErrors() {
			return "<not a literal>"
		}
		return v.AsString()
	}
	for _, b := range body.Blocks {
		if b.Type != "resource" {
			t.Errorf("unexpected block %s", b.Type)
			continue
		}
		count[b.Labels[0]]++
		switch b.Labels[0] {
		case "aws_iam_policy":
			if literal(b, "name") != "it's-${x}" || literal(b, "policy") != p.Policies[0].Document || literal(b, "description") != p.Policies[0].Description {
				t.Errorf("policy literals changed: %q %q", literal(b, "name"), literal(b, "policy"))
			}
		case "aws_iam_group":
			if literal(b, "name") != "g'1`" {
				t.Errorf("group name %q", literal(b, "name"))
			}
		}
	}
	// The exclusive resources keep exactly the exempt direct policies and
	// wait for the memberships.
	for _, b := range body.Blocks {
		switch b.Labels[0] {
		case "aws_iam_user_policy_attachments_exclusive", "aws_iam_user_policies_exclusive":
			attr := "policy_arns"
			if b.Labels[0] == "aws_iam_user_policies_exclusive" {
				attr = "policy_names"
			}
			v, diags := b.Body.Attributes[attr].Expr.Value(nil)
			if diags.HasErrors() {
				t.Fatalf("%s.%s is not a literal list", b.Labels[1], attr)
			}
			var got []string
			for _, e := range v.AsValueSlice() {
				got = append(got, e.AsString())
			}
			user := literal(b, "user_name")
			var want []string
			for _, u := range p.Users {
				if u.Name != user {
					continue
				}
				for _, k := range u.Keep {
					if strings.HasPrefix(k, "arn:") == (attr == "policy_arns") {
						want = append(want, k)
					}
				}
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s for %s keeps %v, want %v", b.Labels[0], user, got, want)
			}
			if b.Body.Attributes["depends_on"] == nil {
				t.Errorf("%s for %s does not wait for the memberships", b.Labels[0], user)
			}
		}
	}
	want := map[string]int{
		"aws_iam_policy": 1, "aws_iam_group": 1, "aws_iam_group_policy_attachment": 2,
		"aws_iam_user_group_membership": 2, "aws_iam_user_policy_attachments_exclusive": 2, "aws_iam_user_policies_exclusive": 1,
	}
	for k, v := range want {
		if count[k] != v {
			t.Errorf("%d %s, want %d", count[k], k, v)
		}
	}
	if len(count) != len(want) {
		t.Errorf("resource types %v, want %v", count, want)
	}
}

func TestCLIScriptQuotesEverything(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	var buf bytes.Buffer
	if err := (planCLI{}).WritePlan(&buf, hostilePlan()); err != nil {
		t.Fatal(err)
	}
	// With `aws` replaced by a function that prints its arguments one per
	// line, the script must pass every value through unchanged.
	script := "aws() { if [ \"$1 $2\" = 'sts get-caller-identity' ]; then echo 210987654321; else printf '%s\\n' \"$@\" >&2; fi; }\n" +
		strings.Replace(buf.String(), "set -euo pipefail", "set -euo pipefail; export -f aws 2>/dev/null || true", 1)
	out, err := exec.Command("bash", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("script failed: %v\n%s", err, out)
	}
	// The fake aws prints to stderr, past the script's > /dev/null.
	p := hostilePlan()
	for _, want := range []string{"g'1`", "a$b", "x'y", "it's-${x}", p.Policies[0].ARN, p.Policies[0].Description, p.Policies[0].Document} {
		if !strings.Contains(string(out), "\n"+want+"\n") {
			t.Errorf("argument %q did not reach aws intact:\n%s", want, out)
		}
	}
}

func TestPlanWritersHandleAnEmptyPlan(t *testing.T) {
	p := &plan.Plan{Schema: plan.Schema, AccountID: "210987654321", Quotas: plan.DefaultQuotas()}
	for _, f := range PlanFormats() {
		w, _ := NewPlanWriter(f)
		var buf bytes.Buffer
		if err := w.WritePlan(&buf, p); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if f != "json" && !strings.Contains(buf.String(), "nothing to do") {
			t.Errorf("%s: %q", f, buf.String())
		}
	}
}
