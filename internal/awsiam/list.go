package awsiam

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"golang.org/x/sync/errgroup"

	"github.com/iamgroups/iamgroups/internal/model"
)

// listAPI is every call of the per-user method: one listing of the users,
// then for each user its attached policies, its inline policies (and each
// one's document), its groups, and GetUser for the permissions boundary
// and tags, which ListUsers does not return.
type listAPI interface {
	iam.ListUsersAPIClient
	iam.ListAttachedUserPoliciesAPIClient
	iam.ListUserPoliciesAPIClient
	iam.ListGroupsForUserAPIClient
	GetUserPolicy(context.Context, *iam.GetUserPolicyInput, ...func(*iam.Options)) (*iam.GetUserPolicyOutput, error)
	GetUser(context.Context, *iam.GetUserInput, ...func(*iam.Options)) (*iam.GetUserOutput, error)
}

// defaultConcurrency is how many users the list method reads at once: IAM
// is a low-rate API.
const defaultConcurrency = 4

// collectList reads users one by one. A user whose calls fail after the
// SDK's retries is recorded with the error (ERROR in the audit), never as
// a user without policies; a user deleted meanwhile is dropped.
func collectList(ctx context.Context, api listAPI, a *model.Account, o CollectOptions) error {
	var users []types.User
	pages := iam.NewListUsersPaginator(api, &iam.ListUsersInput{MaxItems: aws.Int32(1000)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return err
		}
		users = append(users, page.Users...)
	}
	limit := o.Concurrency
	if limit <= 0 {
		limit = defaultConcurrency
	}
	out := make([]*model.User, len(users))
	var mu sync.Mutex
	docs := docCache{}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	for i, u := range users {
		g.Go(func() error {
			mu2 := &model.User{Name: aws.ToString(u.UserName), ID: aws.ToString(u.UserId), ARN: aws.ToString(u.Arn),
				Path: aws.ToString(u.Path), CreateDate: date(u.CreateDate)}
			err := listUser(gctx, api, mu2, func(name string, doc *string) (model.InlinePolicy, error) {
				mu.Lock()
				defer mu.Unlock()
				return docs.inline(name, doc)
			})
			switch {
			case err == nil:
				out[i] = mu2
			case errorCode(err) == "NoSuchEntity":
				// Deleted after ListUsers: not a user of the account any more.
			case gctx.Err() != nil:
				return gctx.Err()
			default:
				out[i] = &model.User{Name: mu2.Name, ID: mu2.ID, ARN: mu2.ARN, Path: mu2.Path, CreateDate: mu2.CreateDate,
					Error: userError(err)}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, u := range out {
		if u != nil {
			a.Users = append(a.Users, u)
		}
	}
	return nil
}

// userError says briefly why a user could not be read.
func userError(err error) string {
	var op interface{ Operation() string }
	opName := ""
	if errors.As(err, &op) {
		opName = op.Operation() + ": "
	}
	if code := errorCode(err); code != "" {
		return opName + code + " (" + lastLine(err) + ")"
	}
	return opName + lastLine(err)
}

func listUser(ctx context.Context, api listAPI, u *model.User, inline func(string, *string) (model.InlinePolicy, error)) error {
	name := aws.String(u.Name)
	attachedPages := iam.NewListAttachedUserPoliciesPaginator(api, &iam.ListAttachedUserPoliciesInput{UserName: name})
	for attachedPages.HasMorePages() {
		page, err := attachedPages.NextPage(ctx)
		if err != nil {
			return err
		}
		u.AttachedPolicies = append(u.AttachedPolicies, attached(page.AttachedPolicies)...)
	}
	inlinePages := iam.NewListUserPoliciesPaginator(api, &iam.ListUserPoliciesInput{UserName: name})
	for inlinePages.HasMorePages() {
		page, err := inlinePages.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, policyName := range page.PolicyNames {
			doc, err := api.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: name, PolicyName: aws.String(policyName)})
			if errorCode(err) == "NoSuchEntity" {
				continue // this policy was deleted after the listing; the user is still there
			}
			if err != nil {
				return err
			}
			ip, err := inline(policyName, doc.PolicyDocument)
			if err != nil {
				return fmt.Errorf("user %s: %w", u.Name, err)
			}
			u.InlinePolicies = append(u.InlinePolicies, ip)
		}
	}
	groupPages := iam.NewListGroupsForUserPaginator(api, &iam.ListGroupsForUserInput{UserName: name})
	for groupPages.HasMorePages() {
		page, err := groupPages.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, g := range page.Groups {
			u.Groups = append(u.Groups, aws.ToString(g.GroupName))
		}
	}
	got, err := api.GetUser(ctx, &iam.GetUserInput{UserName: name})
	if err != nil {
		return err
	}
	if got.User != nil {
		if b := got.User.PermissionsBoundary; b != nil {
			u.PermissionsBoundary = aws.ToString(b.PermissionsBoundaryArn)
		}
		u.Tags = tags(got.User.Tags)
	}
	return nil
}
