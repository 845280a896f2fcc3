package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/iamgroups/iamgroups/internal/awsiam"
	"github.com/iamgroups/iamgroups/internal/demo"
	"github.com/iamgroups/iamgroups/internal/exempt"
	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/mototest"
	"github.com/iamgroups/iamgroups/internal/plan"
	"github.com/iamgroups/iamgroups/internal/rule"
	"github.com/iamgroups/iamgroups/internal/snapshot"
)

func TestPlanFormats(t *testing.T) {
	for _, format := range []string{"text", "json", "cli", "terraform", "markdown"} {
		out, errOut, code := run(t, "plan", "--demo", "--format", format)
		if code != 0 || !strings.Contains(out, "Plan: 3 policies, 10 groups to create") && format != "json" {
			t.Errorf("%s: exit %d, stderr %q\n%s", format, code, errOut, out)
		}
	}
	path := filepath.Join(t.TempDir(), "plan.json")
	out, _, code := run(t, "plan", "--demo", "--out", path, "--format", "json")
	file, err := os.ReadFile(path)
	if code != 0 || err != nil || string(file) != out {
		t.Fatalf("--out: exit %d, %v; the file must equal the JSON printed", code, err)
	}
	if _, err := plan.Decode(file); err != nil {
		t.Errorf("the plan file does not decode: %v", err)
	}
	again, _, _ := run(t, "plan", "--demo", "--format", "json")
	if again != out {
		t.Error("two plans of the demo differ")
	}
	if _, errOut, code := run(t, "plan", "--demo", "--format", "yaml"); code != 2 || !strings.Contains(errOut, "--format") {
		t.Errorf("bad format: %d %q", code, errOut)
	}
	if _, errOut, code := run(t, "plan", "--demo", "--max-groups-per-user", "0"); code != 2 || !strings.Contains(errOut, "--max-groups-per-user") {
		t.Errorf("bad quota: %d %q", code, errOut)
	}
	nothing, _, code := run(t, "plan", "--demo", "--users", "nobody-*")
	if code != 0 || !strings.Contains(nothing, "Plan: nothing to do.") {
		t.Errorf("nothing to plan: exit %d\n%s", code, nothing)
	}
}

// demoAccountID is the account the demo snapshot describes.
const demoAccountID = "111122223333"

