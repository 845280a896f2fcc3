package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/iamgroups/iamgroups/internal/atomicfile"
	"github.com/iamgroups/iamgroups/internal/awsiam"
	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/plan"
	"github.com/iamgroups/iamgroups/internal/report"
)

// planOptions are the flags of `iamgroups plan`.
type planOptions struct {
	Demo        bool
	Snapshot    string
	Out         string
	Format      string
	Config      string
	GroupPrefix string
	Users       string
	Stats       bool
	Quotas      plan.Quotas
	Live        liveOptions
	liveFlags   []string
	quotaFlags  map[string]bool
}

func newPlanCommand(s streams) *cobra.Command {
	opts := planOptions{Quotas: plan.DefaultQuotas(), quotaFlags: map[string]bool{}}
	cmd := &cobra.Command{
		Use:   "plan [--demo | --snapshot FILE | live flags] [--out PLAN.json]",
		Short: "Design the groups that replace every direct user policy",
		Long: "Plan designs new IAM groups so that every failing user gets exactly the permissions it\n" +
			"has now — no more, no less — through groups, within IAM's quotas, with as few new\n" +
			"groups as it can find, and prints the change. Inline policies become customer managed\n" +
			"policies (one per distinct document). Existing groups are never modified; a user joins\n" +
			"one only when that gives it nothing new. Nothing changes in AWS: `--out` writes the plan\n" +
			"file, and `--format cli` prints an aws CLI script to review and run.",
		Example: "  iamgroups plan --demo\n" +
			"  iamgroups plan --snapshot prod.json --out plan.json --format markdown\n" +
			"  iamgroups plan --profile prod-audit --group-prefix team- --out plan.json",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.liveFlags = changedLiveFlags(cmd.Flags())
			for _, name := range []string{"max-groups-per-user", "max-policies-per-group", "max-groups-per-account", "max-policies-per-account"} {
				opts.quotaFlags[name] = cmd.Flags().Changed(name)
			}
			return runPlan(cmd.Context(), opts, s)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.Demo, "demo", false, "plan the embedded demo account")
	f.StringVar(&opts.Snapshot, "snapshot", "", "plan from a snapshot `FILE` (it must include groups: iamgroups snapshot, or GAAD output without --filter User)")
	f.StringVar(&opts.Out, "out", "", "write the plan file (JSON) to `FILE`, for apply")
	f.StringVarP(&opts.Format, "format", "f", "text", "what to print: "+strings.Join(report.PlanFormats(), ", "))
	f.StringVar(&opts.Config, "config", "", "exemptions config `FILE` (exempt users are not planned)")
	f.StringVar(&opts.GroupPrefix, "group-prefix", "", "start every new group's name with `PREFIX`")
	f.StringVar(&opts.Users, "users", "", "plan only failing users whose name matches `GLOB`")
	f.BoolVar(&opts.Stats, "stats", false, "print the AWS API calls made, by operation, on standard error")
	f.IntVar(&opts.Quotas.GroupsPerUser, "max-groups-per-user", opts.Quotas.GroupsPerUser, "groups a user may be in")
	f.IntVar(&opts.Quotas.PoliciesPerGroup, "max-policies-per-group", opts.Quotas.PoliciesPerGroup, "managed policies a group may carry")
	f.IntVar(&opts.Quotas.GroupsPerAccount, "max-groups-per-account", opts.Quotas.GroupsPerAccount, "groups the account may hold")
	f.IntVar(&opts.Quotas.PoliciesPerAccount, "max-policies-per-account", opts.Quotas.PoliciesPerAccount, "customer managed policies the account may hold")
	opts.Live.addFlags(f, false)
	cmd.MarkFlagsMutuallyExclusive("demo", "snapshot")
	return cmd
}

