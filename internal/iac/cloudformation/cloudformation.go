// Package cloudformation finds, in AWS CloudFormation templates (JSON or
// YAML, hand-written or CDK output such as cdk.out/*.template.json), every
// resource that gives an IAM user a policy directly, for rule IAM-071
// (users get permissions only through groups):
//
//   - AWS::IAM::User with Policies (inline, one finding per policy) or
//     ManagedPolicyArns (managed, one finding per ARN);
//   - AWS::IAM::Policy (inline) and AWS::IAM::ManagedPolicy (managed) with
//     Users, one finding per user;
//   - AWS::IAM::UserPolicy (inline).
//
// Each finding is located at the resource's logical ID (file, line,
// column) with the logical ID as address. Values may use the short-form
// tags (!Ref, !Sub, !If, ...) or the long forms ({"Ref": ...},
// {"Fn::If": ...}). The user is resolved where the template allows:
//
//   - a literal name is the User;
//   - Ref to an AWS::IAM::User resource gives that resource's literal
//     UserName, or UserRef "Ref: <LogicalID>" when it has none (the same
//     UserRef the user's own Policies and ManagedPolicyArns carry);
//   - Ref to a parameter gives UserRef "Ref: <Param>" with the Note "the
//     user is decided by parameter <Param>";
//   - Fn::If gives one finding per branch, each with a Note naming the
//     condition and the branch; Ref AWS::NoValue (and null) gives none;
//   - anything else gives UserRef = a short long-form rendering of the
//     expression ("Fn::ImportValue: SharedUser") with a Note.
//
// A list that is itself an expression (a CommaDelimitedList parameter,
// Fn::Split, ...) gives one finding standing for all its elements. A
// resource with a Condition carries a Note saying so.
//
// Every AWS::IAM::User resource is also reported as an iac.User (Name is
// its literal UserName or ""), so that users who get their permissions
// only through Groups pass.
//
// # Suppressions
//
// A resource is suppressed through its Metadata, in either form:
//
//	Metadata:
//	  iamgroups:
//	    ignore:
//	      - rule: IAM-071
//	        reason: break-glass user, reviewed by security
//	        expires: 2026-12-31     # optional, YYYY-MM-DD
//
//	Metadata:
//	  iamgroups: "ignore IAM-071 break-glass user [exp:2026-12-31]"
//
// In the structured form ignore may also be a single mapping instead of a
// list; in the string form iamgroups may also be a list of such strings,
// and the expiry may be written with or without brackets. The rule is
// matched case-insensitively. A suppression without a reason, or with an
// expiry that is not a YYYY-MM-DD date, is not applied: the finding keeps
// a Note saying why. Suppression.Line is the line of the entry (the
// mapping or the string). Whether an expiry has passed is for the rule to
// decide.
//
// # Templates and errors
//
// A file is a template when its top level is a mapping with an
// AWSTemplateFormatVersion key, or with a Resources mapping one of whose
// values has a Type starting with "AWS::" or "Custom::". Other files
// (package.json, Kubernetes manifests, ...) are skipped silently: an
// empty Scan with Files = 0. A file that contains neither the text
// "Resources" nor "AWSTemplateFormatVersion" is skipped without parsing.
//
// Problems are reported in Scan.Errors, never as the returned error (which
// is reserved and currently always nil): a YAML or JSON syntax error in a
// file that looks like a template (it mentions AWSTemplateFormatVersion,
// or Resources and AWS::/Custom::), a template whose Resources is not a
// mapping, a resource that is not a mapping or has no Type. Broken files
// that do not look like templates (Helm charts, ...) are skipped. JSON
// errors have exact positions; yaml.v3 reports lines only, so YAML syntax
// errors point at the first character of the reported line.
package cloudformation

import (
	"bytes"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/iamgroups/iamgroups/internal/iac"
	"github.com/iamgroups/iamgroups/internal/model"
)

// Resource types this package reads.
const (
	TypeUser          = "AWS::IAM::User"
	TypePolicy        = "AWS::IAM::Policy"
	TypeManagedPolicy = "AWS::IAM::ManagedPolicy"
	TypeUserPolicy    = "AWS::IAM::UserPolicy"
)

// IsCandidate reports whether a file name is worth reading: .json, .yaml,
// .yml, .template (but not .tf.json).
func IsCandidate(path string) bool {
	name := strings.ToLower(filepath.Base(path))
	if strings.HasSuffix(name, ".tf.json") {
		return false
	}
	switch filepath.Ext(name) {
	case ".json", ".yaml", ".yml", ".template":
		return true
	}
	return false
}

