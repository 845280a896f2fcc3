package exempt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// maxErrors bounds how many problems Parse reports at once.
const maxErrors = 50

// Parse parses and validates an exemptions config. name is used in error
// messages and as Config.Path. An empty or comments-only file is an empty
// config. Every problem found is reported, each as an *Error joined into
// the returned error.
func Parse(data []byte, name string) (*Config, error) {
	p := &parser{file: name, data: data}
	cfg := &Config{Path: name}

	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return cfg, nil
		}
		return nil, p.syntaxError(err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, p.syntaxError(err)
	default:
		p.errorf(&next, "", "a second YAML document; the config is one document, remove the '---' and what follows or merge it into the first")
	}

	if len(doc.Content) > 0 {
		cfg.Exemptions = p.root(doc.Content[0])
	}
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return cfg, nil
}

type parser struct {
	file string
	data []byte
	errs []error
}

func (p *parser) errorf(n *yaml.Node, field, format string, args ...any) {
	if len(p.errs) == maxErrors {
		p.errs = append(p.errs, &Error{File: p.file, Msg: "too many problems; fix these and run again"})
	}
	if len(p.errs) > maxErrors {
		return
	}
	e := &Error{File: p.file, Field: field, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	p.errs = append(p.errs, e)
}

// deref follows an alias to the node it names. An anchored node is never
// itself an alias, so one step is enough; the bound is a guard.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; i < 8 && n.Kind == yaml.AliasNode && n.Alias != nil; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names a node's type for "found ..." messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing"
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		}
		return fmt.Sprintf("the string %q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "an unknown node"
}

// pair is one key of a mapping with its value.
type pair struct {
	key   string
	kNode *yaml.Node
	value *yaml.Node
}

// pairs returns the keys of a mapping, reporting non-string and duplicate
// keys and keys not in known.
func (p *parser) pairs(m *yaml.Node, field string, known []string) []pair {
	var out []pair
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := deref(m.Content[i]), m.Content[i+1]
		kf := join(field, k.Value)
		if k.Kind != yaml.ScalarNode || isNull(k) {
			p.errorf(m.Content[i], field, "a key must be a plain name, found %s; use one of %s", describe(k), strings.Join(known, ", "))
			continue
		}
		if k.ShortTag() == "!!merge" {
			p.errorf(m.Content[i], field, "merge keys (<<) are not supported; write the keys out")
			continue
		}
		if !contains(known, k.Value) {
			msg := fmt.Sprintf("unknown key; use one of %s", strings.Join(known, ", "))
			if s := suggest(k.Value, known); s != "" {
				msg = fmt.Sprintf("unknown key; did you mean %q? (known: %s)", s, strings.Join(known, ", "))
			}
			p.errorf(m.Content[i], kf, "%s", msg)
			continue
		}
		if line, dup := seen[k.Value]; dup {
			p.errorf(m.Content[i], kf, "duplicate key (first on line %d); keep one", line)
			continue
		}
		seen[k.Value] = k.Line
		out = append(out, pair{key: k.Value, kNode: m.Content[i], value: v})
	}
	return out
}

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var (
	topKeys   = []string{"version", "exemptions"}
	entryKeys = []string{"users", "tags", "policies", "accounts", "reason", "expires"}
)

func (p *parser) root(n *yaml.Node) []Exemption {
	n = deref(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "", "the config must be a mapping with the key \"exemptions\" (and optionally \"version: 1\"), found %s", describe(n))
		return nil
	}
	var out []Exemption
	for _, kv := range p.pairs(n, "", topKeys) {
		switch kv.key {
		case "version":
			p.version(kv.value)
		case "exemptions":
			out = p.exemptions(kv.value)
		}
	}
	return out
}

func (p *parser) version(n *yaml.Node) {
	s, ok := p.scalar(n, "version", "1")
	if ok && s != "1" {
		p.errorf(deref(n), "version", "%s is not supported; write \"version: 1\" or leave it out", describe(deref(n)))
	}
}

func (p *parser) exemptions(n *yaml.Node) []Exemption {
	n = deref(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "exemptions", "must be a list of entries (each starting with \"- \"), found %s", describe(n))
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
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, field, "must be a mapping with users, tags or policies and a reason, found %s", describe(n))
		return Exemption{}, false
	}
	before := len(p.errs)
	e := Exemption{Line: n.Line, Column: n.Column}
	hasReason, hasSelector, hasAccounts := false, false, false
	for _, kv := range p.pairs(n, field, entryKeys) {
		f := join(field, kv.key)
		switch kv.key {
		case "users":
			hasSelector = true
			e.Users = p.list(kv.value, f, p.checkUser)
		case "tags":
			hasSelector = true
			e.Tags = p.list(kv.value, f, p.checkTag)
		case "policies":
			hasSelector = true
			e.Policies = p.list(kv.value, f, p.checkPolicy)
		case "accounts":
			hasAccounts = true
			e.Accounts = p.list(kv.value, f, p.checkAccount)
		case "reason":
			hasReason = true
			e.Reason = p.reason(kv.value, f)
		case "expires":
			e.Expires = p.date(kv.value, f)
		}
	}
	if !hasReason {
		p.errorf(n, join(field, "reason"), "missing; every exemption needs a reason saying why it is allowed")
	}
	// The selectors' own problems are reported above; this is about which
	// of them the entry has at all.
	switch {
	case hasSelector:
	case hasAccounts:
		p.errorf(n, field, "accounts alone would exempt every user of those accounts; add users, tags or policies")
	default:
		p.errorf(n, field, "selects nothing; add users, tags or policies")
	}
	return e, len(p.errs) == before
}

