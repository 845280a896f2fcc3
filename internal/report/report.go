// Package report turns audit results into the formats people and security
// tools read. One Report model, one Writer per format (one file each), a
// validated format name. Writers take an io.Writer and never touch files:
// the CLI decides where output goes and writes it atomically.
package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/rule"
)

// Schema is the identifier of the JSON audit format.
const Schema = "iamgroups.audit/v1"

// AccountInfo describes one audited account.
type AccountInfo struct {
	ID      string
	Source  model.Source
	Partial bool
	Summary rule.Summary
}

// Report is everything an audit produced.
type Report struct {
	GeneratedAt time.Time
	ToolVersion string
	Accounts    []AccountInfo
	// Results are sorted (rule.Sort) before they reach a writer.
	Results []rule.Result
	Summary rule.Summary
	// Partial is set when some source was incomplete or some users are
	// ERROR: the results do not cover everything.
	Partial  bool
	Warnings []string
	// APICalls counts AWS API calls by operation, for live sources.
	APICalls map[string]int
	// Footer is a last line for people (the table format prints it).
	Footer string
}

// Writer renders a report in one format.
type Writer interface {
	Write(w io.Writer, r *Report) error
}

// Options tune writers that have choices to make.
type Options struct {
	// Color enables ANSI colours in the table format.
	Color bool
}

// writers maps each format name to its constructor. It is the one place
// formats are registered; formats gives their order.
var writers = map[string]func(Options) Writer{
	"table": func(o Options) Writer { return tableWriter{color: o.Color} },
	"json":  func(Options) Writer { return jsonWriter{} },
	"csv":   func(Options) Writer { return csvWriter{} },
	"sarif": func(Options) Writer { return sarifWriter{} },
}

// formats lists the format names in the order help texts show them.
var formats = []string{"table", "json", "csv", "sarif"}

// Formats returns the names of the audit formats.
func Formats() []string { return append([]string(nil), formats...) }

// New returns the writer for a format name.
func New(format string, opts Options) (Writer, error) {
	f, ok := writers[format]
	if !ok {
		return nil, fmt.Errorf("unknown format %q (use one of: %s)", format, strings.Join(formats, ", "))
	}
	return f(opts), nil
}
