package exempt

import (
	"fmt"
	"path"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/iamgroups/iamgroups/internal/yamlconf"
)

// Parse parses and validates an exemptions config. name is used in error
// messages and as Config.Path. An empty or comments-only file is an empty
// config. Every problem found is reported, each as an *Error joined into
// the returned error.
func Parse(data []byte, name string) (*Config, error) {
	p := &parser{Problems: yamlconf.Problems{File: name}}
	cfg := &Config{Path: name}

	doc, err := p.Decode(data)
	if err != nil {
		return nil, err
	}
	if doc != nil && len(doc.Content) > 0 {
		cfg.Exemptions = p.root(doc.Content[0])
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// parser reads an exemptions config; the Problems it embeds collect what is
// wrong.
type parser struct {
	yamlconf.Problems
}

var (
	topKeys   = []string{"version", "exemptions"}
	entryKeys = []string{"users", "tags", "policies", "accounts", "reason", "expires"}
)

func (p *parser) root(n *yaml.Node) []Exemption {
	n = yamlconf.Deref(n)
	if yamlconf.IsNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.Errorf(n, "", "the config must be a mapping with the key \"exemptions\" (and optionally \"version: 1\"), found %s", yamlconf.Describe(n))
		return nil
	}
	var out []Exemption
	for _, kv := range p.Pairs(n, "", topKeys) {
		switch kv.Key {
		case "version":
			p.Version(kv.Value)
		case "exemptions":
			out = p.exemptions(kv.Value)
		}
	}
	return out
}

func (p *parser) exemptions(n *yaml.Node) []Exemption {
	n = yamlconf.Deref(n)
	if yamlconf.IsNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.Errorf(n, "exemptions", "must be a list of entries (each starting with \"- \"), found %s", yamlconf.Describe(n))
		return nil
	}
	out := make([]Exemption, 0, len(n.Content))
	for i, item := range n.Content {
		if e, ok := p.entry(item, fmt.Sprintf("exemptions[%d]", i)); ok {
			out = append(out, e)
		}
	}
	return out
}

func (p *parser) entry(n *yaml.Node, field string) (Exemption, bool) {
	n = yamlconf.Deref(n)
	if n.Kind != yaml.MappingNode {
		p.Errorf(n, field, "must be a mapping with users, tags or policies and a reason, found %s", yamlconf.Describe(n))
		return Exemption{}, false
	}
	before := len(p.Errs)
	e := Exemption{Line: n.Line, Column: n.Column}
	hasReason, hasSelector, hasAccounts := false, false, false
	for _, kv := range p.Pairs(n, field, entryKeys) {
		f := yamlconf.Join(field, kv.Key)
		switch kv.Key {
		case "users":
			hasSelector = true
			e.Users = p.list(kv.Value, f, p.checkUser)
		case "tags":
			hasSelector = true
			e.Tags = p.list(kv.Value, f, p.checkTag)
		case "policies":
			hasSelector = true
			e.Policies = p.list(kv.Value, f, p.checkPolicy)
		case "accounts":
			hasAccounts = true
			e.Accounts = p.list(kv.Value, f, p.checkAccount)
		case "reason":
			hasReason = true
			e.Reason = p.reason(kv.Value, f)
		case "expires":
			e.Expires = p.date(kv.Value, f)
		}
	}
	if !hasReason {
		p.Errorf(n, yamlconf.Join(field, "reason"), "missing; every exemption needs a reason saying why it is allowed")
	}
	// The selectors' own problems are reported above; this is about which
	// of them the entry has at all.
	switch {
	case hasSelector:
	case hasAccounts:
		p.Errorf(n, field, "accounts alone would exempt every user of those accounts; add users, tags or policies")
	default:
		p.Errorf(n, field, "selects nothing; add users, tags or policies")
	}
	return e, len(p.Errs) == before
}

