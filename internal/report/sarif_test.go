package report

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/rule"
	"github.com/iamgroups/iamgroups/internal/shareddata"
)

// iacReport is a report of findings in Terraform files, one suppressed.
func iacReport() *Report {
	loc := func(line int, addr string) *model.Location {
		return &model.Location{File: "infra/users.tf", Line: line, Column: 1, Address: addr}
	}
	return &Report{ToolVersion: "test", Results: []rule.Result{
		{RuleID: "IAM-071", Status: rule.Fail, Risk: rule.Medium, UserName: "alice", UserARN: "alice", Violations: []rule.Violation{
			{Kind: "managed", Name: "arn:aws:iam::aws:policy/ReadOnlyAccess", ARN: "arn:aws:iam::aws:policy/ReadOnlyAccess", Location: loc(12, "aws_iam_user_policy_attachment.ro")},
			{Kind: "inline", Name: "s3", Location: loc(20, "module.app.aws_iam_user_policy.s3")},
		}},
		{RuleID: "IAM-071", Status: rule.Exempt, Risk: rule.Medium, UserName: "ci", UserARN: "ci",
			Exemption: &rule.Exemption{ID: "suppression at infra/users.tf:30", Reason: "legacy pipeline"},
			Violations: []rule.Violation{{Kind: "inline", Name: "deploy", Location: loc(31, "aws_iam_user_policy.deploy"),
				Exemption: &rule.Exemption{ID: "suppression at infra/users.tf:30", Reason: "legacy pipeline"}}}},
		{RuleID: "IAM-071", Status: rule.Pass, Risk: rule.Medium, UserName: "bob", UserARN: "aws_iam_user.bob"},
		{RuleID: "IAM-071", Status: rule.Error, Risk: rule.Medium, UserName: "broken.tf", UserARN: "file:broken.tf",
			Message: "could not be evaluated: unexpected }", Location: &model.Location{File: "broken.tf", Line: 3, Column: 2}},
	}}
}

func TestSARIFIsValidAndComplete(t *testing.T) {
	schemaPath := shareddata.Path(t, "sarif-schema-2.1.0.json")
	c := jsonschema.NewCompiler()
	f, err := os.Open(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource("sarif.json", doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("sarif.json")
	if err != nil {
		t.Fatal(err)
	}
	for name, rep := range map[string]*Report{"iac": iacReport(), "audit": fixture()} {
		var buf bytes.Buffer
		if err := (sarifWriter{}).Write(&buf, rep); err != nil {
			t.Fatal(err)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(inst); err != nil {
			t.Errorf("%s: the SARIF output does not match the SARIF 2.1.0 schema: %v", name, err)
		}
	}
	var buf bytes.Buffer
	(sarifWriter{}).Write(&buf, iacReport())
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID    string
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine int }
					}
					LogicalLocations []struct{ FullyQualifiedName string }
				}
				PartialFingerprints map[string]string
				Suppressions        []struct{ Kind, Justification string }
			}
			Invocations []struct {
				ToolExecutionNotifications []struct{ Level string }
			}
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	res := log.Runs[0].Results
	if len(res) != 3 {
		t.Fatalf("%d results, want one per resource (3)", len(res))
	}
	if l := res[1].Locations[0]; l.PhysicalLocation.ArtifactLocation.URI != "infra/users.tf" || l.PhysicalLocation.Region.StartLine != 20 ||
		l.LogicalLocations[0].FullyQualifiedName != "module.app.aws_iam_user_policy.s3" {
		t.Errorf("location = %+v", l)
	}
	if len(res[2].Suppressions) != 1 || res[2].Suppressions[0].Kind != "inSource" || res[0].Suppressions != nil {
		t.Errorf("suppressions: %+v / %+v", res[2].Suppressions, res[0].Suppressions)
	}
	if res[0].PartialFingerprints["iamgroups/v1"] == res[1].PartialFingerprints["iamgroups/v1"] {
		t.Error("two resources share a fingerprint")
	}
	if n := log.Runs[0].Invocations[0].ToolExecutionNotifications; len(n) != 1 || n[0].Level != "error" {
		t.Errorf("notifications = %+v, want the unreadable file", n)
	}
}
