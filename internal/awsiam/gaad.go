package awsiam

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamgroups/iamgroups/internal/model"
)

// gaadAPI is the one call of the GAAD method.
type gaadAPI interface {
	GetAccountAuthorizationDetails(context.Context, *iam.GetAccountAuthorizationDetailsInput, ...func(*iam.Options)) (*iam.GetAccountAuthorizationDetailsOutput, error)
}

// gaadPageSize is the largest page IAM serves.
const gaadPageSize = 1000

// collectGAAD reads users (and with full, groups and customer managed
// policies) with GetAccountAuthorizationDetails, page by page. IAM may
// return fewer items than asked while more remain: only IsTruncated ends
// the loop.
func collectGAAD(ctx context.Context, api gaadAPI, a *model.Account, full bool) error {
	filter := []types.EntityType{types.EntityTypeUser}
	if full {
		filter = append(filter, types.EntityTypeGroup, types.EntityTypeLocalManagedPolicy)
	}
	docs := docCache{}
	in := &iam.GetAccountAuthorizationDetailsInput{Filter: filter, MaxItems: aws.Int32(gaadPageSize)}
	seen := map[string]bool{}
	for {
		out, err := api.GetAccountAuthorizationDetails(ctx, in)
		if err != nil {
			return err
		}
		for _, u := range out.UserDetailList {
			mu, err := gaadUser(u, docs)
			if err != nil {
				return err
			}
			a.Users = append(a.Users, mu)
		}
		for _, g := range out.GroupDetailList {
			mg, err := gaadGroup(g, docs)
			if err != nil {
				return err
			}
			a.Groups = append(a.Groups, mg)
		}
		for _, p := range out.Policies {
			mp, err := gaadPolicy(p, docs)
			if err != nil {
				return err
			}
			a.Policies = append(a.Policies, mp)
		}
		if !out.IsTruncated {
			return nil
		}
		marker := aws.ToString(out.Marker)
		if marker == "" {
			return errNoMarker
		}
		if seen[marker] {
			return fmt.Errorf("the same Marker came back twice; IAM's pagination is looping")
		}
		seen[marker] = true
		in.Marker = aws.String(marker)
	}
}

func gaadUser(u types.UserDetail, docs docCache) (*model.User, error) {
	mu := &model.User{
		Name: aws.ToString(u.UserName), ID: aws.ToString(u.UserId), ARN: aws.ToString(u.Arn),
		Path: aws.ToString(u.Path), CreateDate: date(u.CreateDate),
		Groups:           u.GroupList,
		AttachedPolicies: attached(u.AttachedManagedPolicies),
		Tags:             tags(u.Tags),
	}
	if u.PermissionsBoundary != nil {
		mu.PermissionsBoundary = aws.ToString(u.PermissionsBoundary.PermissionsBoundaryArn)
	}
	for _, p := range u.UserPolicyList {
		ip, err := docs.inline(aws.ToString(p.PolicyName), p.PolicyDocument)
		if err != nil {
			return nil, fmt.Errorf("user %s: %w", mu.Name, err)
		}
		mu.InlinePolicies = append(mu.InlinePolicies, ip)
	}
	return mu, nil
}

func gaadGroup(g types.GroupDetail, docs docCache) (model.Group, error) {
	mg := model.Group{Name: aws.ToString(g.GroupName), ID: aws.ToString(g.GroupId), ARN: aws.ToString(g.Arn),
		Path: aws.ToString(g.Path), AttachedPolicies: attached(g.AttachedManagedPolicies)}
	for _, p := range g.GroupPolicyList {
		ip, err := docs.inline(aws.ToString(p.PolicyName), p.PolicyDocument)
		if err != nil {
			return mg, fmt.Errorf("group %s: %w", mg.Name, err)
		}
		mg.InlinePolicies = append(mg.InlinePolicies, ip)
	}
	return mg, nil
}

func gaadPolicy(p types.ManagedPolicyDetail, docs docCache) (model.ManagedPolicy, error) {
	name := aws.ToString(p.PolicyName)
	if name == "" { // some emulators omit it; the ARN ends with it
		arn := aws.ToString(p.Arn)
		name = arn[strings.LastIndexByte(arn, '/')+1:]
	}
	mp := model.ManagedPolicy{Name: name, ARN: aws.ToString(p.Arn), Path: aws.ToString(p.Path),
		DefaultVersionID: aws.ToString(p.DefaultVersionId), AttachmentCount: int(aws.ToInt32(p.AttachmentCount))}
	for _, v := range p.PolicyVersionList {
		if !v.IsDefaultVersion {
			continue
		}
		d, err := docs.inline(mp.Name, v.Document)
		if err != nil {
			return mp, fmt.Errorf("managed policy %s: %w", mp.ARN, err)
		}
		mp.Document, mp.Digest = d.Canonical, d.Digest
	}
	return mp, nil
}