// ScanFile scans one template (JSON or YAML, including CDK output
// cdk.out/*.template.json). A file that is not a CloudFormation template
// (no top-level Resources mapping whose values have a Type starting with
// "AWS::" or "Custom::", and no AWSTemplateFormatVersion) returns an empty
// Scan with Files = 0 and no error: skipped silently. A template that is
// broken (YAML/JSON syntax error, Resources not a mapping) gives a
// FileError with line and column.
func ScanFile(path string, data []byte) (*iac.Scan, error) {
	scan := &iac.Scan{}
	if !bytes.Contains(data, []byte("Resources")) && !bytes.Contains(data, []byte("AWSTemplateFormatVersion")) {
		return scan, nil
	}
	root, perr := parse(data, strings.EqualFold(filepath.Ext(path), ".json"))
	if perr != nil {
		if looksLikeTemplate(data) {
			scan.Files = 1
			scan.Errors = append(scan.Errors, iac.FileError{File: path, Line: perr.Line, Column: perr.Column, Msg: perr.Msg})
		}
		return scan, nil
	}
	root = deref(root)
	if root == nil || root.Kind != yaml.MappingNode {
		return scan, nil
	}
	resKey, resources := getKey(root, "Resources")
	hasVersion := get(root, "AWSTemplateFormatVersion") != nil
	if !hasVersion && !hasAWSResource(resources) {
		return scan, nil
	}
	scan.Files = 1
	s := &scanner{path: path, scan: scan, resources: resources, params: get(root, "Parameters")}
	switch {
	case resources == nil && resKey == nil:
		// A template with no resources (CloudFormation rejects it, but
		// there is nothing to flag either).
	case resources == nil || resources.Kind != yaml.MappingNode:
		at := resKey
		if resources != nil {
			at = resources
		}
		s.errorf(at, "Resources is not a mapping")
	default:
		s.byID, s.paramByID = index(resources), index(s.params)
		s.scanResources()
	}
	return scan, nil
}

// looksLikeTemplate is the guess made about a file that does not parse.
func looksLikeTemplate(data []byte) bool {
	if bytes.Contains(data, []byte("AWSTemplateFormatVersion")) {
		return true
	}
	return bytes.Contains(data, []byte("Resources")) &&
		(bytes.Contains(data, []byte("AWS::")) || bytes.Contains(data, []byte("Custom::")))
}

// getKey returns the key node and the value of key in mapping m.
func getKey(m *yaml.Node, key string) (k, v *yaml.Node) {
	m = deref(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if kn := deref(m.Content[i]); kn != nil && kn.Kind == yaml.ScalarNode && kn.Value == key {
			k, v = kn, m.Content[i+1]
		}
	}
	return k, deref(v)
}

func hasAWSResource(resources *yaml.Node) bool {
	if resources == nil || resources.Kind != yaml.MappingNode {
		return false
	}
	for i := 1; i < len(resources.Content); i += 2 {
		if t, ok := literal(get(resources.Content[i], "Type")); ok &&
			(strings.HasPrefix(t, "AWS::") || strings.HasPrefix(t, "Custom::")) {
			return true
		}
	}
	return false
}

type scanner struct {
	path      string
	scan      *iac.Scan
	resources *yaml.Node
	params    *yaml.Node
	// byID indexes resources and parameters by logical ID (the last one
	// when an ID is repeated, as get does).
	byID, paramByID map[string]*yaml.Node
}

func index(m *yaml.Node) map[string]*yaml.Node {
	idx := map[string]*yaml.Node{}
	if m == nil || m.Kind != yaml.MappingNode {
		return idx
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := deref(m.Content[i]); k != nil && k.Kind == yaml.ScalarNode {
			idx[k.Value] = deref(m.Content[i+1])
		}
	}
	return idx
}

func (s *scanner) errorf(at *yaml.Node, msg string) {
	e := iac.FileError{File: s.path, Msg: msg}
	if at != nil {
		e.Line, e.Column = at.Line, at.Column
	}
	s.scan.Errors = append(s.scan.Errors, e)
}

func (s *scanner) loc(key *yaml.Node, id string) model.Location {
	return model.Location{File: s.path, Line: key.Line, Column: key.Column, Address: id}
}

// resource is the resource being scanned.
type resource struct {
	key   *yaml.Node
	val   *yaml.Node
	id    string
	typ   string
	props *yaml.Node
	notes []string
	supp  *iac.Suppression
}

func (s *scanner) scanResources() {
	r := s.resources
	for i := 0; i+1 < len(r.Content); i += 2 {
		key, val := deref(r.Content[i]), deref(r.Content[i+1])
		if key == nil || key.Kind != yaml.ScalarNode {
			s.errorf(r.Content[i], "resource logical ID is not a string")
			continue
		}
		if strings.HasPrefix(key.Value, "Fn::ForEach::") {
			// AWS::LanguageExtensions loops: the resources they
			// generate are scanned from the fragment, with a note.
			s.scanForEach(key, val)
			continue
		}
		s.scanResource(key, key.Value, val, nil)
	}
}

