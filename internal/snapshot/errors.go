package snapshot

import (
	"errors"
	"fmt"

	"github.com/iamgroups/iamgroups/internal/jsonscan"
)

// InputError is a snapshot that cannot be read: it names the file and,
// when known, the line, column and member at fault.
type InputError struct {
	File   string
	Line   int
	Column int
	// Path is the member at fault, such as UserDetailList[3].UserName.
	Path string
	Msg  string
}

func (e *InputError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d:%d", e.File, e.Line, e.Column)
	}
	if e.Path != "" {
		return fmt.Sprintf("%s: %s: %s", loc, e.Path, e.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, e.Msg)
}

// pathError is an error inside the document before the file name and
// position are attached; Path grows as the error unwinds.
type pathError struct {
	offset int
	path   string
	msg    string
}

func (e *pathError) Error() string { return e.path + ": " + e.msg }

// at prefixes the path of err with seg ("UserDetailList", "[3]", ".Arn").
func at(err error, seg string) error {
	var pe *pathError
	if errors.As(err, &pe) {
		if pe.path == "" || pe.path[0] == '[' || pe.path[0] == '.' {
			pe.path = seg + pe.path
		} else {
			pe.path = seg + "." + pe.path
		}
		return pe
	}
	var se *jsonscan.SyntaxError
	if errors.As(err, &se) {
		return &pathError{offset: se.Offset, path: seg, msg: "invalid JSON: " + se.Msg}
	}
	return err
}

func index(err error, i int) error { return at(err, fmt.Sprintf("[%d]", i)) }

// wantError reports a value of the wrong kind at the decoder's position.
func wantError(d *jsonscan.Decoder, want string) error {
	if d.Peek() == jsonscan.Invalid {
		return d.Unexpected(want)
	}
	return &pathError{offset: d.Pos(), msg: fmt.Sprintf("want %s, got %s", want, d.Peek())}
}

// inputError attaches the file name and line and column to err.
func inputError(name string, data []byte, err error) error {
	if errors.Is(err, errFileChanged) {
		return err // data cannot be read to place it
	}
	var ie *InputError
	if errors.As(err, &ie) {
		return err
	}
	var pe *pathError
	if errors.As(err, &pe) {
		line, col := jsonscan.LineCol(data, pe.offset)
		path := pe.path
		if len(path) > 0 && path[0] == '.' {
			path = path[1:]
		}
		return &InputError{File: name, Line: line, Column: col, Path: path, Msg: pe.msg}
	}
	var se *jsonscan.SyntaxError
	if errors.As(err, &se) {
		line, col := jsonscan.LineCol(data, se.Offset)
		return &InputError{File: name, Line: line, Column: col, Msg: "invalid JSON: " + se.Msg}
	}
	return &InputError{File: name, Msg: err.Error()}
}
