package terraform

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"

	"github.com/iamgroups/iamgroups/internal/iac"
	"github.com/iamgroups/iamgroups/internal/model"
)

// attrNames are the resource arguments the scan reads.
var attrNames = []string{
	"name", "user", "user_name", "users", "policy_arn", "policy_names", "policy_arns",
	"count", "for_each",
}

// watched are the resource types that give a user a policy, plus users.
var watched = map[string]bool{
	"aws_iam_user":                              true,
	"aws_iam_user_policy":                       true,
	"aws_iam_user_policy_attachment":            true,
	"aws_iam_policy_attachment":                 true,
	"aws_iam_user_policies_exclusive":           true,
	"aws_iam_user_policy_attachments_exclusive": true,
}

// resource is one watched resource of a configuration or plan.
type resource struct {
	typ, name string
	file      string
	line, col int
	address   string // plan only: the full address
	attrs     map[string]val
	supp      *iac.Suppression
}

// moduleCall is a module block with a local source.
type moduleCall struct {
	name, dir string
}

// parsedFile is what one configuration file declares.
type parsedFile struct {
	path      string
	resources []*resource
	calls     []moduleCall
	errs      []iac.FileError
}

// module is one module directory.
type module struct {
	dir   string
	files []*parsedFile
	calls []moduleCall
	users map[string]*resource // aws_iam_user by resource name
}

func (m *module) index() {
	m.users = map[string]*resource{}
	m.calls = m.calls[:0]
	for _, f := range m.files {
		m.calls = append(m.calls, f.calls...)
		for _, r := range f.resources {
			if r.typ == "aws_iam_user" {
				m.users[r.name] = r
			}
		}
	}
}

var rootSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "resource", LabelNames: []string{"type", "name"}},
		{Type: "module", LabelNames: []string{"name"}},
	},
}

var moduleSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "source"}}}

var resourceSchema = func() *hcl.BodySchema {
	s := &hcl.BodySchema{}
	for _, n := range attrNames {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: n})
	}
	return s
}()

// parseConfig parses a .tf or .tf.json file. It never panics on bad input:
// problems become FileErrors.
func parseConfig(path string, data []byte, k fileKind) (pf *parsedFile) {
	pf = &parsedFile{path: path}
	defer func() {
		if r := recover(); r != nil {
			pf.resources, pf.calls = nil, nil
			pf.errs = append(pf.errs, iac.FileError{File: path, Msg: fmt.Sprintf("internal error parsing the file: %v", r)})
		}
	}()
	var file *hcl.File
	var diags hcl.Diagnostics
	if k == kindHCLJSON {
		file, diags = hcljson.Parse(data, path)
	} else {
		file, diags = hclsyntax.ParseConfig(data, path, hcl.InitialPos)
	}
	pf.addDiags(diags)
	if file == nil || file.Body == nil {
		return pf
	}
	content, _, diags := file.Body.PartialContent(rootSchema)
	pf.addDiags(diags)
	if content == nil {
		return pf
	}
	var comments *commentIndex
	if k == kindHCL {
		comments = newCommentIndex(data, path)
	}
	for _, b := range content.Blocks {
		switch b.Type {
		case "module":
			attrs, _, diags := b.Body.PartialContent(moduleSchema)
			pf.addDiags(diags)
			if attrs == nil || attrs.Attributes["source"] == nil {
				continue
			}
			src := exprVal(attrs.Attributes["source"].Expr, data)
			if src.kind == valLiteral && (strings.HasPrefix(src.str, "./") || strings.HasPrefix(src.str, "../")) {
				pf.calls = append(pf.calls, moduleCall{
					name: b.Labels[0],
					dir:  filepath.Clean(filepath.Join(filepath.Dir(path), filepath.FromSlash(src.str))),
				})
			}
		case "resource":
			if len(b.Labels) != 2 || !watched[b.Labels[0]] {
				continue
			}
			attrs, _, diags := b.Body.PartialContent(resourceSchema)
			pf.addDiags(diags)
			r := &resource{
				typ: b.Labels[0], name: b.Labels[1], file: path,
				line: b.DefRange.Start.Line, col: b.DefRange.Start.Column,
				attrs: map[string]val{},
			}
			if attrs != nil {
				for n, a := range attrs.Attributes {
					r.attrs[n] = exprVal(a.Expr, data)
				}
			}
			switch {
			case comments != nil:
				r.supp = comments.suppressionFor(r.line)
			case k == kindHCLJSON:
				// The block's range is its object; the resource starts at
				// its name.
				if off := jsonKeyStart(data, b.DefRange.Start.Byte); off >= 0 {
					r.line, r.col = posAt(data, off)
				}
				r.supp = jsonSuppression(data, b.DefRange.Start.Byte)
			}
			pf.resources = append(pf.resources, r)
		}
	}
	return pf
}