// demoInMoto creates the demo account in moto, in account 111122223333
// (reached by assuming a role there, as moto isolates accounts by
// credentials), and returns that account's credentials.
func demoInMoto(t *testing.T, endpoint string) aws.Credentials {
	t.Helper()
	ctx := context.Background()
	cfg, creds, err := mototest.InAccount(ctx, endpoint, demoAccountID)
	if err != nil {
		t.Fatal(err)
	}
	accounts, err := snapshot.Decode(demo.Account, "demo", snapshot.Options{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := mototest.SeedModel(ctx, cfg, accounts[0]); err != nil {
		t.Fatalf("seed the demo: %v", err)
	}
	return creds
}

// sources is what a user holds, directly or through groups: managed
// policy ARNs (customer managed ones by document, so that a new policy
// made from an inline document counts as that document) and inline
// documents by digest.
func sources(a *model.Account) map[string][]string {
	doc := map[string]string{}
	for _, p := range a.Policies {
		if p.Digest != "" && strings.Contains(p.ARN, ":policy/iamgroups/") {
			doc[p.ARN] = "doc " + p.Digest
		}
	}
	src := func(arn string) string {
		if d, ok := doc[arn]; ok {
			return d
		}
		return "managed " + arn
	}
	groups := map[string][]string{}
	for _, g := range a.Groups {
		for _, p := range g.AttachedPolicies {
			groups[g.Name] = append(groups[g.Name], src(p.ARN))
		}
		for _, p := range g.InlinePolicies {
			groups[g.Name] = append(groups[g.Name], "doc "+p.Digest)
		}
	}
	out := map[string][]string{}
	for _, u := range a.Users {
		var s []string
		for _, p := range u.AttachedPolicies {
			s = append(s, src(p.ARN))
		}
		for _, p := range u.InlinePolicies {
			s = append(s, "doc "+p.Digest)
		}
		for _, g := range u.Groups {
			s = append(s, groups[g]...)
		}
		slices.Sort(s)
		out[u.Name] = slices.Compact(s)
	}
	return out
}

// TestDemoPlanScriptAgainstMoto runs `plan --demo --format cli` with the
// AWS CLI against the demo account in moto: afterwards every planned user
// passes (or is exempt), and everyone holds exactly the permission sources
// they held before.
func TestDemoPlanScriptAgainstMoto(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("the AWS CLI is required under CI")
		}
		t.Skip("the AWS CLI (aws) is not installed")
	}
	srv := mototest.Require(t)
	creds := demoInMoto(t, srv.URL)
	before, err := snapshot.Decode(demo.Account, "demo", snapshot.Options{Full: true})
	if err != nil {
		t.Fatal(err)
	}

	script, errOut, code := run(t, "plan", "--demo", "--format", "cli")
	if code != 0 {
		t.Fatalf("plan: exit %d %s", code, errOut)
	}
	planJSON, _, _ := run(t, "plan", "--demo", "--format", "json")
	p, err := plan.Decode([]byte(planJSON))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-s")
	cmd.Stdin = strings.NewReader(script)
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL="+srv.URL, "AWS_ACCESS_KEY_ID="+creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+creds.SecretAccessKey, "AWS_SESSION_TOKEN="+creds.SessionToken)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("the plan script failed: %v\n%s", err, stderr.String())
	}

	s, err := awsiam.NewSession(context.Background(), awsiam.Options{EndpointURL: srv.URL,
		RoleARN: "arn:aws:iam::" + demoAccountID + ":role/check"})
	if err != nil {
		t.Fatal(err)
	}
	after, err := awsiam.Collect(context.Background(), s, awsiam.CollectOptions{Method: awsiam.MethodGAAD, Full: true})
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := exempt.Parse(demo.Exemptions, "demo")
	results := rule.IAM071.Check(after)
	cfg.Apply([]*model.Account{after}, results, time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC))
	status := map[string]rule.Status{}
	for _, r := range results {
		status[r.UserName] = r.Status
	}
	for _, u := range p.Users {
		if st := status[u.Name]; st != rule.Pass && !(st == rule.Exempt && len(u.Keep) > 0) {
			t.Errorf("%s is %s after the plan", u.Name, st)
		}
	}
	if len(p.Users) < 10 {
		t.Errorf("only %d users planned", len(p.Users))
	}
	want, got := sources(before[0]), sources(after)
	for name, w := range want {
		if !slices.Equal(got[name], w) {
			t.Errorf("%s holds different sources after the plan:\n before %v\n after  %v", name, w, got[name])
		}
	}
	// Every former inline document exists as a managed policy with the
	// same canonical content.
	for _, pol := range p.Policies {
		found := false
		for _, m := range after.Policies {
			if m.ARN == pol.ARN && m.Digest == pol.Digest {
				found = true
			}
		}
		if !found {
			t.Errorf("policy %s is not in the account with digest %s", pol.ARN, pol.Digest)
		}
	}
}

func TestPlanNeedsGroups(t *testing.T) {
	dir := t.TempDir()
	usersOnly := writeFile(t, dir, "users.json", oneFailing)
	_, errOut, code := run(t, "plan", "--snapshot", usersOnly)
	if code != ExitUsage || !strings.Contains(errOut, "without its groups") {
		t.Errorf("exit %d, %q", code, errOut)
	}
	full := writeFile(t, dir, "full.json", strings.Replace(oneFailing, `{"UserDetailList"`, `{"GroupDetailList": [{"GroupName": "g", "Arn": "arn:aws:iam::210987654321:group/g"}], "Policies": [], "UserDetailList"`, 1))
	out, errOut, code := run(t, "plan", "--snapshot", full)
	if code != 0 || !strings.Contains(out, "Plan: 0 policies, 1 group to create") {
		t.Errorf("exit %d, %q\n%s", code, errOut, out)
	}
}
