// Package plan designs the IAM groups that replace users' direct policies
// and describes the change as a Plan: the customer managed policies to
// create from inline documents, the groups to create with their policies,
// the memberships to add, then the direct policies to detach and the
// inline policies to delete.
//
// Planning is pure and deterministic: the same account and results give
// the same plan, byte for byte. The plan holds DESIGN's invariants: after
// it, a planned user holds no direct policy (other than those an
// exemption allows), receives through groups every permission source it
// held directly and nothing it did not already hold directly or through
// its groups; existing groups are never modified; IAM's quotas hold; a
// user that cannot be planned within them is listed with the reason and
// left untouched.
//
// It imports model, rule and policydoc; no I/O.
package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Schema identifies the plan file format.
const Schema = "iamgroups.plan/v1"

// Quotas are the IAM limits a plan must respect.
type Quotas struct {
	GroupsPerUser      int `json:"groups_per_user"`
	PoliciesPerGroup   int `json:"policies_per_group"`
	GroupsPerAccount   int `json:"groups_per_account"`
	PoliciesPerAccount int `json:"policies_per_account"`
	PolicySize         int `json:"policy_size"`
}

// DefaultQuotas are IAM's default quotas.
func DefaultQuotas() Quotas {
	return Quotas{GroupsPerUser: 10, PoliciesPerGroup: 10, GroupsPerAccount: 300, PoliciesPerAccount: 1500, PolicySize: 6144}
}

// Plan is the designed change for one account.
type Plan struct {
	Schema    string `json:"schema"`
	AccountID string `json:"account_id"`
	Partition string `json:"partition"`
	Quotas    Quotas `json:"quotas"`
	// Policies are customer managed policies to create from inline
	// documents, one per distinct canonical document.
	Policies []Policy `json:"policies"`
	// Groups are the groups to create.
	Groups []Group `json:"groups"`
	// Users are the users the plan changes, with what it does to each.
	Users []User `json:"users"`
	// Unplanned are failing users left untouched, with the reason.
	Unplanned []Unplanned `json:"unplanned"`
	// ExistingGroups fingerprint the existing groups the plan relies on
	// (its users' groups and the ones they join), for apply's stale check.
	ExistingGroups []ExistingGroup `json:"existing_groups"`
	// Actions are the API calls, in the order to make them.
	Actions []Action `json:"actions"`
	Stats   Stats    `json:"stats"`
}

// Policy is a customer managed policy to create.
type Policy struct {
	Name        string `json:"name"`
	Path        string `json:"path"`
	ARN         string `json:"arn"`
	Description string `json:"description"`
	// Digest is the policydoc digest of Document.
	Digest   string `json:"digest"`
	Document string `json:"document"`
}

// Group is a group to create. Policies are ARNs (AWS managed, existing
// customer managed, or the plan's new ones).
type Group struct {
	Name     string   `json:"name"`
	Path     string   `json:"path"`
	Policies []string `json:"policies"`
	Members  []string `json:"members"`
}

// User is one planned user.
type User struct {
	Name string `json:"name"`
	ARN  string `json:"arn"`
	// Digest fingerprints the user's direct policies and memberships as
	// seen when planning; apply refuses a plan whose users changed since.
	Digest string `json:"digest"`
	// Join are the groups (new or existing) the user is added to.
	Join []string `json:"join"`
	// Detach are managed policy ARNs detached from the user.
	Detach []string `json:"detach"`
	// DeleteInline are inline policy names deleted from the user.
	DeleteInline []string `json:"delete_inline"`
	// Keep are direct policies an exemption allows, left in place.
	Keep []string `json:"keep,omitempty"`
}

// ExistingGroup is an existing group's content as seen when planning.
type ExistingGroup struct {
	Name string `json:"name"`
	// Digest covers the group's managed policy ARNs and inline documents.
	Digest string `json:"digest"`
}

// Unplanned is a failing user the plan leaves untouched.
type Unplanned struct {
	Name   string `json:"name"`
	ARN    string `json:"arn"`
	Reason string `json:"reason"`
}

// Action is one IAM call.
type Action struct {
	// Op is create-policy, create-group, attach-group-policy,
	// add-user-to-group, detach-user-policy or delete-user-policy.
	Op         string `json:"op"`
	Group      string `json:"group,omitempty"`
	User       string `json:"user,omitempty"`
	PolicyARN  string `json:"policy_arn,omitempty"`
	PolicyName string `json:"policy_name,omitempty"`
}

// The action kinds, in the order a plan makes them: additive first.
const (
	OpCreatePolicy     = "create-policy"
	OpCreateGroup      = "create-group"
	OpAttachGroup      = "attach-group-policy"
	OpAddUser          = "add-user-to-group"
	OpDetachUserPolicy = "detach-user-policy"
	OpDeleteUserPolicy = "delete-user-policy"
)

// Stats summarise a plan.
type Stats struct {
	PlannedUsers   int `json:"planned_users"`
	UnplannedUsers int `json:"unplanned_users"`
	NewPolicies    int `json:"new_policies"`
	NewGroups      int `json:"new_groups"`
	// ReusedGroups counts existing groups some user joins.
	ReusedGroups int `json:"reused_groups"`
	Memberships  int `json:"memberships"`
	Detachments  int `json:"detachments"`
	Deletions    int `json:"inline_deletions"`
	// LowerBound is a proven lower bound on the new groups any exact
	// plan of the same users needs (without quotas); NewGroups minus
	// LowerBound is the optimality gap.
	LowerBound int `json:"lower_bound"`
}

// Summary is the one-line summary of a plan.
func (p *Plan) Summary() string {
	s := p.Stats
	if s.PlannedUsers == 0 {
		return "Plan: nothing to do."
	}
	return fmt.Sprintf("Plan: %s, %s to create; %s; %s, %s.",
		count(s.NewPolicies, "policy", "policies"), count(s.NewGroups, "group", "groups"),
		count(s.Memberships, "membership", "memberships"),
		count(s.Detachments, "detachment", "detachments"), count(s.Deletions, "inline deletion", "inline deletions"))
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Encode writes the plan file: indented JSON, stable field order.
func (p *Plan) Encode() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("encode plan: %w", err)
	}
	return buf.Bytes(), nil
}

// Decode reads a plan file, refusing unknown fields and other schemas.
func Decode(data []byte) (*Plan, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Plan
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("decode plan: %w", err)
	}
	if p.Schema != Schema {
		return nil, fmt.Errorf("decode plan: schema %q is not %q", p.Schema, Schema)
	}
	return &p, nil
}

// UserDigest fingerprints a user's direct policies and memberships, in
// any order: managed policy ARNs, inline names with their document
// digests, group names.
func UserDigest(managed []string, inline map[string]string, groups []string) string {
	var lines []string
	for _, a := range managed {
		lines = append(lines, "managed "+a)
	}
	for name, digest := range inline {
		lines = append(lines, "inline "+name+" "+digest)
	}
	for _, g := range groups {
		lines = append(lines, "group "+g)
	}
	slices.Sort(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(sum[:])
}
