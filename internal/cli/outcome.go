package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/iamgroups/iamgroups/internal/report"
)

// reportWriter checks --fail-on and --format and returns the writer, with
// colour when the report goes to a terminal that wants it.
func reportWriter(failOn, format, output string, out io.Writer) (report.Writer, error) {
	if failOn != "fail" && failOn != "none" {
		return nil, usageError(fmt.Errorf("--fail-on: %q is not a choice; use fail or none", failOn))
	}
	color := output == "" && isTerminal(out) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
	w, err := report.New(format, report.Options{Color: color})
	if err != nil {
		return nil, usageError(fmt.Errorf("--format: %w", err))
	}
	return w, nil
}

// outcome maps a written report to the exit status --fail-on asks for:
// incomplete results outrank failures; none reports only.
func outcome(failOn string, rep *report.Report) error {
	switch {
	case failOn == "none":
		return nil
	case rep.Partial:
		return errPartial
	case rep.Summary.Fail > 0:
		return errFindings
	}
	return nil
}