// scalar returns the text of a scalar value, reporting anything else.
func (p *parser) scalar(n *yaml.Node, field, want string) (string, bool) {
	n = deref(n)
	switch {
	case isNull(n):
		p.errorf(n, field, "has no value; write %s", want)
	case n.Kind != yaml.ScalarNode:
		p.errorf(n, field, "must be %s, found %s", want, describe(n))
	default:
		return n.Value, true
	}
	return "", false
}

// list reads a list of strings, or a single string as a one-element list,
// checking each value with check.
func (p *parser) list(n *yaml.Node, field string, check func(n *yaml.Node, field, value string)) []string {
	n = deref(n)
	var items []*yaml.Node
	var fields []string
	switch {
	case isNull(n):
		p.errorf(n, field, "has no value; give a list of values or remove the key")
		return nil
	case n.Kind == yaml.ScalarNode:
		items, fields = []*yaml.Node{n}, []string{field}
	case n.Kind == yaml.SequenceNode:
		if len(n.Content) == 0 {
			p.errorf(n, field, "is an empty list; give at least one value or remove the key")
			return nil
		}
		for i, item := range n.Content {
			items = append(items, item)
			fields = append(fields, fmt.Sprintf("%s[%d]", field, i))
		}
	default:
		p.errorf(n, field, "must be a list of strings, found %s", describe(n))
		return nil
	}
	out := make([]string, 0, len(items))
	before := len(p.errs)
	for i, item := range items {
		s, ok := p.scalar(item, fields[i], "a string")
		if !ok {
			continue
		}
		if strings.TrimSpace(s) == "" {
			p.errorf(deref(item), fields[i], "is empty; write a value or remove it")
			continue
		}
		check(deref(item), fields[i], s)
		out = append(out, s)
	}
	if len(p.errs) != before {
		return nil
	}
	return out
}

func (p *parser) checkGlob(n *yaml.Node, field, pattern string) bool {
	if _, err := path.Match(pattern, ""); err != nil {
		p.errorf(n, field, "%q is not a valid glob (%v); use *, ?, [a-z] and \\ to escape, and close every [", pattern, err)
		return false
	}
	return true
}

func (p *parser) checkUser(n *yaml.Node, field, s string) {
	if !p.checkGlob(n, field, s) {
		return
	}
	if !isARN(s) && strings.Contains(s, "/") {
		p.errorf(n, field, "%q contains '/', which no user name does; to match users by path write an ARN glob such as \"arn:aws:iam::*:user/ops/*\"", s)
	}
}

func (p *parser) checkPolicy(n *yaml.Node, field, s string) {
	if !p.checkGlob(n, field, s) {
		return
	}
	if !isARN(s) && strings.Contains(s, "/") {
		p.errorf(n, field, "%q contains '/', which no policy name does; to match policies by path write an ARN glob such as \"arn:aws:iam::*:policy/team/*\"", s)
	}
}

func (p *parser) checkTag(n *yaml.Node, field, s string) {
	key, _, ok := strings.Cut(s, "=")
	switch {
	case !ok:
		p.errorf(n, field, "%q has no '='; write it as key=value", s)
	case key == "":
		p.errorf(n, field, "%q has an empty key; write it as key=value", s)
	}
}

func (p *parser) checkAccount(n *yaml.Node, field, s string) {
	if len(s) != 12 || strings.Trim(s, "0123456789") != "" {
		p.errorf(n, field, "%q is not an AWS account ID; write the 12 digits in quotes, such as \"111122223333\"", s)
	}
}

func (p *parser) reason(n *yaml.Node, field string) string {
	s, ok := p.scalar(n, field, "a sentence saying why the exemption is allowed")
	if ok && strings.TrimSpace(s) == "" {
		p.errorf(deref(n), field, "is empty; say why the exemption is allowed")
	}
	return s
}

func (p *parser) date(n *yaml.Node, field string) string {
	s, ok := p.scalar(n, field, "a date as YYYY-MM-DD")
	if !ok {
		return ""
	}
	if _, err := time.Parse(dateLayout, s); err != nil || len(s) != len(dateLayout) {
		p.errorf(deref(n), field, "%q is not a date; write it as YYYY-MM-DD", s)
		return ""
	}
	return s
}

// suggest returns the known key closest to key, if it is a likely typo.
func suggest(key string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(key), k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between short strings.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
