package mototest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// Seeded says what Seed created.
type Seeded struct {
	// Failing are the users holding a policy directly, sorted.
	Failing []string
	// Users are all the users created, sorted.
	Users []string
}

// awsManaged are AWS managed policies that moto loads
// (MOTO_IAM_LOAD_MANAGED_POLICIES=true).
var awsManaged = []string{
	"arn:aws:iam::aws:policy/ReadOnlyAccess",
	"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
	"arn:aws:iam::aws:policy/IAMUserChangePassword",
	"arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess",
	"arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
}

// inlineDocs are inline documents reused across users, as real accounts
// copy them; some as a Statement object, some with a string Action.
var inlineDocs = []string{
	`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports/*"}}`,
	`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:SendMessage","sqs:ReceiveMessage"],"Resource":"arn:aws:sqs:us-east-1:123456789012:jobs"}]}`,
	`{"Version":"2012-10-17","Statement":[{"Sid":"Kms","Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"s3.us-east-1.amazonaws.com"}}}]}`,
}

// Seed creates n users in the account cfg reaches, through the SDK: a
// mix of users without policies, in groups only, with a permissions
// boundary only, with AWS and customer managed policies attached, with
// inline policies (shared documents and one per user), and with both.
func Seed(t testing.TB, ctx context.Context, cfg aws.Config, n int) Seeded {
	t.Helper()
	s, err := SeedAccount(ctx, cfg, n)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// seedError stops seeding at the first failed call.
type seedError struct{ err error }

// SeedAccount is Seed for programs (the benchmarks) rather than tests.
func SeedAccount(ctx context.Context, cfg aws.Config, n int) (s Seeded, err error) {
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(seedError)
			if !ok {
				panic(r)
			}
			err = se.err
		}
	}()
	c := iam.NewFromConfig(cfg)
	must := func(what string, err error) {
		if err != nil {
			panic(seedError{fmt.Errorf("seed: %s: %w", what, err)})
		}
	}
	var custom []string
	for i := range 3 {
		out, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{
			PolicyName:     aws.String(fmt.Sprintf("team-policy-%d", i)),
			Path:           aws.String("/teams/"),
			PolicyDocument: aws.String(fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"arn:aws:dynamodb:us-east-1:123456789012:table/t%d"}]}`, i)),
		})
		must("create policy", err)
		custom = append(custom, aws.ToString(out.Policy.Arn))
	}
	boundary, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("boundary"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)})
	must("create boundary", err)
	groups := []string{"Developers", "Analysts", "Support"}
	for i, g := range groups {
		_, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(g)})
		must("create group", err)
		_, err = c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String(g), PolicyArn: aws.String(awsManaged[i])})
		must("attach group policy", err)
	}
	for i := range n {
		name := fmt.Sprintf("user-%04d", i)
		path := []string{"/", "/engineering/", "/contractors/"}[i%3]
		in := &iam.CreateUserInput{UserName: aws.String(name), Path: aws.String(path)}
		if i%7 == 3 {
			in.PermissionsBoundary = boundary.Policy.Arn
		}
		if i%5 == 0 {
			in.Tags = []types.Tag{{Key: aws.String("team"), Value: aws.String(fmt.Sprintf("t%d", i%4))}}
		}
		_, err := c.CreateUser(ctx, in)
		must("create user "+name, err)
		s.Users = append(s.Users, name)
		if i%4 != 0 {
			_, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: aws.String(name), GroupName: aws.String(groups[i%len(groups)])})
			must("add to group", err)
		}
		direct := false
		switch i % 6 {
		case 1: // AWS managed, one or two
			for j := 0; j <= i%2; j++ {
				_, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(name), PolicyArn: aws.String(awsManaged[(i+j)%len(awsManaged)])})
				must("attach", err)
			}
			direct = true
		case 2: // shared inline document
			_, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("shared"),
				PolicyDocument: aws.String(inlineDocs[i%len(inlineDocs)])})
			must("put user policy", err)
			direct = true
		case 3: // customer managed and a per-user inline document
			_, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(name), PolicyArn: aws.String(custom[i%len(custom)])})
			must("attach", err)
			_, err = c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("own-bucket"),
				PolicyDocument: aws.String(fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":"arn:aws:s3:::home-%s/*"}]}`, name))})
			must("put user policy", err)
			direct = true
		}
		if direct {
			s.Failing = append(s.Failing, name)
		}
	}
	slices.Sort(s.Failing)
	slices.Sort(s.Users)
	return s, nil
}
