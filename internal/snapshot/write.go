package snapshot

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/iamgroups/iamgroups/internal/atomicfile"
	"github.com/iamgroups/iamgroups/internal/model"
)

// The GAAD shapes written by Write, with the member names AWS uses.
type (
	gaadBody struct {
		UserDetailList  []gaadUser   `json:"UserDetailList"`
		GroupDetailList []gaadGroup  `json:"GroupDetailList"`
		RoleDetailList  []struct{}   `json:"RoleDetailList"`
		Policies        []gaadPolicy `json:"Policies"`
		IsTruncated     bool         `json:"IsTruncated"`
	}
	gaadUser struct {
		Path                    string         `json:"Path"`
		UserName                string         `json:"UserName"`
		UserID                  string         `json:"UserId"`
		Arn                     string         `json:"Arn"`
		CreateDate              string         `json:"CreateDate,omitempty"`
		UserPolicyList          []gaadInline   `json:"UserPolicyList,omitempty"`
		GroupList               []string       `json:"GroupList"`
		AttachedManagedPolicies []gaadAttached `json:"AttachedManagedPolicies"`
		PermissionsBoundary     *gaadBoundary  `json:"PermissionsBoundary,omitempty"`
		Tags                    []gaadTag      `json:"Tags,omitempty"`
		EvaluationError         string         `json:"EvaluationError,omitempty"`
	}
	gaadGroup struct {
		Path                    string         `json:"Path"`
		GroupName               string         `json:"GroupName"`
		GroupID                 string         `json:"GroupId"`
		Arn                     string         `json:"Arn"`
		GroupPolicyList         []gaadInline   `json:"GroupPolicyList"`
		AttachedManagedPolicies []gaadAttached `json:"AttachedManagedPolicies"`
	}
	gaadPolicy struct {
		PolicyName        string        `json:"PolicyName"`
		Arn               string        `json:"Arn"`
		Path              string        `json:"Path"`
		DefaultVersionID  string        `json:"DefaultVersionId"`
		AttachmentCount   int           `json:"AttachmentCount"`
		PolicyVersionList []gaadVersion `json:"PolicyVersionList"`
	}
	gaadVersion struct {
		Document         json.RawMessage `json:"Document"`
		VersionID        string          `json:"VersionId"`
		IsDefaultVersion bool            `json:"IsDefaultVersion"`
	}
	gaadInline struct {
		PolicyName     string          `json:"PolicyName"`
		PolicyDocument json.RawMessage `json:"PolicyDocument"`
	}
	gaadAttached struct {
		PolicyName string `json:"PolicyName"`
		PolicyArn  string `json:"PolicyArn"`
	}
	gaadBoundary struct {
		PermissionsBoundaryType string `json:"PermissionsBoundaryType"`
		PermissionsBoundaryArn  string `json:"PermissionsBoundaryArn"`
	}
	gaadTag struct {
		Key   string `json:"Key"`
		Value string `json:"Value"`
	}
)

type ownFormat struct {
	Schema               string   `json:"schema"`
	Metadata             Metadata `json:"metadata"`
	AuthorizationDetails gaadBody `json:"authorization_details"`
}

// Write writes an account in the project's snapshot format. Inline and
// managed policy documents are written in canonical form.
func Write(w io.Writer, a *model.Account, meta Metadata) error {
	if meta.AccountID == "" {
		meta.AccountID = a.ID
	}
	if meta.Partition == "" {
		meta.Partition = a.Partition
	}
	body := gaadBody{
		UserDetailList:  make([]gaadUser, 0, len(a.Users)),
		GroupDetailList: make([]gaadGroup, 0, len(a.Groups)),
		RoleDetailList:  []struct{}{},
		Policies:        make([]gaadPolicy, 0, len(a.Policies)),
	}
	for _, u := range a.Users {
		gu := gaadUser{
			Path: u.Path, UserName: u.Name, UserID: u.ID, Arn: u.ARN, CreateDate: u.CreateDate,
			GroupList:               append([]string{}, u.Groups...),
			AttachedManagedPolicies: attachedOut(u.AttachedPolicies),
			UserPolicyList:          inlineOut(u.InlinePolicies),
			EvaluationError:         u.Error,
		}
		if u.PermissionsBoundary != "" {
			gu.PermissionsBoundary = &gaadBoundary{"Policy", u.PermissionsBoundary}
		}
		for _, t := range u.Tags {
			gu.Tags = append(gu.Tags, gaadTag(t))
		}
		body.UserDetailList = append(body.UserDetailList, gu)
	}
	for _, g := range a.Groups {
		body.GroupDetailList = append(body.GroupDetailList, gaadGroup{
			Path: g.Path, GroupName: g.Name, GroupID: g.ID, Arn: g.ARN,
			GroupPolicyList:         append([]gaadInline{}, inlineOut(g.InlinePolicies)...),
			AttachedManagedPolicies: attachedOut(g.AttachedPolicies),
		})
	}
	for _, p := range a.Policies {
		gp := gaadPolicy{PolicyName: p.Name, Arn: p.ARN, Path: p.Path, DefaultVersionID: p.DefaultVersionID,
			AttachmentCount: p.AttachmentCount, PolicyVersionList: []gaadVersion{}}
		if p.Document != "" {
			gp.PolicyVersionList = append(gp.PolicyVersionList, gaadVersion{json.RawMessage(p.Document), p.DefaultVersionID, true})
		}
		body.Policies = append(body.Policies, gp)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(ownFormat{Schema: Schema, Metadata: meta, AuthorizationDetails: body}); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	return nil
}

// WriteFile writes an account's snapshot to path atomically.
func WriteFile(path string, a *model.Account, meta Metadata) error {
	return atomicfile.Write(path, 0o600, func(w io.Writer) error { return Write(w, a, meta) })
}

func attachedOut(ps []model.AttachedPolicy) []gaadAttached {
	out := make([]gaadAttached, 0, len(ps))
	for _, p := range ps {
		out = append(out, gaadAttached{p.Name, p.ARN})
	}
	return out
}

func inlineOut(ps []model.InlinePolicy) []gaadInline {
	var out []gaadInline
	for _, p := range ps {
		out = append(out, gaadInline{p.Name, json.RawMessage(p.Canonical)})
	}
	return out
}
