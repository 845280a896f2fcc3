// Package policydoc parses IAM policy documents and gives each one a
// canonical form, a digest and a size as IAM counts it.
//
// A document arrives as a JSON object (AWS CLI output), as a JSON string
// holding the document (some exports), or URL-encoded (the API and the SDKs
// return GetAccountAuthorizationDetails documents that way). All three parse
// to the same Document. The canonical form sorts object keys, turns a
// single Statement into a list, turns string-or-list fields (Action,
// NotAction, Resource, NotResource, principals and condition values) into
// sorted lists without duplicates, and drops insignificant white space. Two
// documents that IAM evaluates identically for those reasons get the same
// digest, which is how identical inline policies across users are found.
//
// It imports only the standard library and the project's JSON scanner.
package policydoc

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/iamgroups/iamgroups/internal/jsonscan"
)

// Document is a parsed policy document in canonical form.
type Document struct {
	// Canonical is the canonical JSON text.
	Canonical string
	// Digest is the hex sha256 of Canonical.
	Digest string
	// Size is the number of characters IAM counts against its quotas:
	// the canonical text without white space.
	Size int
}

// ErrNotPolicy is returned for JSON that is not an object at the top.
var ErrNotPolicy = errors.New("policy document is not a JSON object")

// Parse parses a document given as raw JSON: an object, a JSON string
// holding the document, or URL-encoded text.
func Parse(raw []byte) (Document, error) {
	return parse(raw, 0)
}

// ParseString parses a document given as text: JSON, or URL-encoded JSON.
func ParseString(s string) (Document, error) {
	return parse([]byte(s), 0)
}

func parse(raw []byte, depth int) (Document, error) {
	if depth > 3 {
		return Document{}, errors.New("policy document is encoded too many times")
	}
	i := 0
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	if i == len(raw) {
		return Document{}, errors.New("policy document is empty")
	}
	switch raw[i] {
	case '{':
		d := jsonscan.NewDecoder(raw)
		n, err := parseValue(d)
		if err != nil {
			return Document{}, fmt.Errorf("parse policy document: %w", err)
		}
		if !d.AtEOF() {
			return Document{}, fmt.Errorf("parse policy document: %w",
				&jsonscan.SyntaxError{Offset: d.Pos(), Msg: "unexpected data after the document"})
		}
		return fromNode(n), nil
	case '"':
		d := jsonscan.NewDecoder(raw)
		s, err := d.ReadString()
		if err != nil {
			return Document{}, fmt.Errorf("parse policy document: %w", err)
		}
		if !d.AtEOF() {
			return Document{}, fmt.Errorf("parse policy document: %w",
				&jsonscan.SyntaxError{Offset: d.Pos(), Msg: "unexpected data after the document"})
		}
		return parse([]byte(s), depth+1)
	case '%':
		s, err := url.PathUnescape(string(raw[i:]))
		if err != nil {
			return Document{}, fmt.Errorf("URL-decode policy document: %w", err)
		}
		return parse([]byte(s), depth+1)
	}
	return Document{}, ErrNotPolicy
}

func fromNode(n *node) Document {
	var b strings.Builder
	b.Grow(256)
	writeCanonical(&b, n, "")
	c := b.String()
	sum := sha256.Sum256([]byte(c))
	return Document{Canonical: c, Digest: hex.EncodeToString(sum[:]), Size: Size(c)}
}