func runPlan(ctx context.Context, opts planOptions, s streams) error {
	w, err := report.NewPlanWriter(opts.Format)
	if err != nil {
		return usageError(fmt.Errorf("--format: %w", err))
	}
	q := opts.Quotas
	for name, v := range map[string]int{"--max-groups-per-user": q.GroupsPerUser, "--max-policies-per-group": q.PoliciesPerGroup,
		"--max-groups-per-account": q.GroupsPerAccount, "--max-policies-per-account": q.PoliciesPerAccount} {
		if v < 1 {
			return usageError(fmt.Errorf("%s: %d is not a quota; use a positive number", name, v))
		}
	}
	offline := opts.Demo || opts.Snapshot != ""
	if offline && len(opts.liveFlags) > 0 {
		return usageError(fmt.Errorf("%s: only for live plans; drop it, or drop --demo/--snapshot", strings.Join(opts.liveFlags, ", ")))
	}
	if opts.Snapshot != "" && opts.Out != "" {
		if err := checkOutputNotInput(opts.Out, []string{opts.Snapshot}); err != nil {
			return usageError(errors.New(strings.Replace(err.Error(), "--output", "--out", 1)))
		}
	}
	aopts := auditOptions{Demo: opts.Demo, Config: opts.Config}
	if opts.Snapshot != "" {
		aopts.Snapshots = []string{opts.Snapshot}
	}
	cfg, err := loadConfig(aopts)
	if err != nil {
		return usageError(err)
	}
	var accounts []*model.Account
	var warnings []string
	if offline {
		accounts, err = loadAccountsFull(ctx, aopts)
	} else {
		live := opts.Live
		live.quotas = true
		var res *liveResult
		res, err = collectLive(ctx, live, true, nil)
		if res != nil {
			accounts, warnings = res.accounts, res.warnings
			if opts.Stats {
				fmt.Fprintln(s.err, formatCalls(res.calls, res.attempts))
			}
			if lq := res.quotas; lq != nil {
				q = liveQuotas(q, *lq, opts.quotaFlags)
			}
		}
	}
	if err != nil {
		return err
	}
	if len(accounts) != 1 {
		return usageError(fmt.Errorf("the input holds %d accounts; plan one account at a time", len(accounts)))
	}
	acct := accounts[0]
	if acct.Error != "" {
		return usageError(fmt.Errorf("account %s could not be read: %s", acct.ID, acct.Error))
	}
	now := time.Now()
	asOf := now
	if opts.Demo && !acct.Source.CapturedAt.IsZero() {
		asOf = acct.Source.CapturedAt
	}
	rep := evaluate(accounts, cfg, now, asOf)
	p, err := plan.Make(acct, rep.Results, plan.Options{GroupPrefix: opts.GroupPrefix, Users: opts.Users, Quotas: q})
	if err != nil {
		return usageError(err)
	}
	for _, warning := range append(warnings, rep.Warnings...) {
		fmt.Fprintln(s.err, "warning:", warning)
	}
	if opts.Out != "" {
		data, err := p.Encode()
		if err != nil {
			return err
		}
		if err := atomicfile.Write(opts.Out, 0o600, func(f io.Writer) error {
			_, err := f.Write(data)
			return err
		}); err != nil {
			return usageError(fmt.Errorf("--out: %w", err))
		}
	}
	bw := bufio.NewWriter(s.out)
	if err := w.WritePlan(bw, p); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if opts.Out != "" && opts.Format != "json" {
		fmt.Fprintf(s.err, "Wrote the plan to %s.\n", opts.Out)
	}
	return nil
}

// liveQuotas takes the account's own quotas where the flags left the
// defaults.
func liveQuotas(q plan.Quotas, live awsiam.Quotas, set map[string]bool) plan.Quotas {
	if live.GroupsPerUser > 0 && !set["max-groups-per-user"] {
		q.GroupsPerUser = live.GroupsPerUser
	}
	if live.PoliciesPerGroup > 0 && !set["max-policies-per-group"] {
		q.PoliciesPerGroup = live.PoliciesPerGroup
	}
	if live.Groups > 0 && !set["max-groups-per-account"] {
		q.GroupsPerAccount = live.Groups
	}
	if live.Policies > 0 && !set["max-policies-per-account"] {
		q.PoliciesPerAccount = live.Policies
	}
	if live.PolicySize > 0 {
		q.PolicySize = live.PolicySize
	}
	return q
}

// loadAccountsFull reads the demo or a snapshot with groups and policies.
func loadAccountsFull(ctx context.Context, opts auditOptions) ([]*model.Account, error) {
	opts.full = true
	return loadAccounts(ctx, opts)
}
