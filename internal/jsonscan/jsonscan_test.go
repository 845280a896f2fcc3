package jsonscan

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// valid reports whether data is exactly one valid JSON value.
func valid(data []byte) bool {
	d := NewDecoder(data)
	return d.Skip() == nil && d.AtEOF()
}

func TestValidAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range []string{
		`{}`, `[]`, `""`, `0`, `-0.5e+10`, `true`, `null`, `{"a":[1,{"b":null}],"c":"\u00e9\n"}`,
		`{`, `}`, `[1,]`, `{"a"}`, `{"a":1,}`, `01`, `1.`, `.5`, `-`, `1e`, `"\x"`, "\"a\nb\"", `"\u12"`, `tru`, `nul`, `[1 2]`,
		` {"a" : 1 } `, `{"a":1}{`, `"\ud800"`, `[[[[]]]]`,
	} {
		if got, want := valid([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("valid(%q) = %v, encoding/json says %v", s, got, want)
		}
	}
}

func TestStrings(t *testing.T) {
	tests := map[string]string{
		`"plain"`:            "plain",
		`"a\"b\\c\/d"`:       `a"b\c/d`,
		`"\b\f\n\r\t"`:       "\b\f\n\r\t",
		`"\u00e9\u20ac"`:     "é€",
		`"\ud83d\ude00"`:     "😀",
		`"\ud83d"`:           "\ufffd",
		`"\ud83dx"`:          "\ufffdx",
		`""`:                 "",
		`"arn:aws:iam::1:x"`: "arn:aws:iam::1:x",
	}
	for in, want := range tests {
		d := NewDecoder([]byte(in))
		got, err := d.ReadString()
		if err != nil || got != want {
			t.Errorf("ReadString(%s) = %q, %v; want %q", in, got, err, want)
		}
		var std string
		if err := json.Unmarshal([]byte(in), &std); err != nil || std != want {
			t.Errorf("encoding/json decodes %s as %q, test expects %q", in, std, want)
		}
	}
}

func TestErrorOffsets(t *testing.T) {
	data := []byte("{\n  \"a\": [1,\n   2,,3]\n}")
	d := NewDecoder(data)
	err := d.Skip()
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v", err)
	}
	line, col := LineCol(data, se.Offset)
	if line != 3 || col != 6 {
		t.Errorf("error at %d:%d (%v), want 3:6", line, col, err)
	}
}

func TestDepthLimit(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	if err := NewDecoder([]byte(deep)).Skip(); err == nil || !strings.Contains(err.Error(), "nesting") {
		t.Errorf("err = %v, want a nesting error", err)
	}
	ok := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	if err := NewDecoder([]byte(ok)).Skip(); err != nil {
		t.Errorf("depth %d rejected: %v", MaxDepth, err)
	}
}

func TestObjectCallbackThatSkipsNothing(t *testing.T) {
	d := NewDecoder([]byte(`{"a":{"x":[1,2]},"b":2}`))
	var keys []string
	err := d.Object(func(k string) error { keys = append(keys, k); return nil })
	if err != nil || strings.Join(keys, ",") != "a,b" || !d.AtEOF() {
		t.Errorf("keys %v err %v", keys, err)
	}
}

func FuzzSkip(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":"c\u0041"}]}`, `[true,false,null,-1.5e3]`, `"\ud83d\ude00"`, `{"a":}`, `[1,]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if strings.Count(string(data), "[")+strings.Count(string(data), "{") > MaxDepth {
			return // encoding/json allows deeper nesting than we do
		}
		if got, want := valid(data), json.Valid(data); got != want {
			t.Fatalf("valid(%q) = %v, encoding/json says %v", data, got, want)
		}
		d := NewDecoder(data)
		if d.Peek() == String {
			s, err := d.ReadString()
			var std string
			if err == nil && d.AtEOF() {
				// encoding/json replaces invalid UTF-8; ReadString leaves it.
				if json.Unmarshal(data, &std) != nil || std != replaceInvalid(s) {
					t.Fatalf("ReadString(%q) = %q, encoding/json %q", data, s, std)
				}
			}
		}
	})
}

func TestPlainWordAgreesWithTable(t *testing.T) {
	// Every byte value at every position, against the byte table.
	for pos := range 8 {
		for c := range 256 {
			var w [8]byte
			for i := range w {
				w[i] = 'a'
			}
			w[pos] = byte(c)
			word := uint64(0)
			for i := 7; i >= 0; i-- {
				word = word<<8 | uint64(w[i])
			}
			if got, want := plainWord(word), plain[c]; got != want {
				t.Errorf("byte 0x%02x at %d: plainWord %v, table %v", c, pos, got, want)
			}
		}
	}
}

// replaceInvalid replaces each byte that is not UTF-8 with U+FFFD, as
// encoding/json does.
func replaceInvalid(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r) // ranging yields U+FFFD for each invalid byte
	}
	return b.String()
}
