package cloudformation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// maxDepth bounds the nesting the JSON reader accepts, as yaml.v3 does for
// YAML, so that a hostile file cannot exhaust the stack.
const maxDepth = 10000

// parseError is a syntax error with its position (1-based; Column 0 when
// the parser does not say).
type parseError struct {
	Line, Column int
	Msg          string
}

func (e *parseError) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Msg) }

// lineIndex turns byte offsets into 1-based lines and columns (columns
// count characters, as yaml.v3 does).
type lineIndex struct {
	data   []byte
	starts []int
	// The last position computed: the JSON reader asks in increasing
	// order, and counting from there keeps a minified (one-line) file
	// linear.
	lastOff, lastLine, lastCol int
}

func newLineIndex(data []byte) *lineIndex {
	starts := []int{0}
	for i, b := range data {
		if b == '\n' {
			starts = append(starts, i+1)
		}
	}
	return &lineIndex{data: data, starts: starts}
}

func (x *lineIndex) pos(off int) (line, col int) {
	if off > len(x.data) {
		off = len(x.data)
	}
	if off < 0 {
		off = 0
	}
	i := sort.Search(len(x.starts), func(i int) bool { return x.starts[i] > off }) - 1
	if x.lastLine == i+1 && off >= x.lastOff {
		col = x.lastCol + utf8.RuneCount(x.data[x.lastOff:off])
	} else {
		col = utf8.RuneCount(x.data[x.starts[i]:off]) + 1
	}
	x.lastOff, x.lastLine, x.lastCol = off, i+1, col
	return i + 1, col
}

// firstColumn is the column of the first non-blank character of a line.
func (x *lineIndex) firstColumn(line int) int {
	if line < 1 || line > len(x.starts) {
		return 0
	}
	col := 1
	for _, b := range x.data[x.starts[line-1]:] {
		if b != ' ' && b != '\t' {
			break
		}
		col++
	}
	return col
}

var bom = []byte("\xef\xbb\xbf")

// looksJSON reports whether the document starts with '{' or '['.
func looksJSON(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n")
	return len(t) > 0 && (t[0] == '{' || t[0] == '[')
}

// parse reads a JSON or YAML document into a yaml.Node tree (the document
// node's content, or nil for an empty document). JSON goes through
// encoding/json first: yaml.v3 rejects some valid JSON (the "\/" escape,
// keys longer than 1024 characters), and the JSON reader gives exact
// error positions. A JSON-looking file that is not JSON is tried as YAML
// (flow-style YAML is legal in a template) unless jsonOnly (a .json file:
// yaml.v3 would accept some broken JSON, such as trailing data).
func parse(data []byte, jsonOnly bool) (*yaml.Node, *parseError) {
	data = bytes.TrimPrefix(data, bom)
	if looksJSON(data) {
		n, jerr := parseJSON(data)
		if jerr == nil || jsonOnly {
			return n, jerr
		}
		if y, yerr := parseYAML(data); yerr == nil {
			return y, nil
		}
		return nil, jerr
	}
	return parseYAML(data)
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func parseYAML(data []byte) (n *yaml.Node, perr *parseError) {
	defer func() {
		// yaml.v3 recovers its own panics; this guards against any
		// that escape it so that one bad file cannot stop a scan.
		if r := recover(); r != nil {
			n, perr = nil, &parseError{Msg: fmt.Sprintf("yaml parser failure: %v", r)}
		}
	}()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		pe := yamlError(err.Error())
		if pe.Line > 0 {
			// yaml.v3 reports lines only: point at the line's first
			// character.
			pe.Column = newLineIndex(data).firstColumn(pe.Line)
		}
		return nil, pe
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// parserProblems are the messages of yaml.v3's parser (as opposed to its
// scanner): for them it reports a 0-based line.
var parserProblems = []string{
	"did not find expected ',' or",
	"did not find expected '-' indicator",
	"did not find expected <",
	"did not find expected key",
	"did not find expected node content",
	"found duplicate %",
	"found incompatible YAML document",
	"found undefined tag handle",
}

// decoderProblems come from yaml.v3's decoder, with no position.
var decoderProblems = []string{"unknown anchor", "document contains excessive aliasing", "anchor '", "attempted to go past", "expected "}

// yamlError turns a yaml.v3 error message into a position. yaml.v3 says
// "line N" with N 1-based for scanner errors but 0-based for parser
// errors, and leaves it out when N would be 0.
func yamlError(msg string) *parseError {
	pe := &parseError{Msg: trimYAMLPrefix(msg)}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		pe.Line, _ = strconv.Atoi(m[1])
		pe.Msg = m[2]
	}
	for _, p := range decoderProblems {
		if strings.HasPrefix(pe.Msg, p) {
			return pe
		}
	}
	parser := false
	for _, p := range parserProblems {
		if strings.HasPrefix(pe.Msg, p) {
			parser = true
		}
	}
	switch {
	case parser:
		pe.Line++
	case pe.Line == 0:
		pe.Line = 1
	}
	return pe
}

func trimYAMLPrefix(s string) string {
	if len(s) > 6 && s[:6] == "yaml: " {
		return s[6:]
	}
	return s
}

// jsonReader builds a yaml.Node tree from JSON tokens, keeping positions.
type jsonReader struct {
	dec  *json.Decoder
	data []byte
	idx  *lineIndex
}

func parseJSON(data []byte) (*yaml.Node, *parseError) {
	r := &jsonReader{dec: json.NewDecoder(bytes.NewReader(data)), data: data, idx: newLineIndex(data)}
	r.dec.UseNumber()
	n, err := r.value(0)
	if err == nil {
		off := r.start()
		if _, terr := r.dec.Token(); terr != io.EOF {
			err = r.errorAt(off, "unexpected data after the top-level value")
		}
	}
	if err != nil {
		var pe *parseError
		if errors.As(err, &pe) {
			return nil, pe
		}
		return nil, r.convert(err)
	}
	return n, nil
}

// start is the offset where the next token begins.
func (r *jsonReader) start() int {
	off := int(r.dec.InputOffset())
	for off < len(r.data) {
		switch r.data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
			continue
		}
		break
	}
	return off
}

