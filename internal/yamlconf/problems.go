package yamlconf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxProblems bounds how many problems a Problems records; one more says
// there were too many.
const MaxProblems = 50

// Problems collects the problems found in one config file. A parser embeds
// it and reports through Errorf, Pairs, Scalar and Version.
type Problems struct {
	// File names the config in every *Error.
	File string
	// Errs are the problems found so far, each an *Error unless a parser
	// appends others itself.
	Errs []error
	// MergeKeyAsName makes Pairs report a merge key (<<) as any key that is
	// not a plain name ("a key must be a plain name, found the string
	// \"<<\"; ..."), as the serve config does, instead of saying that merge
	// keys are not supported.
	MergeKeyAsName bool
}

// Errorf records a problem with the value at n (nil for no position) of
// field. After MaxProblems problems it records that there are too many,
// then nothing more.
func (p *Problems) Errorf(n *yaml.Node, field, format string, args ...any) {
	if len(p.Errs) == MaxProblems {
		p.Errs = append(p.Errs, &Error{File: p.File, Msg: "too many problems; fix these and run again"})
	}
	if len(p.Errs) > MaxProblems {
		return
	}
	e := &Error{File: p.File, Field: field, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	p.Errs = append(p.Errs, e)
}

// Err joins the problems recorded (errors.Join), or is nil if there are none.
func (p *Problems) Err() error {
	return errors.Join(p.Errs...)
}

// Decode decodes data, which must hold one YAML document, and returns its
// document node, or nil when data holds none (it is empty or only comments).
// A syntax error is returned, located by SyntaxError. A second document is
// recorded as a problem, and the first is still returned.
func (p *Problems) Decode(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, SyntaxError(data, p.File, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, SyntaxError(data, p.File, err)
	default:
		p.Errorf(&next, "", "a second YAML document; the config is one document, remove the '---' and what follows or merge it into the first")
	}
	return &doc, nil
}

// Pair is one key of a mapping with its value.
type Pair struct {
	// Key is the key's text.
	Key string
	// KeyNode is the key as written (an alias is not followed).
	KeyNode *yaml.Node
	// Value is the value as written (an alias is not followed).
	Value *yaml.Node
}

// Pairs returns the keys of the mapping m at field in file order, reporting
// and leaving out keys that are not plain names, merge keys, keys not in
// known (suggesting the closest known one) and repeated keys.
func (p *Problems) Pairs(m *yaml.Node, field string, known []string) []Pair {
	var out []Pair
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := Deref(m.Content[i]), m.Content[i+1]
		kf := Join(field, k.Value)
		if k.Kind != yaml.ScalarNode || IsNull(k) || (p.MergeKeyAsName && k.ShortTag() == "!!merge") {
			p.Errorf(m.Content[i], field, "a key must be a plain name, found %s; use one of %s", Describe(k), strings.Join(known, ", "))
			continue
		}
		if k.ShortTag() == "!!merge" {
			p.Errorf(m.Content[i], field, "merge keys (<<) are not supported; write the keys out")
			continue
		}
		if !slices.Contains(known, k.Value) {
			msg := "unknown key; use one of " + strings.Join(known, ", ")
			if s := Suggest(k.Value, known); s != "" {
				msg = fmt.Sprintf("unknown key; did you mean %q? (known: %s)", s, strings.Join(known, ", "))
			}
			p.Errorf(m.Content[i], kf, "%s", msg)
			continue
		}
		if line, dup := seen[k.Value]; dup {
			p.Errorf(m.Content[i], kf, "duplicate key (first on line %d); keep one", line)
			continue
		}
		seen[k.Value] = k.Line
		out = append(out, Pair{Key: k.Value, KeyNode: m.Content[i], Value: v})
	}
	return out
}

// Scalar returns the text of the scalar value n of field, reporting
// anything else; want says what the value should be, such as "a string".
func (p *Problems) Scalar(n *yaml.Node, field, want string) (string, bool) {
	n = Deref(n)
	switch {
	case IsNull(n):
		p.Errorf(n, field, "has no value; write %s", want)
	case n.Kind != yaml.ScalarNode:
		p.Errorf(n, field, "must be %s, found %s", want, Describe(n))
	default:
		return n.Value, true
	}
	return "", false
}

// Version checks the value of the optional top-level key "version": it
// must be 1.
func (p *Problems) Version(n *yaml.Node) {
	s, ok := p.Scalar(n, "version", "1")
	if ok && s != "1" {
		p.Errorf(Deref(n), "version", "%s is not supported; write \"version: 1\" or leave it out", Describe(Deref(n)))
	}
}
