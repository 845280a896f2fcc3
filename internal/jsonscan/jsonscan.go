// Package jsonscan is a small validating JSON pull decoder over an in-memory
// byte slice. It exists because snapshots of large accounts and whole
// Organizations are tens of megabytes: the standard decoder builds every
// value, copies every string and cannot skip what the audit does not need
// (roles, policy versions). This decoder reads one value at a time, skips
// subtrees while still validating them, and returns strings without copying
// when they hold no escapes.
//
// Strings returned by the decoder may share memory with the input: the
// caller must not modify the input slice after decoding starts.
//
// It owns only the byte-level grammar (RFC 8259); what the values mean is
// the business of its callers (policydoc, snapshot). It imports only the
// standard library.
package jsonscan

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// Kind is the kind of the next JSON value.
type Kind byte

// The kinds of JSON values.
const (
	Invalid Kind = iota
	Object
	Array
	String
	Number
	Bool
	Null
)

func (k Kind) String() string {
	switch k {
	case Object:
		return "object"
	case Array:
		return "array"
	case String:
		return "string"
	case Number:
		return "number"
	case Bool:
		return "boolean"
	case Null:
		return "null"
	}
	return "invalid value"
}

// MaxDepth bounds nesting so that hostile input cannot exhaust the stack.
const MaxDepth = 512

// SyntaxError is a malformed input at a byte offset.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s at byte offset %d", e.Msg, e.Offset)
}

// LineCol converts a byte offset in data to a 1-based line and column
// (columns count bytes, as editors that show byte columns do).
func LineCol(data []byte, offset int) (line, col int) {
	if offset > len(data) {
		offset = len(data)
	}
	line, col = 1, 1
	for _, c := range data[:offset] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// Decoder reads JSON values from a byte slice.
type Decoder struct {
	data  []byte
	pos   int
	depth int
}

// NewDecoder returns a decoder positioned at the start of data.
func NewDecoder(data []byte) *Decoder { return &Decoder{data: data} }

// Reset repositions the decoder at the start of data.
func (d *Decoder) Reset(data []byte) { *d = Decoder{data: data} }

// Pos returns the current byte offset.
func (d *Decoder) Pos() int { return d.pos }

// Data returns the input.
func (d *Decoder) Data() []byte { return d.data }

func (d *Decoder) errorf(format string, args ...any) error {
	return &SyntaxError{Offset: d.pos, Msg: fmt.Sprintf(format, args...)}
}

func (d *Decoder) skipSpace() {
	if d.pos < len(d.data) && d.data[d.pos] > ' ' {
		return // the common case in compact JSON
	}
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// AtEOF reports whether only white space remains.
func (d *Decoder) AtEOF() bool {
	d.skipSpace()
	return d.pos >= len(d.data)
}

// Peek returns the kind of the next value without consuming it.
func (d *Decoder) Peek() Kind {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return Invalid
	}
	switch c := d.data[d.pos]; c {
	case '{':
		return Object
	case '[':
		return Array
	case '"':
		return String
	case 't', 'f':
		return Bool
	case 'n':
		return Null
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return Number
		}
	}
	return Invalid
}

func (d *Decoder) unexpected(want string) error {
	if d.pos >= len(d.data) {
		return d.errorf("unexpected end of input, want %s", want)
	}
	c := d.data[d.pos]
	if c < 0x20 || c >= 0x7f {
		return d.errorf("unexpected byte 0x%02x, want %s", c, want)
	}
	return d.errorf("unexpected %q, want %s", c, want)
}

// Object reads an object, calling fn for each member with the decoder
// positioned at the member's value; fn must consume that value (read it or
// Skip it).
func (d *Decoder) Object(fn func(key string) error) error {
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != '{' {
		return d.unexpected("an object")
	}
	if d.depth++; d.depth > MaxDepth {
		return d.errorf("nesting deeper than %d", MaxDepth)
	}
	d.pos++
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		d.depth--
		return nil
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return d.unexpected("a member name")
		}
		key, err := d.ReadString()
		if err != nil {
			return err
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return d.unexpected("':'")
		}
		d.pos++
		start := d.pos
		if err := fn(key); err != nil {
			return err
		}
		if d.pos == start {
			// The callback did not consume the value; skip it so that
			// a forgetful caller cannot desynchronise the decoder.
			if err := d.Skip(); err != nil {
				return err
			}
		}
		d.skipSpace()
		if d.pos >= len(d.data) {
			return d.unexpected("',' or '}'")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			d.depth--
			return nil
		default:
			return d.unexpected("',' or '}'")
		}
	}
}

