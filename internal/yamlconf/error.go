package yamlconf

import (
	"fmt"
	"strings"
)

// Error is one problem in a config file, located by line and column
// (1-based; zero when unknown) and by the field it concerns.
type Error struct {
	File   string
	Line   int
	Column int
	// Field is the path to the offending value, such as
	// "exemptions[1].expires"; empty for YAML syntax errors.
	Field string
	// Msg says what is wrong and what to do.
	Msg string
}

// Error formats the problem as "file:line:column: field: message".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}