func (r *jsonReader) errorAt(off int, msg string) *parseError {
	l, c := r.idx.pos(off)
	return &parseError{Line: l, Column: c, Msg: msg}
}

func (r *jsonReader) convert(err error) *parseError {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		// The offset is that of the offending character.
		return r.errorAt(int(se.Offset), se.Error())
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return r.errorAt(len(r.data), "unexpected end of JSON input")
	}
	return r.errorAt(int(r.dec.InputOffset()), err.Error())
}

func (r *jsonReader) value(depth int) (*yaml.Node, error) {
	if depth > maxDepth {
		return nil, r.errorAt(r.start(), "nesting too deep")
	}
	off := r.start()
	tok, err := r.dec.Token()
	if err != nil {
		return nil, err
	}
	line, col := r.idx.pos(off)
	n := &yaml.Node{Line: line, Column: col}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n.Kind, n.Tag, n.Style = yaml.MappingNode, "!!map", yaml.FlowStyle
			for r.dec.More() {
				koff := r.start()
				kt, err := r.dec.Token()
				if err != nil {
					return nil, err
				}
				ks, ok := kt.(string)
				if !ok {
					return nil, r.errorAt(koff, "object key is not a string")
				}
				kl, kc := r.idx.pos(koff)
				k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: ks, Line: kl, Column: kc, Style: yaml.DoubleQuotedStyle}
				v, err := r.value(depth + 1)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, k, v)
			}
		case '[':
			n.Kind, n.Tag, n.Style = yaml.SequenceNode, "!!seq", yaml.FlowStyle
			for r.dec.More() {
				v, err := r.value(depth + 1)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, v)
			}
		default:
			return nil, r.errorAt(off, "unexpected "+string(t))
		}
		if _, err := r.dec.Token(); err != nil { // closing delimiter
			return nil, err
		}
	case string:
		n.Kind, n.Tag, n.Value, n.Style = yaml.ScalarNode, "!!str", t, yaml.DoubleQuotedStyle
	case json.Number:
		n.Kind, n.Value = yaml.ScalarNode, t.String()
		n.Tag = "!!int"
		if bytes.ContainsAny([]byte(n.Value), ".eE") {
			n.Tag = "!!float"
		}
	case bool:
		n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!bool", strconv.FormatBool(t)
	case nil:
		n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!null", "null"
	}
	return n, nil
}
