package mototest

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamgroups/iamgroups/internal/model"
)

// InAccount returns an SDK configuration for account id of the emulator at
// endpoint (moto isolates accounts by the credentials of an assumed
// role), and those credentials, for tools such as the AWS CLI.
func InAccount(ctx context.Context, endpoint, id string) (aws.Config, aws.Credentials, error) {
	base, err := config.LoadDefaultConfig(ctx, config.WithBaseEndpoint(endpoint))
	if err != nil {
		return aws.Config{}, aws.Credentials{}, err
	}
	provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), "arn:aws:iam::"+id+":role/seed")
	creds, err := provider.Retrieve(ctx)
	if err != nil {
		return aws.Config{}, aws.Credentials{}, fmt.Errorf("assume a role in %s: %w", id, err)
	}
	cfg := base.Copy()
	cfg.Credentials = aws.NewCredentialsCache(provider)
	return cfg, creds, nil
}

// SeedModel creates an account's customer managed policies, groups and
// users (with their memberships, attachments and inline policies) in the
// account cfg reaches. Inline documents are put as the model's Document
// when it has one, else its canonical form.
func SeedModel(ctx context.Context, cfg aws.Config, a *model.Account) error {
	c := iam.NewFromConfig(cfg)
	doc := func(p model.InlinePolicy) *string {
		if p.Document != "" {
			return aws.String(p.Document)
		}
		return aws.String(p.Canonical)
	}
	for _, p := range a.Policies {
		if p.Document == "" {
			continue // AWS managed: moto loads them
		}
		if _, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(p.Name), Path: aws.String(p.Path), PolicyDocument: aws.String(p.Document)}); err != nil {
			return fmt.Errorf("create policy %s: %w", p.Name, err)
		}
	}
	for _, g := range a.Groups {
		if _, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(g.Name), Path: aws.String(g.Path)}); err != nil {
			return fmt.Errorf("create group %s: %w", g.Name, err)
		}
		for _, p := range g.AttachedPolicies {
			if _, err := c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String(g.Name), PolicyArn: aws.String(p.ARN)}); err != nil {
				return fmt.Errorf("attach %s to group %s: %w", p.ARN, g.Name, err)
			}
		}
		for _, p := range g.InlinePolicies {
			if _, err := c.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String(g.Name), PolicyName: aws.String(p.Name), PolicyDocument: doc(p)}); err != nil {
				return fmt.Errorf("put policy %s on group %s: %w", p.Name, g.Name, err)
			}
		}
	}
	for _, u := range a.Users {
		in := &iam.CreateUserInput{UserName: aws.String(u.Name), Path: aws.String(u.Path)}
		if u.PermissionsBoundary != "" {
			in.PermissionsBoundary = aws.String(u.PermissionsBoundary)
		}
		for _, tg := range u.Tags {
			in.Tags = append(in.Tags, types.Tag{Key: aws.String(tg.Key), Value: aws.String(tg.Value)})
		}
		if _, err := c.CreateUser(ctx, in); err != nil {
			return fmt.Errorf("create user %s: %w", u.Name, err)
		}
		for _, g := range u.Groups {
			if _, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: aws.String(u.Name), GroupName: aws.String(g)}); err != nil {
				return fmt.Errorf("add user %s to group %s: %w", u.Name, g, err)
			}
		}
		for _, p := range u.AttachedPolicies {
			if _, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(u.Name), PolicyArn: aws.String(p.ARN)}); err != nil {
				return fmt.Errorf("attach %s to user %s: %w", p.ARN, u.Name, err)
			}
		}
		for _, p := range u.InlinePolicies {
			if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(u.Name), PolicyName: aws.String(p.Name), PolicyDocument: doc(p)}); err != nil {
				return fmt.Errorf("put policy %s on user %s: %w", p.Name, u.Name, err)
			}
		}
	}
	return nil
}
