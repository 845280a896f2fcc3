package awsiam

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamgroups/iamgroups/internal/model"
)

// WriteCall is one IAM write, as internal/apply describes it (the two
// struct types convert into each other). Only the fields Op needs are set.
type WriteCall struct {
	Op          string
	User        string
	Group       string
	Path        string
	PolicyARN   string
	PolicyName  string
	Description string
	Document    string
}

// writeAPI is every IAM write apply and rollback make.
type writeAPI interface {
	CreatePolicy(context.Context, *iam.CreatePolicyInput, ...func(*iam.Options)) (*iam.CreatePolicyOutput, error)
	DeletePolicy(context.Context, *iam.DeletePolicyInput, ...func(*iam.Options)) (*iam.DeletePolicyOutput, error)
	CreateGroup(context.Context, *iam.CreateGroupInput, ...func(*iam.Options)) (*iam.CreateGroupOutput, error)
	DeleteGroup(context.Context, *iam.DeleteGroupInput, ...func(*iam.Options)) (*iam.DeleteGroupOutput, error)
	AttachGroupPolicy(context.Context, *iam.AttachGroupPolicyInput, ...func(*iam.Options)) (*iam.AttachGroupPolicyOutput, error)
	DetachGroupPolicy(context.Context, *iam.DetachGroupPolicyInput, ...func(*iam.Options)) (*iam.DetachGroupPolicyOutput, error)
	AddUserToGroup(context.Context, *iam.AddUserToGroupInput, ...func(*iam.Options)) (*iam.AddUserToGroupOutput, error)
	RemoveUserFromGroup(context.Context, *iam.RemoveUserFromGroupInput, ...func(*iam.Options)) (*iam.RemoveUserFromGroupOutput, error)
	AttachUserPolicy(context.Context, *iam.AttachUserPolicyInput, ...func(*iam.Options)) (*iam.AttachUserPolicyOutput, error)
	DetachUserPolicy(context.Context, *iam.DetachUserPolicyInput, ...func(*iam.Options)) (*iam.DetachUserPolicyOutput, error)
	PutUserPolicy(context.Context, *iam.PutUserPolicyInput, ...func(*iam.Options)) (*iam.PutUserPolicyOutput, error)
	DeleteUserPolicy(context.Context, *iam.DeleteUserPolicyInput, ...func(*iam.Options)) (*iam.DeleteUserPolicyOutput, error)
}

// Writer makes the IAM writes of apply and rollback through a session.
// Errors keep the SDK's API error, so callers can read its code.
type Writer struct {
	api writeAPI
}

// NewWriter returns a Writer using the session's credentials and retryer.
func NewWriter(s *Session) *Writer {
	return &Writer{api: iam.NewFromConfig(s.Config)}
}

// Do makes one write.
func (w *Writer) Do(ctx context.Context, c WriteCall) error {
	var err error
	s := aws.String
	switch c.Op {
	case "create-policy":
		_, err = w.api.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: s(c.PolicyName), Path: s(c.Path),
			Description: s(c.Description), PolicyDocument: s(c.Document)})
	case "delete-policy":
		_, err = w.api.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: s(c.PolicyARN)})
	case "create-group":
		_, err = w.api.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: s(c.Group), Path: s(c.Path)})
	case "delete-group":
		_, err = w.api.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: s(c.Group)})
	case "attach-group-policy":
		_, err = w.api.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: s(c.Group), PolicyArn: s(c.PolicyARN)})
	case "detach-group-policy":
		_, err = w.api.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: s(c.Group), PolicyArn: s(c.PolicyARN)})
	case "add-user-to-group":
		_, err = w.api.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: s(c.Group), UserName: s(c.User)})
	case "remove-user-from-group":
		_, err = w.api.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: s(c.Group), UserName: s(c.User)})
	case "attach-user-policy":
		_, err = w.api.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: s(c.User), PolicyArn: s(c.PolicyARN)})
	case "detach-user-policy":
		_, err = w.api.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: s(c.User), PolicyArn: s(c.PolicyARN)})
	case "put-user-policy":
		_, err = w.api.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: s(c.User), PolicyName: s(c.PolicyName), PolicyDocument: s(c.Document)})
	case "delete-user-policy":
		_, err = w.api.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: s(c.User), PolicyName: s(c.PolicyName)})
	default:
		return fmt.Errorf("iam write: unknown operation %q", c.Op)
	}
	if err != nil {
		return Explain(c.Op, err)
	}
	return nil
}

// ReadFull reads the account as apply needs it: users, groups and
// customer managed policies through GetAccountAuthorizationDetails, inline
// documents verbatim.
func ReadFull(ctx context.Context, s *Session) (*model.Account, error) {
	return Collect(ctx, s, CollectOptions{Method: MethodGAAD, Full: true})
}