// Array reads an array, calling fn for each element with the decoder
// positioned at it; fn must consume the element.
func (d *Decoder) Array(fn func() error) error {
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != '[' {
		return d.unexpected("an array")
	}
	if d.depth++; d.depth > MaxDepth {
		return d.errorf("nesting deeper than %d", MaxDepth)
	}
	d.pos++
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		d.depth--
		return nil
	}
	for {
		d.skipSpace()
		start := d.pos
		if err := fn(); err != nil {
			return err
		}
		if d.pos == start {
			if err := d.Skip(); err != nil {
				return err
			}
		}
		d.skipSpace()
		if d.pos >= len(d.data) {
			return d.unexpected("',' or ']'")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			d.depth--
			return nil
		default:
			return d.unexpected("',' or ']'")
		}
	}
}

// Skip validates and consumes the next value.
func (d *Decoder) Skip() error {
	switch d.Peek() {
	case Object:
		return d.Object(func(string) error { return d.Skip() })
	case Array:
		return d.Array(d.Skip)
	case String:
		_, err := d.stringSpan()
		return err
	case Number:
		_, err := d.ReadNumber()
		return err
	case Bool:
		_, err := d.ReadBool()
		return err
	case Null:
		return d.ReadNull()
	}
	return d.unexpected("a value")
}

// Raw validates and consumes the next value and returns its bytes.
func (d *Decoder) Raw() ([]byte, error) {
	d.skipSpace()
	start := d.pos
	if err := d.Skip(); err != nil {
		return nil, err
	}
	return d.data[start:d.pos], nil
}

// ReadNull consumes a null.
func (d *Decoder) ReadNull() error {
	d.skipSpace()
	if !d.literal("null") {
		return d.unexpected("null")
	}
	return nil
}

// ReadBool consumes true or false.
func (d *Decoder) ReadBool() (bool, error) {
	d.skipSpace()
	switch {
	case d.literal("true"):
		return true, nil
	case d.literal("false"):
		return false, nil
	}
	return false, d.unexpected("true or false")
}

func (d *Decoder) literal(lit string) bool {
	if len(d.data)-d.pos >= len(lit) && string(d.data[d.pos:d.pos+len(lit)]) == lit {
		d.pos += len(lit)
		return true
	}
	return false
}

// ReadNumber consumes a number and returns its text.
func (d *Decoder) ReadNumber() (string, error) {
	d.skipSpace()
	start := d.pos
	p := d.pos
	data := d.data
	if p < len(data) && data[p] == '-' {
		p++
	}
	switch {
	case p < len(data) && data[p] == '0':
		p++
	case p < len(data) && data[p] >= '1' && data[p] <= '9':
		for p < len(data) && data[p] >= '0' && data[p] <= '9' {
			p++
		}
	default:
		d.pos = p
		return "", d.unexpected("a digit")
	}
	if p < len(data) && data[p] == '.' {
		p++
		if p >= len(data) || data[p] < '0' || data[p] > '9' {
			d.pos = p
			return "", d.unexpected("a digit after '.'")
		}
		for p < len(data) && data[p] >= '0' && data[p] <= '9' {
			p++
		}
	}
	if p < len(data) && (data[p] == 'e' || data[p] == 'E') {
		p++
		if p < len(data) && (data[p] == '+' || data[p] == '-') {
			p++
		}
		if p >= len(data) || data[p] < '0' || data[p] > '9' {
			d.pos = p
			return "", d.unexpected("a digit in the exponent")
		}
		for p < len(data) && data[p] >= '0' && data[p] <= '9' {
			p++
		}
	}
	d.pos = p
	return unsafe.String(&data[start], p-start), nil
}

