package mototest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

// MakeOrg creates an Organization whose management account is the one
// cfg reaches, with n member accounts, and returns the members' IDs,
// sorted.
func MakeOrg(t testing.TB, cfg aws.Config, n int) []string {
	t.Helper()
	ctx := context.Background()
	c := organizations.NewFromConfig(cfg)
	if _, err := c.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: types.OrganizationFeatureSetAll}); err != nil {
		t.Fatalf("create organization: %v", err)
	}
	var ids []string
	for i := range n {
		out, err := c.CreateAccount(ctx, &organizations.CreateAccountInput{
			AccountName: aws.String(fmt.Sprintf("member-%d", i)), Email: aws.String(fmt.Sprintf("member-%d@example.com", i))})
		if err != nil {
			t.Fatalf("create account: %v", err)
		}
		ids = append(ids, aws.ToString(out.CreateAccountStatus.AccountId))
	}
	slices.Sort(ids)
	return ids
}
