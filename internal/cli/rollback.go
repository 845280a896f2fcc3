package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

func newRollbackCommand(s streams) *cobra.Command {
	opts := applyOptions{}
	cmd := &cobra.Command{
		Use:   "rollback DIR [live flags]",
		Short: "Undo an apply: put every planned user back exactly as its backup says",
		Long: "Rollback undoes the run whose run directory is DIR, whether it finished or stopped\n" +
			"half-way. Direct policies come back first (managed policies re-attached, inline\n" +
			"policies re-put with their documents verbatim from the backup), then the memberships\n" +
			"the run added are removed, then the groups and policies the run created are deleted —\n" +
			"only those it created, and only when nothing else uses them. A last read checks that\n" +
			"every user is as the backup says. It can be run again if it stops.",
		Example: "  iamgroups rollback ~/.local/state/iamgroups/journal/111122223333-20261126T120000Z --dry-run\n" +
			"  iamgroups rollback ~/.local/state/iamgroups/journal/111122223333-20261126T120000Z --yes",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Resume = args[0]
			return runRollback(cmd.Context(), opts, s)
		},
	}
	opts.addRunFlags(cmd)
	f := cmd.Flags()
	f.DurationVar(&opts.Settle, "settle", 10*time.Second, "wait this long for IAM's eventual consistency before removing memberships and before the final check")
	f.IntVar(&opts.Concurrency, "concurrency", 4, "calls in flight at once within a phase")
	f.Float64Var(&opts.MaxRate, "max-rate", 10, "at most this many write calls a second (0: no limit)")
	return cmd
}

func runRollback(ctx context.Context, opts applyOptions, s streams) error {
	if opts.Concurrency < 1 || opts.Concurrency > 32 {
		return usageError(fmt.Errorf("--concurrency: %d is out of range; use 1 to 32", opts.Concurrency))
	}
	if err := confirm(opts, s, "Roll back the run in "+opts.Resume+"."); err != nil {
		return err
	}
	r, sess, err := newRunner(ctx, opts, s)
	if err != nil {
		return err
	}
	rep, err := r.Rollback(ctx, opts.Resume)
	return finishRun(opts, s, r, sess, rep, err, "rollback")
}
