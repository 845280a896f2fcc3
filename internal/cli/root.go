// Package cli holds the cobra commands of iamgroups, one file per command.
// Each command is a constructor returning a *cobra.Command whose RunE calls
// a plain run function with an options struct, which tests call directly.
// Commands wire sources, rules, exemptions and writers together; the logic
// lives in the packages below. Nothing here calls os.Exit: errors carry
// their exit code back to main.
package cli

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// streams are the standard streams a command uses.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

// Execute runs the command line args.
func Execute(ctx context.Context, args []string, in io.Reader, out, errOut io.Writer) error {
	root := newRootCommand(streams{in: in, out: out, err: errOut})
	root.SetArgs(args)
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errOut)
	cmd, err := root.ExecuteContextC(ctx)
	if err != nil {
		var e *exitError
		if !errors.As(err, &e) && isUsage(err) {
			// Flag and argument errors from cobra: point at help.
			err = usageError(errors.New(err.Error() + "; see `" + cmd.CommandPath() + " --help`"))
		}
	}
	return err
}

// isUsage tells cobra's own argument and flag errors.
func isUsage(err error) bool {
	msg := err.Error()
	for _, s := range []string{"unknown flag", "unknown shorthand", "flag needs an argument", "invalid argument",
		"unknown command", "accepts ", "requires at least", "if any flags in the group"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func newRootCommand(s streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "iamgroups",
		Short: "Keep AWS IAM users' permissions in IAM groups (IAM-071)",
		Long: "iamgroups finds IAM users that hold policies directly (managed or inline) instead of\n" +
			"through groups, shows the evidence, and designs the groups that fix it without\n" +
			"anyone gaining or losing a permission.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newAuditCommand(s),
		newSnapshotCommand(s),
		newPlanCommand(s),
		newApplyCommand(s),
		newRollbackCommand(s),
		newScanIaCCommand(s),
		newServeCommand(s),
		newHistoryCommand(s),
		newExplainCommand(s),
		newVersionCommand(s),
	)
	return root
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
