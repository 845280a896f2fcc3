package iac

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/rule"
)

// Merge combines scans of several paths.
func Merge(scans ...*Scan) *Scan {
	out := &Scan{}
	for _, s := range scans {
		if s == nil {
			continue
		}
		out.Files += s.Files
		out.Findings = append(out.Findings, s.Findings...)
		out.Users = append(out.Users, s.Users...)
		out.Errors = append(out.Errors, s.Errors...)
	}
	return out
}

// Account turns a scan into the one model every source becomes: a user
// per targeted or declared user (by name when the source decides it, else
// by how it is referenced), each finding an attachment or inline policy
// located at its resource, and each unreadable file a user that could not
// be evaluated. kind names the source ("iac").
func (s *Scan) Account(kind string) *model.Account {
	a := &model.Account{Source: model.Source{Kind: kind, Name: "infrastructure as code"}, Partition: "aws"}
	byKey := map[string]*model.User{}
	user := func(name, ref string, loc model.Location) *model.User {
		key := name
		if key == "" {
			key = ref
		}
		u := byKey[key]
		if u == nil {
			u = &model.User{Name: key, ARN: key}
			if loc.File != "" {
				l := loc
				u.Location = &l
			}
			byKey[key] = u
			a.Users = append(a.Users, u)
		}
		return u
	}
	// A declared user without a literal name is known by its address;
	// findings may reference it as the address itself (Terraform) or as
	// "Ref: <logical ID>" (CloudFormation).
	alias := map[string]string{}
	for _, d := range s.Users {
		name := d.Name
		ref := d.Location.Address
		u := user(name, ref, d.Location)
		if u.Location == nil || u.Location.File == "" {
			l := d.Location
			u.Location = &l
		}
		if name == "" && ref != "" {
			alias["Ref: "+ref] = ref
		}
	}
	for _, f := range s.Findings {
		ref := f.UserRef
		if a, ok := alias[ref]; ok && f.User == "" {
			ref = a
		}
		u := user(f.User, ref, model.Location{})
		loc := f.Location
		policy := f.Policy
		if policy == "" {
			policy = f.PolicyRef
		}
		if policy == "" {
			policy = "(unnamed)"
		}
		if f.Kind == "inline" {
			u.InlinePolicies = append(u.InlinePolicies, model.InlinePolicy{Name: policy, Location: &loc, Note: f.Note})
		} else {
			u.AttachedPolicies = append(u.AttachedPolicies, model.AttachedPolicy{Name: policy, ARN: policy, Location: &loc, Note: f.Note})
		}
	}
	for _, e := range s.Errors {
		loc := model.Location{File: e.File, Line: e.Line, Column: e.Column}
		a.Users = append(a.Users, &model.User{Name: e.File, ARN: "file:" + e.File, Error: e.Msg, Location: &loc})
	}
	slices.SortStableFunc(a.Users, func(x, y *model.User) int { return strings.Compare(x.Name, y.Name) })
	return a
}

// Suppress applies the in-source suppressions to the results: a
// violation whose resource carries a live suppression is exempt, and a
// result all of whose violations are exempt is EXEMPT. An expired
// suppression no longer applies and is reported.
func (s *Scan) Suppress(results []rule.Result, now time.Time) (warnings []string) {
	type key struct {
		file string
		line int
	}
	sup := map[key]*Finding{}
	for i := range s.Findings {
		f := &s.Findings[i]
		if f.Suppression != nil {
			sup[key{f.Location.File, f.Location.Line}] = f
		}
	}
	today := now.UTC().Format("2006-01-02")
	reported := map[key]bool{}
	for i := range results {
		r := &results[i]
		if r.Status != rule.Fail {
			continue
		}
		live := 0
		var first *rule.Exemption
		for j := range r.Violations {
			v := &r.Violations[j]
			if v.Location == nil {
				continue
			}
			k := key{v.Location.File, v.Location.Line}
			f := sup[k]
			if f == nil {
				continue
			}
			e := &rule.Exemption{ID: fmt.Sprintf("suppression at %s:%d", v.Location.File, f.Suppression.Line),
				Reason: f.Suppression.Reason, Expires: f.Suppression.Expires}
			if e.Expires != "" && e.Expires < today {
				e.Expired = true
				if !reported[k] {
					reported[k] = true
					warnings = append(warnings, fmt.Sprintf("%s: the suppression of %s expired on %s; it no longer applies",
						k.file, v.Location.Address, e.Expires))
				}
			} else {
				live++
				if first == nil {
					first = e
				}
			}
			v.Exemption = e
		}
		if live == len(r.Violations) && first != nil {
			r.Status, r.Exemption = rule.Exempt, first
		}
	}
	return warnings
}
