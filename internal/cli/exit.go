package cli

import (
	"errors"
)

// Exit codes, as DESIGN §4 and the README document them.
const (
	ExitOK      = 0
	ExitFail    = 1 // at least one FAIL that is not exempt
	ExitUsage   = 2 // bad flag, unreadable or malformed input
	ExitPartial = 3 // some users or accounts could not be evaluated
	ExitRefused = 4 // a stale plan or a held lock refused apply
)

// exitError carries an exit code with an error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError marks err as a usage or input error (exit 2).
func usageError(err error) error { return &exitError{code: ExitUsage, err: err} }

// errFindings is returned when the audit found failures that the
// --fail-on policy counts; the output already said everything.
var errFindings = &exitError{code: ExitFail, err: errors.New("failing users found")}

// errPartial is returned when results are incomplete.
var errPartial = &exitError{code: ExitPartial, err: errors.New("results are incomplete: some users or sources could not be evaluated")}

// ExitCode maps an error returned by Execute to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return ExitUsage
}
