package terraform

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/iamgroups/iamgroups/internal/iac"
)

// RuleID is the rule a suppression must name.
const RuleID = "IAM-071"

const directive = "iamgroups:ignore"

// comment is one comment token of a .tf file.
type comment struct {
	first, last int  // lines
	ownLine     bool // nothing but white space before it on its line
	text        string
}

// commentIndex holds a file's comments by line, for suppressions.
type commentIndex struct {
	byLast  map[int]*comment // own-line comments by their last line
	byFirst map[int][]*comment
}

// newCommentIndex lexes a .tf file for its comments. It returns nil when
// the file holds no suppression directive at all, the common case.
func newCommentIndex(src []byte, path string) *commentIndex {
	if !bytes.Contains(src, []byte(directive)) {
		return nil
	}
	toks, _ := hclsyntax.LexConfig(src, path, hcl.InitialPos)
	ci := &commentIndex{byLast: map[int]*comment{}, byFirst: map[int][]*comment{}}
	for _, t := range toks {
		if t.Type != hclsyntax.TokenComment {
			continue
		}
		text := string(t.Bytes)
		trimmed := strings.TrimRight(text, "\r\n")
		c := &comment{first: t.Range.Start.Line, text: trimmed}
		c.last = c.first + strings.Count(trimmed, "\n")
		start := t.Range.Start.Byte
		if start >= 0 && start <= len(src) {
			ls := bytes.LastIndexByte(src[:start], '\n') + 1
			c.ownLine = len(bytes.TrimSpace(src[ls:start])) == 0
		}
		ci.byFirst[c.first] = append(ci.byFirst[c.first], c)
		if c.ownLine {
			ci.byLast[c.last] = c
		}
	}
	return ci
}

// suppressionFor finds a suppression on the block's first line or in the
// comment lines directly above it.
func (ci *commentIndex) suppressionFor(line int) *iac.Suppression {
	if ci == nil {
		return nil
	}
	for _, c := range ci.byFirst[line] {
		if s := parseDirective(c.text, c.first); s != nil {
			return s
		}
	}
	for cur := line - 1; cur > 0; {
		c := ci.byLast[cur]
		if c == nil {
			break
		}
		if s := parseDirective(c.text, c.first); s != nil {
			return s
		}
		cur = c.first - 1
	}
	return nil
}

// parseDirective reads `iamgroups:ignore IAM-071 <reason> [exp:YYYY-MM-DD]`
// from a comment. Without a reason, with another rule, or with an expiry
// that is not a date, it is not a suppression.
func parseDirective(text string, line int) *iac.Suppression {
	i := strings.Index(text, directive)
	if i < 0 {
		return nil
	}
	rest := text[i+len(directive):]
	if j := strings.Index(rest, "*/"); j >= 0 {
		rest = rest[:j]
	}
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return nil // iamgroups:ignorexyz
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return nil
	}
	ours := false
	for _, r := range strings.Split(fields[0], ",") {
		if strings.EqualFold(strings.TrimSpace(r), RuleID) {
			ours = true
		}
	}
	if !ours {
		return nil
	}
	s := &iac.Suppression{Rule: RuleID, Line: line}
	var reason []string
	for _, f := range fields[1:] {
		if d, ok := strings.CutPrefix(f, "exp:"); ok {
			if _, err := time.Parse("2006-01-02", d); err != nil {
				return nil
			}
			s.Expires = d
			continue
		}
		reason = append(reason, f)
	}
	s.Reason = strings.Join(reason, " ")
	if s.Reason == "" {
		return nil
	}
	return s
}

// jsonKeyStart finds the opening quote of the property name before the
// object that starts at offset, or -1.
func jsonKeyStart(src []byte, offset int) int {
	if offset <= 0 || offset >= len(src) || src[offset] != '{' {
		return -1
	}
	i := offset - 1
	for i >= 0 && (src[i] == ' ' || src[i] == '\t' || src[i] == '\r' || src[i] == '\n') {
		i--
	}
	if i < 0 || src[i] != ':' {
		return -1
	}
	i--
	for i >= 0 && (src[i] == ' ' || src[i] == '\t' || src[i] == '\r' || src[i] == '\n') {
		i--
	}
	if i < 0 || src[i] != '"' {
		return -1
	}
	for j := i - 1; j >= 0; j-- {
		if src[j] == '\n' {
			return -1
		}
		if src[j] == '"' && (j == 0 || src[j-1] != '\\') {
			return j
		}
	}
	return -1
}

// jsonSuppression reads a suppression from the "//" comment properties of
// the resource object of a .tf.json file that starts at or after offset.
func jsonSuppression(src []byte, offset int) *iac.Suppression {
	if offset < 0 || offset > len(src) || !bytes.Contains(src[offset:], []byte(directive)) {
		return nil
	}
	i := offset
	for i < len(src) && (src[i] == ' ' || src[i] == '\t' || src[i] == '\r' || src[i] == '\n' || src[i] == ':') {
		i++
	}
	if i >= len(src) || src[i] != '{' {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(src[i:]))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil
		}
		key, _ := t.(string)
		if key != "//" {
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return nil
			}
			continue
		}
		at := i + int(dec.InputOffset())
		var text string
		if dec.Decode(&text) != nil {
			return nil
		}
		if s := parseDirective(text, lineAt(src, at)); s != nil {
			return s
		}
	}
	return nil
}

// lineAt is the 1-based line of a byte offset.
func lineAt(src []byte, off int) int {
	off = min(max(off, 0), len(src))
	return 1 + bytes.Count(src[:off], []byte{'\n'})
}

// posAt is the 1-based line and column (in bytes) of a byte offset.
func posAt(src []byte, off int) (line, col int) {
	off = min(max(off, 0), len(src))
	ls := bytes.LastIndexByte(src[:off], '\n') + 1
	return 1 + bytes.Count(src[:off], []byte{'\n'}), off - ls + 1
}
