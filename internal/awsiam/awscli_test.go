package awsiam

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"testing"

	"github.com/iamgroups/iamgroups/internal/mototest"
)

// awsCLI runs the AWS CLI against endpoint and decodes its JSON output.
func awsCLI(t *testing.T, endpoint string, out any, args ...string) {
	t.Helper()
	cmd := exec.Command("aws", append([]string{"--endpoint-url", endpoint, "--output", "json", "iam"}, args...)...)
	b, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("aws iam %v: %v %s", args, err, stderr)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("aws iam %v: output is not JSON: %v", args, err)
	}
}

// TestAgreesWithAWSCLI compares what both methods collect with what the
// AWS CLI (an independent client, botocore) reports for the same account:
// every user from list-users, and the direct policies of a sample of users
// (the CLI starts slowly; one user in five, across every seeded case).
func TestAgreesWithAWSCLI(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("the AWS CLI is required under CI")
		}
		t.Skip("the AWS CLI (aws) is not installed")
	}
	srv := mototest.Require(t)
	p := mototest.NewProxy(t, srv)
	ctx := context.Background()
	mototest.Seed(t, ctx, session(t, p).Config, 200)

	var listed struct {
		Users []struct{ UserName, Arn string }
	}
	awsCLI(t, srv.URL, &listed, "list-users")
	var cliUsers []string
	for _, u := range listed.Users {
		cliUsers = append(cliUsers, u.UserName)
	}
	slices.Sort(cliUsers)

	for _, m := range []Method{MethodGAAD, MethodList} {
		a, err := Collect(ctx, session(t, p), CollectOptions{Method: m})
		if err != nil {
			t.Fatal(err)
		}
		var ours []string
		byName := map[string]int{}
		for i, u := range a.Users {
			ours = append(ours, u.Name)
			byName[u.Name] = i
		}
		if !slices.Equal(ours, cliUsers) {
			t.Fatalf("%s: users differ from aws iam list-users: %d vs %d", m, len(ours), len(cliUsers))
		}
		if m == MethodList {
			continue // the sample below is checked once, against GAAD
		}
		for i := 0; i < len(cliUsers); i += 5 {
			name := cliUsers[i]
			var att struct{ AttachedPolicies []struct{ PolicyArn string } }
			awsCLI(t, srv.URL, &att, "list-attached-user-policies", "--user-name", name)
			var inl struct{ PolicyNames []string }
			awsCLI(t, srv.URL, &inl, "list-user-policies", "--user-name", name)
			var arns, names []string
			for _, p := range att.AttachedPolicies {
				arns = append(arns, p.PolicyArn)
			}
			names = inl.PolicyNames
			slices.Sort(arns)
			slices.Sort(names)
			u := a.Users[byName[name]]
			var gotARNs, gotNames []string
			for _, p := range u.AttachedPolicies {
				gotARNs = append(gotARNs, p.ARN)
			}
			for _, p := range u.InlinePolicies {
				gotNames = append(gotNames, p.Name)
			}
			if !slices.Equal(gotARNs, arns) || !slices.Equal(gotNames, names) {
				t.Errorf("%s: ours managed %v inline %v; aws CLI managed %v inline %v", name, gotARNs, gotNames, arns, names)
			}
		}
	}
}