// scanForEach scans the template fragment of a Fn::ForEach loop:
// [Identifier, Collection, {LogicalIdTemplate: Resource, ...}].
func (s *scanner) scanForEach(key, val *yaml.Node) {
	if val == nil || val.Kind != yaml.SequenceNode || len(val.Content) != 3 {
		s.errorf(key, key.Value+": Fn::ForEach needs [identifier, collection, fragment]")
		return
	}
	frag := deref(val.Content[2])
	if frag == nil || frag.Kind != yaml.MappingNode {
		s.errorf(val, key.Value+": Fn::ForEach fragment is not a mapping")
		return
	}
	ident, _ := literal(val.Content[0])
	note := "generated by " + key.Value + " over " + ident + " in " + render(val.Content[1])
	for i := 0; i+1 < len(frag.Content); i += 2 {
		k := deref(frag.Content[i])
		if k == nil || k.Kind != yaml.ScalarNode {
			continue
		}
		s.scanResource(k, k.Value, deref(frag.Content[i+1]), []string{note})
	}
}

func (s *scanner) scanResource(key *yaml.Node, id string, val *yaml.Node, notes []string) {
	if val == nil || val.Kind != yaml.MappingNode {
		s.errorf(key, "resource "+id+" is not a mapping")
		return
	}
	typ, ok := literal(get(val, "Type"))
	if !ok {
		s.errorf(key, "resource "+id+" has no Type")
		return
	}
	switch typ {
	case TypeUser, TypePolicy, TypeManagedPolicy, TypeUserPolicy:
	default:
		return
	}
	res := &resource{key: key, val: val, id: id, typ: typ, props: get(val, "Properties"), notes: notes}
	if c, ok := literal(get(val, "Condition")); ok {
		res.notes = withNote(res.notes, "only if condition "+c+" is true (resource Condition)")
	}
	var suppNote string
	res.supp, suppNote = suppression(get(val, "Metadata"))
	if suppNote != "" {
		res.notes = withNote(res.notes, suppNote)
	}
	switch typ {
	case TypeUser:
		s.scanUser(res)
	case TypePolicy:
		s.scanPolicyUsers(res, "PolicyName", "inline")
	case TypeManagedPolicy:
		s.scanPolicyUsers(res, "ManagedPolicyName", "managed")
	case TypeUserPolicy:
		s.scanUserPolicy(res)
	}
}

// target is who a finding is about.
type target struct {
	user, userRef string
	notes         []string
}

// pol is the policy a finding is about.
type pol struct {
	name, ref string
	notes     []string
}

func (s *scanner) add(res *resource, kind string, t target, p pol) {
	var notes []string
	notes = append(notes, res.notes...)
	notes = append(notes, t.notes...)
	notes = append(notes, p.notes...)
	f := iac.Finding{
		Location:  s.loc(res.key, res.id),
		Type:      res.typ,
		User:      t.user,
		UserRef:   t.userRef,
		Kind:      kind,
		Policy:    p.name,
		PolicyRef: p.ref,
		Note:      strings.Join(dedupe(notes), "; "),
	}
	if res.supp != nil {
		c := *res.supp
		f.Suppression = &c
	}
	s.scan.Findings = append(s.scan.Findings, f)
}

