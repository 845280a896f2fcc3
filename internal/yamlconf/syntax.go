package yamlconf

import (
	"bytes"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// yamlLine matches the "yaml: line N: problem" form of the YAML library's
// syntax errors.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parserProblems are the problems the YAML library reports from its parser
// (as opposed to its scanner). For those it prints the 0-based line of the
// block being parsed, so one is added to get the line people see.
var parserProblems = []string{
	"did not find expected <stream-start>",
	"did not find expected <document start>",
	"did not find expected node content",
	"did not find expected key",
	"did not find expected '-' indicator",
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"found undefined tag handle",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found duplicate %TAG directive",
}

// unknownAnchor matches the library's error for an alias without anchor.
var unknownAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)

// SyntaxError turns err, an error of the YAML library decoding data (the
// contents of file), into an *Error with the best line the library or the
// text allows, its message starting "invalid YAML: ". It is never nil.
func SyntaxError(data []byte, file string, err error) *Error {
	e := &Error{File: file}
	msg := err.Error()
	hint := "; check the indentation and quoting around this line"
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		msg = m[2]
		if slices.Contains(parserProblems, msg) {
			e.Line++
		}
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
		switch {
		case slices.Contains(parserProblems, msg):
			// The library omits the line when it is the first.
			e.Line = 1
		case unknownAnchor.MatchString(msg):
			name := unknownAnchor.FindStringSubmatch(msg)[1]
			e.Line, e.Column = position(data, strings.Index(string(data), "*"+name))
			hint = "; define it with &" + name + " before using it"
		default:
			if off := badCharacter(data); off >= 0 {
				e.Line, e.Column = position(data, off)
			} else if isScannerProblem(msg) {
				e.Line = 1
			}
		}
	}
	// Errors at the end of the input are reported on the line after the
	// last one.
	if last := lineCount(data); e.Line > last {
		e.Line, e.Column = last, 0
	}
	if e.Line == 0 {
		hint = ""
	}
	e.Msg = "invalid YAML: " + msg + hint
	return e
}

// isScannerProblem tells the scanner's problems (reported without a line
// when they are on the first line) from other library errors.
func isScannerProblem(msg string) bool {
	return strings.HasPrefix(msg, "found ") || strings.HasPrefix(msg, "did not find ") ||
		strings.HasPrefix(msg, "mapping values ") || strings.HasPrefix(msg, "could not find ") ||
		strings.HasPrefix(msg, "block sequence entries ")
}

// badCharacter returns the offset of the first byte YAML refuses (invalid
// UTF-8 or a non-printable character), or -1.
func badCharacter(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		if !printable(r) {
			return i
		}
		i += n
	}
	return -1
}

// printable is YAML 1.1's c-printable set.
func printable(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r' || r == 0x85:
		return true
	case r >= 0x20 && r <= 0x7e:
		return true
	case r >= 0xa0 && r <= 0xd7ff, r >= 0xe000 && r <= 0xfffd, r >= 0x10000 && r <= 0x10ffff:
		return true
	}
	return false
}

// position converts a byte offset into a 1-based line and column; an
// offset below zero gives no position.
func position(data []byte, off int) (line, col int) {
	if off < 0 || off > len(data) {
		return 0, 0
	}
	line, col = 1, 1
	for _, r := range string(data[:off]) {
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// lineCount is the number of lines of data, counting a last line without a
// newline.
func lineCount(data []byte) int {
	n := bytes.Count(data, []byte("\n"))
	if len(data) > 0 && data[len(data)-1] != '\n' {
		n++
	}
	return n
}
