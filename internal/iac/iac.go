// Package iac holds what the infrastructure-as-code adapters (terraform,
// cloudformation) find: every resource that gives an IAM user a policy,
// with its file, line and column, its address, the user it targets when
// the source says, and any suppression written beside it. The CLI turns a
// Scan into a model.Account so that IAM-071 and the writers treat IaC like
// any other source.
//
// It imports model and rule (to apply suppressions to results).
package iac

import "github.com/iamgroups/iamgroups/internal/model"

// Finding is one resource that gives a user a policy.
type Finding struct {
	// Location is where the resource starts, with its address.
	Location model.Location
	// Type is the resource type: aws_iam_user_policy_attachment,
	// AWS::IAM::UserPolicy, ...
	Type string
	// User is the user's name when the configuration decides it (a
	// literal, or a reference to a user resource whose name is literal).
	User string
	// UserRef says how the user is referenced when User is not known, or
	// which resource it is: "aws_iam_user.alice", "var.user_name",
	// "Ref: DeployUser". One of User and UserRef is always set.
	UserRef string
	// Kind is "managed" (an attachment) or "inline" (a policy document).
	Kind string
	// Policy is the managed policy ARN or the inline policy's name, when
	// known; PolicyRef says how it is referenced otherwise.
	Policy    string
	PolicyRef string
	// Note explains what the source leaves open, such as a user decided by
	// a variable or a module input, or one branch of a condition.
	Note string
	// Suppression is the suppression comment or metadata on the resource.
	Suppression *Suppression
}

// Suppression is an in-source `iamgroups:ignore IAM-071 <reason>
// [exp:YYYY-MM-DD]`.
type Suppression struct {
	Rule    string
	Reason  string
	Expires string // YYYY-MM-DD or ""
	Line    int
}

// User is a user the source declares (aws_iam_user, AWS::IAM::User), so
// that users who get policies only through groups are reported as passing.
type User struct {
	Name     string // "" when not literal
	Location model.Location
}

// FileError is a file that could not be read or parsed.
type FileError struct {
	File   string
	Line   int
	Column int
	Msg    string
}

// Scan is what an adapter found in a set of files.
type Scan struct {
	Files    int
	Findings []Finding
	Users    []User
	Errors   []FileError
}
