package awsiam

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamgroups/iamgroups/internal/mototest"
)

func TestOrganizationScan(t *testing.T) {
	srv := mototest.Require(t)
	p := mototest.NewProxy(t, srv)
	ctx := context.Background()
	base := session(t, p)
	members := mototest.MakeOrg(t, base.Config, 5)
	// Each member gets its own users, created with the member's role, so
	// that a mix-up of accounts would show.
	mgmtUsers := mototest.Seed(t, ctx, base.Config, 4)
	for i, id := range members {
		cfg := assumeRole(base.Config, "arn:aws:iam::"+id+":role/"+DefaultOrgRole, "")
		c := iam.NewFromConfig(cfg)
		for j := range i + 1 {
			name := fmt.Sprintf("m%d-user-%d", i, j)
			if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
				t.Fatalf("create user in %s: %v", id, err)
			}
			if j == 0 {
				if _, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(name),
					PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	unreachable := members[2]
	p.SetRule(func(r mototest.Request) mototest.Fault {
		if r.Op == "AssumeRole" && strings.Contains(r.Params.Get("RoleArn"), unreachable) {
			return mototest.Deny
		}
		return mototest.None
	})

	var progress []int
	accounts, warnings, err := CollectOrg(ctx, session(t, p), CollectOptions{}, OrgOptions{Concurrency: 3,
		Progress: func(done, total int) { progress = append(progress, done*100+total) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(accounts) != 6 || len(warnings) != 0 {
		t.Fatalf("%d accounts, warnings %q; want the management account and 5 members", len(accounts), warnings)
	}
	if len(progress) != 6 || progress[5] != 606 {
		t.Errorf("progress = %v", progress)
	}
	for _, a := range accounts {
		switch {
		case a.ID == "123456789012":
			if len(a.Users) != len(mgmtUsers.Users) || a.Error != "" {
				t.Errorf("management account: %d users, error %q", len(a.Users), a.Error)
			}
		case a.ID == unreachable:
			if a.Error == "" || !strings.Contains(a.Error, "cannot assume role OrganizationAccountAccessRole") {
				t.Errorf("unreachable account: error %q", a.Error)
			}
		default:
			i := slices.Index(members, a.ID)
			if a.Error != "" || len(a.Users) != i+1 {
				t.Errorf("member %s: %d users, error %q; want %d users", a.ID, len(a.Users), a.Error, i+1)
			}
			for _, u := range a.Users {
				if !strings.HasPrefix(u.Name, fmt.Sprintf("m%d-", i)) || !strings.Contains(u.ARN, ":"+a.ID+":") {
					t.Errorf("member %s has user %s (%s) of another account", a.ID, u.Name, u.ARN)
				}
			}
		}
	}

	only, _, err := CollectOrg(ctx, session(t, p), CollectOptions{}, OrgOptions{Accounts: []string{members[0]}})
	if err != nil || len(only) != 1 || only[0].ID != members[0] {
		t.Errorf("--accounts: %v %v", only, err)
	}
	if _, _, err := CollectOrg(ctx, session(t, p), CollectOptions{}, OrgOptions{Accounts: []string{"999999999999"}}); err == nil {
		t.Error("an account outside the Organization was accepted")
	}
}

func TestOrganizationNotInUse(t *testing.T) {
	srv := mototest.Require(t)
	p := mototest.NewProxy(t, srv)
	_, _, err := CollectOrg(context.Background(), session(t, p), CollectOptions{}, OrgOptions{})
	if err == nil || !strings.Contains(err.Error(), "--org") {
		t.Errorf("err = %v, want a --org error", err)
	}
}