// list reads a list of strings, or a single string as a one-element list,
// checking each value with check.
func (p *parser) list(n *yaml.Node, field string, check func(n *yaml.Node, field, value string)) []string {
	n = yamlconf.Deref(n)
	var items []*yaml.Node
	var fields []string
	switch {
	case yamlconf.IsNull(n):
		p.Errorf(n, field, "has no value; give a list of values or remove the key")
		return nil
	case n.Kind == yaml.ScalarNode:
		items, fields = []*yaml.Node{n}, []string{field}
	case n.Kind == yaml.SequenceNode:
		if len(n.Content) == 0 {
			p.Errorf(n, field, "is an empty list; give at least one value or remove the key")
			return nil
		}
		for i, item := range n.Content {
			items = append(items, item)
			fields = append(fields, fmt.Sprintf("%s[%d]", field, i))
		}
	default:
		p.Errorf(n, field, "must be a list of strings, found %s", yamlconf.Describe(n))
		return nil
	}
	out := make([]string, 0, len(items))
	before := len(p.Errs)
	for i, item := range items {
		s, ok := p.Scalar(item, fields[i], "a string")
		if !ok {
			continue
		}
		if strings.TrimSpace(s) == "" {
			p.Errorf(yamlconf.Deref(item), fields[i], "is empty; write a value or remove it")
			continue
		}
		check(yamlconf.Deref(item), fields[i], s)
		out = append(out, s)
	}
	if len(p.Errs) != before {
		return nil
	}
	return out
}

func (p *parser) checkGlob(n *yaml.Node, field, pattern string) bool {
	if _, err := path.Match(pattern, ""); err != nil {
		p.Errorf(n, field, "%q is not a valid glob (%v); use *, ?, [a-z] and \\ to escape, and close every [", pattern, err)
		return false
	}
	return true
}

func (p *parser) checkUser(n *yaml.Node, field, s string) {
	if !p.checkGlob(n, field, s) {
		return
	}
	if !isARN(s) && strings.Contains(s, "/") {
		p.Errorf(n, field, "%q contains '/', which no user name does; to match users by path write an ARN glob such as \"arn:aws:iam::*:user/ops/*\"", s)
	}
}

func (p *parser) checkPolicy(n *yaml.Node, field, s string) {
	if !p.checkGlob(n, field, s) {
		return
	}
	if !isARN(s) && strings.Contains(s, "/") {
		p.Errorf(n, field, "%q contains '/', which no policy name does; to match policies by path write an ARN glob such as \"arn:aws:iam::*:policy/team/*\"", s)
	}
}

func (p *parser) checkTag(n *yaml.Node, field, s string) {
	key, _, ok := strings.Cut(s, "=")
	switch {
	case !ok:
		p.Errorf(n, field, "%q has no '='; write it as key=value", s)
	case key == "":
		p.Errorf(n, field, "%q has an empty key; write it as key=value", s)
	}
}

func (p *parser) checkAccount(n *yaml.Node, field, s string) {
	if len(s) != 12 || strings.Trim(s, "0123456789") != "" {
		p.Errorf(n, field, "%q is not an AWS account ID; write the 12 digits in quotes, such as \"111122223333\"", s)
	}
}

func (p *parser) reason(n *yaml.Node, field string) string {
	s, ok := p.Scalar(n, field, "a sentence saying why the exemption is allowed")
	if ok && strings.TrimSpace(s) == "" {
		p.Errorf(yamlconf.Deref(n), field, "is empty; say why the exemption is allowed")
	}
	return s
}

func (p *parser) date(n *yaml.Node, field string) string {
	s, ok := p.Scalar(n, field, "a date as YYYY-MM-DD")
	if !ok {
		return ""
	}
	if _, err := time.Parse(dateLayout, s); err != nil || len(s) != len(dateLayout) {
		p.Errorf(yamlconf.Deref(n), field, "%q is not a date; write it as YYYY-MM-DD", s)
		return ""
	}
	return s
}
