package awsiam

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamgroups/iamgroups/internal/mototest"
)

// readmePolicy returns the actions of the least-privilege policy in the
// README: the JSON block after the marker line.
func readmePolicy(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "<!-- least-privilege-policy -->")
	if !ok {
		t.Fatal("README.md has no <!-- least-privilege-policy --> marker")
	}
	_, block, _ := strings.Cut(after, "```json\n")
	block, _, _ = strings.Cut(block, "```")
	var policy struct {
		Statement []struct {
			Action []string
		}
	}
	if err := json.Unmarshal([]byte(block), &policy); err != nil {
		t.Fatalf("the README's policy is not JSON: %v", err)
	}
	var actions []string
	for _, s := range policy.Statement {
		actions = append(actions, s.Action...)
	}
	slices.Sort(actions)
	return actions
}

// service names the API each operation the tool calls belongs to.
func service(op string) string {
	switch op {
	case "GetCallerIdentity", "AssumeRole":
		return "sts"
	case "ListAccounts":
		return "organizations"
	}
	return "iam"
}

// TestDocumentedPermissionsAreExactlyTheCallsMade runs every way the tool
// reads AWS — GAAD, the per-user listing with inline policies, an
// Organization scan that assumes a member role, the quotas a plan reads —
// and compares the
// operations the call accounting saw with the README's policy.
func TestDocumentedPermissionsAreExactlyTheCallsMade(t *testing.T) {
	srv := mototest.Require(t)
	p := mototest.NewProxy(t, srv)
	ctx := context.Background()
	base := session(t, p)
	members := mototest.MakeOrg(t, base.Config, 1)
	mototest.Seed(t, ctx, base.Config, 8)
	cfg := assumeRole(base.Config, "arn:aws:iam::"+members[0]+":role/"+DefaultOrgRole, "")
	if _, err := iam.NewFromConfig(cfg).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("member-user")}); err != nil {
		t.Fatal(err)
	}

	seen := map[string]bool{}
	record := func(s *Session) {
		for op := range s.Calls.Counts() {
			seen[service(op)+":"+op] = true
		}
	}
	for _, m := range []Method{MethodGAAD, MethodList} {
		s := session(t, p)
		if _, err := Collect(ctx, s, CollectOptions{Method: m, Full: m == MethodGAAD}); err != nil {
			t.Fatal(err)
		}
		record(s)
	}
	s := session(t, p)
	if _, _, err := CollectOrg(ctx, s, CollectOptions{}, OrgOptions{}); err != nil {
		t.Fatal(err)
	}
	record(s)
	s = session(t, p) // planning also reads the account's quotas
	if q, err := AccountQuotas(ctx, s); err != nil || q.GroupsPerUser == 0 {
		t.Fatalf("quotas %+v, %v", q, err)
	}
	record(s)

	got := slices.Sorted(maps.Keys(seen))
	if want := readmePolicy(t); !slices.Equal(got, want) {
		t.Errorf("the README's least-privilege policy does not match the calls made:\ncalls:  %v\nREADME: %v", got, want)
	}
}