func dedupe(ss []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// userResource returns the AWS::IAM::User resource with the logical ID.
func (s *scanner) userResource(id string) (*yaml.Node, bool) {
	r := s.byID[id]
	if r == nil {
		return nil, false
	}
	t, _ := literal(get(r, "Type"))
	return r, t == TypeUser
}

// self is the target of an AWS::IAM::User's own policies, and what a Ref
// to it resolves to.
func selfTarget(id string, user *yaml.Node) target {
	un := get(get(user, "Properties"), "UserName")
	if name, ok := literal(un); ok {
		return target{user: name}
	}
	t := target{userRef: "Ref: " + id}
	if !isNull(un) && !isNoValue(un) {
		t.notes = []string{"the user name is decided by " + render(un)}
	}
	return t
}

func (s *scanner) scanUser(res *resource) {
	self := selfTarget(res.id, res.val)
	name, _ := literal(get(res.props, "UserName"))
	s.scan.Users = append(s.scan.Users, iac.User{Name: name, Location: s.loc(res.key, res.id)})

	for _, it := range expandList(get(res.props, "Policies")) {
		p := pol{notes: it.notes}
		if it.whole {
			p.ref = render(it.node)
			p.notes = withNote(p.notes, "the inline policies are decided by "+p.ref)
		} else if it.node.Kind == yaml.MappingNode && !customTag(it.node) {
			if _, _, isFn := intrinsic(it.node); isFn {
				p.ref = render(it.node)
			} else {
				p = s.policyName(get(it.node, "PolicyName"), "", it.notes)
			}
		} else {
			p.ref = render(it.node)
		}
		s.add(res, "inline", self, p)
	}
	for _, it := range expandList(get(res.props, "ManagedPolicyArns")) {
		p := s.policyARN(it.node, it.notes)
		if it.whole {
			p.notes = withNote(p.notes, "the managed policies are decided by "+render(it.node))
		}
		s.add(res, "managed", self, p)
	}
}

// policyName resolves a PolicyName; fallback (a logical ID) is the Policy
// when the name is not literal.
func (s *scanner) policyName(n *yaml.Node, fallback string, notes []string) pol {
	if name, ok := literal(n); ok {
		return pol{name: name, notes: notes}
	}
	p := pol{name: fallback, notes: notes}
	if !isNull(n) {
		p.ref = s.refString(n)
		if pn, ok := refName(n); ok && s.isParam(pn) {
			p.notes = withNote(p.notes, "the policy name is decided by parameter "+pn)
		}
	}
	return p
}

// policyARN resolves one element of ManagedPolicyArns.
func (s *scanner) policyARN(n *yaml.Node, notes []string) pol {
	if arn, ok := literal(n); ok {
		return pol{name: arn, notes: notes}
	}
	p := pol{ref: s.refString(n), notes: notes}
	if pn, ok := refName(n); ok && s.isParam(pn) {
		p.notes = withNote(p.notes, "the policy is decided by parameter "+pn)
	}
	return p
}

// refString renders an expression, using "Ref: X" for a Ref.
func (s *scanner) refString(n *yaml.Node) string {
	if r, ok := refName(n); ok {
		return "Ref: " + r
	}
	return render(n)
}

func (s *scanner) isParam(name string) bool { return s.paramByID[name] != nil }

// resolveUser resolves one user name expression.
func (s *scanner) resolveUser(n *yaml.Node, notes []string) target {
	if name, ok := literal(n); ok {
		return target{user: name, notes: notes}
	}
	name, arg, isFn := intrinsic(n)
	if isFn && name == "Fn::Sub" {
		// !Sub "alice" and !Sub "${DeployUser}" resolve like a literal
		// and a Ref.
		if str, ok := literal(arg); ok {
			if !strings.Contains(str, "${") {
				return target{user: str, notes: notes}
			}
			if strings.HasPrefix(str, "${") && strings.HasSuffix(str, "}") && strings.Count(str, "${") == 1 &&
				!strings.ContainsAny(str[2:len(str)-1], ".!") {
				return s.resolveRef(str[2:len(str)-1], notes)
			}
		}
	}
	if r, ok := refName(n); ok {
		return s.resolveRef(r, notes)
	}
	expr := render(n)
	return target{userRef: expr, notes: withNote(notes, "the user is decided by "+expr+", which the template does not resolve")}
}

func (s *scanner) resolveRef(r string, notes []string) target {
	if u, ok := s.userResource(r); ok {
		t := selfTarget(r, u)
		t.notes = append(append([]string(nil), notes...), t.notes...)
		return t
	}
	t := target{userRef: "Ref: " + r}
	switch {
	case s.isParam(r):
		t.notes = withNote(notes, "the user is decided by parameter "+r)
	case s.byID[r] != nil:
		typ, _ := literal(get(s.byID[r], "Type"))
		t.notes = withNote(notes, "the user is a Ref to "+r+", a "+typ+" resource, not an AWS::IAM::User")
	default:
		t.notes = withNote(notes, "the user is a Ref to "+r+", which the template does not declare")
	}
	return t
}

func (s *scanner) scanPolicyUsers(res *resource, nameProp, kind string) {
	p := s.policyName(get(res.props, nameProp), res.id, nil)
	for _, it := range expandList(get(res.props, "Users")) {
		var t target
		if it.whole {
			if r, ok := refName(it.node); ok && s.isParam(r) {
				t = target{userRef: "Ref: " + r, notes: withNote(it.notes, "the user is decided by parameter "+r+" (a list of users)")}
			} else {
				expr := render(it.node)
				t = target{userRef: expr, notes: withNote(it.notes, "the users are decided by "+expr+", which the template does not resolve")}
			}
		} else {
			t = s.resolveUser(it.node, it.notes)
		}
		s.add(res, kind, t, p)
	}
}

func (s *scanner) scanUserPolicy(res *resource) {
	p := s.policyName(get(res.props, "PolicyName"), res.id, nil)
	un := get(res.props, "UserName")
	vs := expand(un, nil)
	if len(vs) == 0 && !isNoValue(un) {
		// UserName is required: flag the resource anyway.
		s.add(res, "inline", target{userRef: "(no UserName)", notes: []string{"UserName is missing"}}, p)
		return
	}
	for _, v := range vs {
		s.add(res, "inline", s.resolveUser(v.node, v.notes), p)
	}
}
