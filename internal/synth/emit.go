package synth

import (
	"bufio"
	"bytes"
	"strings"
)

// obj is a JSON object whose keys keep their order, as IAM keeps a policy
// document's key order.
type obj []kv

// kv is one member of an obj.
type kv struct {
	k string
	v any
}

// arr is a JSON array. Values in obj and arr are obj, arr, string or bool.
type arr []any

// strs makes an arr of strings.
func strs(s ...string) arr {
	a := make(arr, len(s))
	for i, v := range s {
		a[i] = v
	}
	return a
}

// newlines is a newline followed by enough spaces for any depth we emit.
var newlines = "\n" + strings.Repeat(" ", 256)

// emitter writes JSON the way Python's json.dumps does for the AWS CLI
// (indent=4, ", " between items only at line ends, ": " after keys, "[]"
// and "{}" for empty containers, no HTML escaping), or compact without any
// whitespace when unit is 0. Write errors are sticky in bufio.Writer and
// surface at Flush.
type emitter struct {
	w        *bufio.Writer
	unit     int  // spaces per level; 0 = compact
	depth    int  // open containers
	first    bool // the next member is the first of its container
	afterKey bool // a key was written; the value follows without separator
}

func newEmitter(w *bufio.Writer, unit int) *emitter {
	return &emitter{w: w, unit: unit, first: true}
}

// sep writes what precedes a member: a comma after the previous one, then a
// new line at the current depth when indenting.
func (e *emitter) sep() {
	if e.afterKey {
		e.afterKey = false
		return
	}
	if !e.first {
		e.w.WriteByte(',')
	}
	e.first = false
	if e.unit > 0 && e.depth > 0 {
		e.w.WriteString(newlines[:1+e.depth*e.unit])
	}
}

func (e *emitter) open(c byte) {
	e.sep()
	e.w.WriteByte(c)
	e.depth++
	e.first = true
}

func (e *emitter) close(c byte) {
	e.depth--
	if !e.first && e.unit > 0 {
		e.w.WriteString(newlines[:1+e.depth*e.unit])
	}
	e.w.WriteByte(c)
	e.first = false
}

func (e *emitter) beginObject() { e.open('{') }
func (e *emitter) endObject()   { e.close('}') }
func (e *emitter) beginArray()  { e.open('[') }
func (e *emitter) endArray()    { e.close(']') }

func (e *emitter) key(k string) {
	e.sep()
	e.quote(k)
	if e.unit > 0 {
		e.w.WriteString(": ")
	} else {
		e.w.WriteByte(':')
	}
	e.afterKey = true
}

func (e *emitter) str(s string) {
	e.sep()
	e.quote(s)
}

func (e *emitter) boolean(b bool) {
	e.sep()
	if b {
		e.w.WriteString("true")
	} else {
		e.w.WriteString("false")
	}
}

func (e *emitter) integer(n int) {
	e.sep()
	var b [20]byte
	i := len(b)
	if n == 0 {
		i--
		b[i] = '0'
	}
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	e.w.Write(b[i:])
}

// keyStr writes a member whose value is a string.
func (e *emitter) keyStr(k, v string) {
	e.key(k)
	e.str(v)
}

// value writes a document tree.
func (e *emitter) value(v any) {
	switch v := v.(type) {
	case obj:
		e.beginObject()
		for _, m := range v {
			e.key(m.k)
			e.value(m.v)
		}
		e.endObject()
	case arr:
		e.beginArray()
		for _, x := range v {
			e.value(x)
		}
		e.endArray()
	case string:
		e.str(v)
	case bool:
		e.boolean(v)
	case int:
		e.integer(v)
	default:
		panic("synth: unsupported document value")
	}
}

const hexLower = "0123456789abcdef"

// quote writes s as a JSON string, escaping what RFC 8259 requires and
// nothing else (like json.dumps with ensure_ascii=False, as the CLI prints).
func (e *emitter) quote(s string) {
	e.w.WriteByte('"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		e.w.WriteString(s[start:i])
		switch c {
		case '"':
			e.w.WriteString(`\"`)
		case '\\':
			e.w.WriteString(`\\`)
		case '\n':
			e.w.WriteString(`\n`)
		case '\r':
			e.w.WriteString(`\r`)
		case '\t':
			e.w.WriteString(`\t`)
		case '\b':
			e.w.WriteString(`\b`)
		case '\f':
			e.w.WriteString(`\f`)
		default:
			e.w.WriteString(`\u00`)
			e.w.WriteByte(hexLower[c>>4])
			e.w.WriteByte(hexLower[c&0xf])
		}
		start = i + 1
	}
	e.w.WriteString(s[start:])
	e.w.WriteByte('"')
}

// docText renders a document as its author submitted it to IAM: compact, or
// pretty-printed with unit spaces per level (console and Terraform style).
func docText(tree obj, unit int) []byte {
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	newEmitter(w, unit).value(tree)
	w.Flush() // a bytes.Buffer cannot fail
	return b.Bytes()
}

const hexUpper = "0123456789ABCDEF"

// percentEncode encodes every byte outside RFC 3986's unreserved set
// (ALPHA DIGIT - . _ ~), as IAM encodes policy documents in its responses:
// spaces are %20, never +, and ":" is %3A.
func percentEncode(b []byte) string {
	n := 0
	for _, c := range b {
		if !unreserved(c) {
			n++
		}
	}
	out := make([]byte, 0, len(b)+2*n)
	for _, c := range b {
		if unreserved(c) {
			out = append(out, c)
		} else {
			out = append(out, '%', hexUpper[c>>4], hexUpper[c&0xf])
		}
	}
	return string(out)
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}