// Size counts the characters of text that IAM counts: all but white space.
func Size(text string) int {
	n := 0
	for _, r := range text {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// node is a generic JSON value. Scalars keep their JSON text: strings
// decoded, numbers and literals verbatim.
type node struct {
	kind jsonscan.Kind
	text string
	keys []string
	vals []*node
}

func parseValue(d *jsonscan.Decoder) (*node, error) {
	switch k := d.Peek(); k {
	case jsonscan.Object:
		n := &node{kind: k}
		err := d.Object(func(key string) error {
			v, err := parseValue(d)
			if err != nil {
				return err
			}
			// A repeated key is kept with every value, in order: readers
			// disagree on which one wins, so two documents that differ
			// only there must not share a digest.
			n.keys = append(n.keys, key)
			n.vals = append(n.vals, v)
			return nil
		})
		return n, err
	case jsonscan.Array:
		n := &node{kind: k}
		err := d.Array(func() error {
			v, err := parseValue(d)
			if err != nil {
				return err
			}
			n.vals = append(n.vals, v)
			return nil
		})
		return n, err
	case jsonscan.String:
		s, err := d.ReadString()
		return &node{kind: k, text: strings.Clone(s)}, err
	case jsonscan.Number:
		s, err := d.ReadNumber()
		return &node{kind: k, text: strings.Clone(s)}, err
	case jsonscan.Bool:
		v, err := d.ReadBool()
		return &node{kind: k, text: strconv.FormatBool(v)}, err
	case jsonscan.Null:
		return &node{kind: k, text: "null"}, d.ReadNull()
	}
	return nil, d.Skip() // reports the syntax error
}

// listFields hold a string or a list of strings whose order carries no
// meaning.
var listFields = map[string]bool{
	"Action": true, "NotAction": true, "Resource": true, "NotResource": true,
}

// writeCanonical writes n; parent names the member that holds n, which
// decides the normalisations that apply.
func writeCanonical(b *strings.Builder, n *node, parent string) {
	switch n.kind {
	case jsonscan.Object:
		order := make([]int, len(n.keys))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(x, y int) int { return strings.Compare(n.keys[x], n.keys[y]) })
		b.WriteByte('{')
		for j, i := range order {
			if j > 0 {
				b.WriteByte(',')
			}
			writeString(b, n.keys[i])
			b.WriteByte(':')
			child := n.vals[i]
			key := n.keys[i]
			switch {
			case parent == "" && key == "Statement" && child.kind == jsonscan.Object:
				b.WriteByte('[')
				writeCanonical(b, child, key)
				b.WriteByte(']')
			case parent == "" && key == "Statement":
				writeCanonical(b, child, key)
			case parent == "Statement" && listFields[key]:
				writeSet(b, child)
			case parent == "Statement" && (key == "Principal" || key == "NotPrincipal" || key == "Condition"):
				writeCanonical(b, child, key)
			case parent == "Principal" || parent == "NotPrincipal" || parent == "ConditionOperator":
				writeSet(b, child)
			case parent == "Condition":
				writeCanonical(b, child, "ConditionOperator")
			default:
				writeCanonical(b, child, "-")
			}
		}
		b.WriteByte('}')
	case jsonscan.Array:
		b.WriteByte('[')
		for i, v := range n.vals {
			if i > 0 {
				b.WriteByte(',')
			}
			// Statement elements keep their role; other arrays are data.
			if parent == "Statement" {
				writeCanonical(b, v, "Statement")
			} else {
				writeCanonical(b, v, "-")
			}
		}
		b.WriteByte(']')
	case jsonscan.String:
		writeString(b, n.text)
	default:
		b.WriteString(n.text)
	}
}

// writeSet writes a string or a list of scalars as a sorted list without
// duplicates. Anything else is written as it is.
func writeSet(b *strings.Builder, n *node) {
	var items []*node
	switch n.kind {
	case jsonscan.String, jsonscan.Number, jsonscan.Bool:
		items = []*node{n}
	case jsonscan.Array:
		for _, v := range n.vals {
			if v.kind == jsonscan.Object || v.kind == jsonscan.Array || v.kind == jsonscan.Null {
				writeCanonical(b, n, "-")
				return
			}
		}
		items = slices.Clone(n.vals)
	default:
		writeCanonical(b, n, "-")
		return
	}
	slices.SortFunc(items, func(x, y *node) int {
		if c := strings.Compare(x.text, y.text); c != 0 {
			return c
		}
		return int(x.kind) - int(y.kind)
	})
	items = slices.CompactFunc(items, func(x, y *node) bool { return x.text == y.text && x.kind == y.kind })
	b.WriteByte('[')
	for i, v := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		writeCanonical(b, v, "-")
	}
	b.WriteByte(']')
}

const hexDigits = "0123456789abcdef"

// writeString writes s as a JSON string with the minimal escaping that
// keeps the canonical form unique: '"', '\\' and control characters.
func writeString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c < 0x20:
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xf])
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError) // as the character, so that canonical text is a fixed point
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}
