package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/iamgroups/iamgroups/internal/snapshot"
)

// snapshotOptions are the flags of `iamgroups snapshot`.
type snapshotOptions struct {
	Output string
	Stats  bool
	Live   liveOptions
}

func newSnapshotCommand(s streams) *cobra.Command {
	var opts snapshotOptions
	cmd := &cobra.Command{
		Use:   "snapshot --output FILE [live flags]",
		Short: "Save a live account's users, groups and policies for offline audits and plans",
		Long: "Snapshot reads the live account (users, groups and customer managed policies) and\n" +
			"writes it in iamgroups' snapshot format, so that `audit --snapshot FILE` gives the\n" +
			"same results offline. The file is written atomically and readable by you only.",
		Example: "  iamgroups snapshot --profile prod-audit --output prod.json\n" +
			"  iamgroups audit --snapshot prod.json",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSnapshot(cmd.Context(), opts, s)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Output, "output", "o", "", "write the snapshot to `FILE` (required)")
	f.BoolVar(&opts.Stats, "stats", false, "print the AWS API calls made, by operation, on standard error")
	opts.Live.addFlags(f, false)
	return cmd
}

func runSnapshot(ctx context.Context, opts snapshotOptions, s streams) error {
	if opts.Output == "" {
		return usageError(errors.New("--output: required; name the file to write the snapshot to"))
	}
	live, err := collectLive(ctx, opts.Live, true, nil)
	if err != nil {
		return err
	}
	a := live.accounts[0]
	for _, w := range a.Warnings {
		fmt.Fprintln(s.err, "warning:", w)
	}
	meta := snapshot.Metadata{AccountID: a.ID, Partition: a.Partition, CapturedAt: a.Source.CapturedAt,
		Method: a.Source.Method, ToolVersion: Version()}
	if err := snapshot.WriteFile(opts.Output, a, meta); err != nil {
		return usageError(fmt.Errorf("--output: %w", err))
	}
	if opts.Stats {
		fmt.Fprintln(s.err, formatCalls(live.calls, live.attempts))
	}
	_, err = fmt.Fprintf(s.out, "Wrote %s: account %s, %d users, %d groups, %d customer managed policies (method %s).\n",
		opts.Output, a.ID, len(a.Users), len(a.Groups), len(a.Policies), a.Source.Method)
	return err
}