// plain marks bytes that can appear in a string without ending it or
// needing attention: everything but '"', '\\' and control characters.
var plain = func() (t [256]bool) {
	for i := 0x20; i < 256; i++ {
		t[i] = i != '"' && i != '\\'
	}
	return t
}()

// stringSpan consumes a string and returns the offsets of its contents and
// whether it holds escapes.
func (d *Decoder) stringSpan() (escaped bool, err error) {
	data := d.data
	p := d.pos + 1
	for {
		// Eight bytes at a time while none of them needs attention:
		// strings are most of a snapshot's bytes.
		for p+8 <= len(data) && plainWord(binary.LittleEndian.Uint64(data[p:])) {
			p += 8
		}
		for p < len(data) && plain[data[p]] {
			p++
		}
		if p >= len(data) {
			d.pos = p
			return false, d.errorf("unterminated string")
		}
		switch c := data[p]; {
		case c == '"':
			d.pos = p + 1
			return escaped, nil
		case c == '\\':
			escaped = true
			if p+1 >= len(data) {
				d.pos = p + 1
				return false, d.errorf("unterminated string")
			}
			switch data[p+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p += 2
			case 'u':
				if p+6 > len(data) || !isHex4(data[p+2:p+6]) {
					d.pos = p
					return false, d.errorf("invalid \\u escape in string")
				}
				p += 6
			default:
				d.pos = p
				return false, d.errorf("invalid escape in string")
			}
		default:
			d.pos = p
			return false, d.errorf("control character 0x%02x in string", c)
		}
	}
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plainWord reports whether none of the eight bytes of w is '"', '\\' or a
// control character (the classic "has zero byte" and "has byte less than"
// tests, exact for these values).
func plainWord(w uint64) bool {
	quote := w ^ (ones * '"')
	backslash := w ^ (ones * '\\')
	special := (quote - ones) &^ quote
	special |= (backslash - ones) &^ backslash
	special |= (w - ones*0x20) &^ w
	return special&highs == 0
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// ReadString consumes a string and returns its value. Without escapes the
// result shares memory with the input. Bytes that are not UTF-8 are
// returned as they are (encoding/json would replace them with U+FFFD):
// callers that keep strings decide.
func (d *Decoder) ReadString() (string, error) {
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		return "", d.unexpected("a string")
	}
	start := d.pos
	escaped, err := d.stringSpan()
	if err != nil {
		return "", err
	}
	body := d.data[start+1 : d.pos-1]
	if len(body) == 0 {
		return "", nil
	}
	if !escaped {
		return unsafe.String(&body[0], len(body)), nil
	}
	return unescape(body), nil
}

// unescape decodes a string body already validated by stringSpan.
func unescape(b []byte) string {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		c := b[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		switch b[i+1] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(b[i+2 : i+6])
			i += 6
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if i+6 <= len(b) && b[i] == '\\' && b[i+1] == 'u' {
					if dec := utf16.DecodeRune(r, hex4(b[i+2:i+6])); dec != utf8.RuneError {
						r2 = dec
						i += 6
					}
				}
				r = r2
			}
			out = utf8.AppendRune(out, r)
			continue
		default: // '"', '\\', '/'
			out = append(out, b[i+1])
		}
		i += 2
	}
	return string(out)
}

func hex4(b []byte) rune {
	v, _ := strconv.ParseUint(string(b), 16, 32)
	return rune(v)
}

// Seek moves the decoder to an offset previously returned by Pos, such as
// the start of a value another decoder has already read.
func (d *Decoder) Seek(pos int) { d.pos = pos }

// Consume skips white space and consumes c if it comes next.
func (d *Decoder) Consume(c byte) bool {
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == c {
		d.pos++
		return true
	}
	return false
}

// Unexpected returns a syntax error at the current position saying what was
// wanted instead.
func (d *Decoder) Unexpected(want string) error {
	d.skipSpace()
	return d.unexpected(want)
}

// SetDepth makes the decoder count its values as nested n levels deep, for
// a decoder started in the middle of a document: the nesting limit then
// applies as if it had read from the start.
func (d *Decoder) SetDepth(n int) { d.depth = n }
