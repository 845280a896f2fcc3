// Package model holds the one IAM model that every source becomes: users,
// groups, managed policies and each attachment with its provenance (an ARN
// for live data, file:line for IaC). Rules, the planner and the writers see
// only this model. It is pure data: no I/O, no SDK, no parsing beyond the
// policy digests it carries from policydoc.
package model

import "time"

// Source says where an account's data came from and how it was collected.
type Source struct {
	// Kind is "snapshot", "demo", "live", "terraform" or "cloudformation".
	Kind string `json:"kind"`
	// Name is the file, profile or template the data was read from.
	Name string `json:"name,omitempty"`
	// Method says how the data was collected: "gaad", "list", "synthetic"…
	Method string `json:"method,omitempty"`
	// CapturedAt is when the data was read from AWS, when known.
	CapturedAt time.Time `json:"captured_at,omitzero"`
	// ToolVersion is the version of the tool that captured it, when known.
	ToolVersion string `json:"tool_version,omitempty"`
}

// Location is where an entity or attachment was declared (IaC sources).
// Values hold a *Location, nil when the source has no file position: live
// and snapshot data are located by ARN, and large accounts should not pay
// for an empty position per user and policy.
type Location struct {
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	// Address names the declaring resource: a Terraform address
	// (module.m.aws_iam_user_policy.p) or a CloudFormation logical ID.
	Address string `json:"address,omitempty"`
}

// Account is one AWS account as seen by one source.
type Account struct {
	ID        string
	Partition string
	Source    Source
	// Users point into storage the source owns (blocks of a snapshot
	// decoder); a pointer per user keeps large accounts from being copied.
	Users  []*User
	Groups []Group
	// Policies are the managed policies whose metadata (and, for customer
	// managed ones, documents) the source provided. Audit needs none of them.
	Policies []ManagedPolicy
	// Partial is set when the source is known to be incomplete, such as a
	// truncated snapshot; Warnings say why.
	Partial  bool
	Warnings []string
	// GroupsKnown says that the account's groups and customer managed
	// policies were collected, as planning needs (an audit does not).
	GroupsKnown bool
	// Error is set when the account could not be read at all (a member of
	// an Organization whose role cannot be assumed): none of its users
	// were evaluated.
	Error string
}

// User is an IAM user with everything the rules look at.
type User struct {
	Name       string
	ID         string
	ARN        string
	Path       string
	CreateDate string
	// Groups are the names of the groups the user belongs to.
	Groups []string
	// AttachedPolicies are managed policies attached directly to the user.
	AttachedPolicies []AttachedPolicy
	// InlinePolicies are policies embedded in the user.
	InlinePolicies []InlinePolicy
	// PermissionsBoundary is the ARN of the boundary policy, if any. A
	// boundary grants nothing; it is evidence only.
	PermissionsBoundary string
	Tags                []Tag
	// Error is set when the user could not be evaluated (for example a
	// listing call was denied); such a user is never reported as passing.
	Error    string
	Location *Location
}

// DirectPolicyCount is the number of policies the user holds directly.
func (u *User) DirectPolicyCount() int {
	return len(u.AttachedPolicies) + len(u.InlinePolicies)
}

// Tag is an IAM tag.
type Tag struct {
	Key   string
	Value string
}

// TagValue returns the value of the tag with the given key.
func (u *User) TagValue(key string) (string, bool) {
	for _, t := range u.Tags {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}

// AttachedPolicy is a managed policy attached to a user or group.
type AttachedPolicy struct {
	Name     string
	ARN      string
	Location *Location
	// Note says what the source leaves open (IaC: a user decided by a
	// variable, one branch of a condition).
	Note string
}

// InlinePolicy is a policy document embedded in a user or group.
type InlinePolicy struct {
	Name string
	// Digest is the sha256 of the canonical document (policydoc.Digest).
	Digest string
	// Canonical is the canonical JSON of the document.
	Canonical string
	// Document is the document exactly as the source gave it, kept only
	// when asked for (apply backs it up verbatim).
	Document string
	// Size is the document's length as IAM counts it (white space excluded).
	Size     int
	Location *Location
	// Note says what the source leaves open (see AttachedPolicy.Note).
	Note string
}

// Group is an IAM group.
type Group struct {
	Name             string
	ID               string
	ARN              string
	Path             string
	AttachedPolicies []AttachedPolicy
	InlinePolicies   []InlinePolicy
}

// ManagedPolicy is a managed policy (AWS or customer managed).
type ManagedPolicy struct {
	Name             string
	ARN              string
	Path             string
	DefaultVersionID string
	AttachmentCount  int
	// Document is the canonical default version, when the source has it.
	Document string
	Digest   string
}