func (pf *parsedFile) addDiags(diags hcl.Diagnostics) {
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		fe := iac.FileError{File: pf.path, Msg: d.Summary}
		if d.Detail != "" {
			fe.Msg += ": " + d.Detail
		}
		if d.Subject != nil {
			fe.Line, fe.Column = d.Subject.Start.Line, d.Subject.Start.Column
		}
		pf.errs = append(pf.errs, fe)
	}
}

// emit adds the module's findings and users once per address prefix.
func (m *module) emit(scan *iac.Scan, prefixes []string) {
	for _, prefix := range prefixes {
		for _, f := range m.files {
			for _, r := range f.resources {
				addr := prefix + r.typ + "." + r.name
				if r.typ == "aws_iam_user" {
					if u, ok := userOf(r, addr); ok {
						scan.Users = append(scan.Users, u)
					}
					continue
				}
				scan.Findings = append(scan.Findings, findingsFor(r, addr, prefix, m.resolveUser)...)
			}
		}
	}
}

// userOf reports an aws_iam_user unless it has no instance.
func userOf(r *resource, addr string) (iac.User, bool) {
	if r.attrs["count"].isEmptyInstances("count") || r.attrs["for_each"].isEmptyInstances("for_each") {
		return iac.User{}, false
	}
	u := iac.User{Location: model.Location{File: r.file, Line: r.line, Column: r.col, Address: addr}}
	if n := r.attrs["name"]; n.kind == valLiteral {
		u.Name = n.str
	}
	return u, true
}

// resolveUser turns a user argument into User, UserRef and Note, following
// a reference to an aws_iam_user of the same module.
func (m *module) resolveUser(v val, prefix string) (user, ref, note string) {
	switch v.kind {
	case valLiteral:
		return v.str, "", ""
	case valRef:
		if x, ok := userTarget(v.str); ok {
			// The module path keeps instances of one module apart.
			ref = prefix + "aws_iam_user." + x
			u := m.users[x]
			if u == nil {
				return "", ref, fmt.Sprintf("the user is %s, which this module does not declare", v.str)
			}
			if n := u.attrs["name"]; n.kind == valLiteral {
				return n.str, ref, ""
			} else if n.kind == valRef {
				return "", ref, fmt.Sprintf("the user's name is decided by %s", n.str)
			}
			return "", ref, "the user's name is not set"
		}
		note = "the user is decided by " + v.str
		if prefix != "" && strings.HasPrefix(v.str, "var.") {
			note += " (an input of " + strings.TrimSuffix(prefix, ".") + ")"
		}
		return "", prefix + v.str, note
	case valAbsent:
		return "", "(not set)", "the resource does not name the user"
	}
	return "", "(unknown)", "the user is not a string"
}

type userResolver func(v val, prefix string) (user, ref, note string)

// findingsFor applies IAM-071's resource rules to one resource.
func findingsFor(r *resource, addr, prefix string, resolve userResolver) []iac.Finding {
	if r.attrs["count"].isEmptyInstances("count") || r.attrs["for_each"].isEmptyInstances("for_each") {
		return nil
	}
	base := iac.Finding{
		Location:    model.Location{File: r.file, Line: r.line, Column: r.col, Address: addr},
		Type:        r.typ,
		Suppression: r.supp,
	}
	one := func(kind string, user, policy val) iac.Finding {
		f := base
		f.Kind = kind
		f.User, f.UserRef, f.Note = resolve(user, prefix)
		if f.User == "" && f.UserRef == "" { // user = ""
			f.UserRef, f.Note = `""`, "the user is an empty string"
		}
		switch policy.kind {
		case valLiteral:
			f.Policy = policy.str
		case valRef:
			f.PolicyRef = policy.str
		}
		return f
	}
	var out []iac.Finding
	switch r.typ {
	case "aws_iam_user_policy":
		out = append(out, one("inline", r.attrs["user"], r.attrs["name"]))
	case "aws_iam_user_policy_attachment":
		out = append(out, one("managed", r.attrs["user"], r.attrs["policy_arn"]))
	case "aws_iam_policy_attachment":
		users := r.attrs["users"]
		switch users.kind {
		case valList:
			for _, u := range users.elems {
				if u.kind == valNull {
					continue
				}
				out = append(out, one("managed", u, r.attrs["policy_arn"]))
			}
		case valRef:
			f := one("managed", users, r.attrs["policy_arn"])
			f.Note = "the users are decided by " + users.str
			out = append(out, f)
		}
	case "aws_iam_user_policies_exclusive", "aws_iam_user_policy_attachments_exclusive":
		kind, listAttr := "inline", "policy_names"
		if r.typ == "aws_iam_user_policy_attachments_exclusive" {
			kind, listAttr = "managed", "policy_arns"
		}
		pols := r.attrs[listAttr]
		switch pols.kind {
		case valList:
			for _, p := range pols.elems {
				if p.kind == valNull {
					continue
				}
				out = append(out, one(kind, r.attrs["user_name"], p))
			}
		case valRef:
			f := one(kind, r.attrs["user_name"], pols)
			if f.Note == "" {
				f.Note = "the policies are decided by " + pols.str
			}
			out = append(out, f)
		}
	}
	return out
}
