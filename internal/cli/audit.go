package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/iamgroups/iamgroups/internal/atomicfile"
	"github.com/iamgroups/iamgroups/internal/demo"
	"github.com/iamgroups/iamgroups/internal/exempt"
	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/report"
	"github.com/iamgroups/iamgroups/internal/rule"
	"github.com/iamgroups/iamgroups/internal/snapshot"
	"github.com/iamgroups/iamgroups/internal/store"
	"github.com/iamgroups/iamgroups/internal/watch"
	"github.com/spf13/cobra"
)

// defaultConfig is read when --config is not given and the file exists.
const defaultConfig = ".iamgroups.yaml"

// auditOptions are the flags of `iamgroups audit`.
type auditOptions struct {
	Demo      bool
	Snapshots []string
	Format    string
	Output    string
	Config    string
	FailOn    string
	Stats     bool
	Live      liveOptions
	// Store, when set, records the audit as a run of Target in the history.
	Store  string
	Target string
	// liveFlags are the live flags given, refused with --demo/--snapshot.
	liveFlags []string
	// outputSet is whether --output was given (possibly empty).
	outputSet bool
	// full loads groups and policies too (planning).
	full bool
	// now is the clock exemptions expire against; tests set it.
	now func() time.Time
}

func newAuditCommand(s streams) *cobra.Command {
	opts := auditOptions{now: time.Now}
	cmd := &cobra.Command{
		Use:   "audit [--demo | --snapshot FILE ... | live flags]",
		Short: "Report every IAM user that holds a policy directly (IAM-071)",
		Long: "Audit evaluates IAM-071 for every IAM user: PASS (no direct policy), FAIL (a managed\n" +
			"policy attached to the user or an inline user policy), EXEMPT (a FAIL an exemption\n" +
			"covers) or ERROR (could not be evaluated).\n\n" +
			"Exit codes: 0 nothing failed; 1 at least one FAIL; 2 usage or input error;\n" +
			"3 partial results. --demo implies --fail-on none unless --fail-on is given.\n\n" +
			"Without --demo or --snapshot, audit reads the live account that the standard AWS\n" +
			"credential chain (or --profile, --role-arn) reaches, or with --org every account\n" +
			"of the Organization.",
		Example: "  iamgroups audit --demo\n" +
			"  iamgroups audit --snapshot gaad.json --format json --output audit.json\n" +
			"  iamgroups audit --profile prod-audit --stats\n" +
			"  iamgroups audit --org --org-role-name OrganizationAccountAccessRole --format json",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("fail-on") && opts.Demo {
				opts.FailOn = "none"
			}
			opts.liveFlags = changedLiveFlags(cmd.Flags())
			opts.outputSet = cmd.Flags().Changed("output")
			return runAudit(cmd.Context(), opts, s)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.Demo, "demo", false, "audit the embedded demo account (a fictional company)")
	f.StringArrayVar(&opts.Snapshots, "snapshot", nil, "audit a snapshot `FILE`: get-account-authorization-details output or an iamgroups snapshot, optionally .gz (repeatable)")
	f.StringVarP(&opts.Format, "format", "f", "table", "output format: "+strings.Join(report.Formats(), ", "))
	f.StringVarP(&opts.Output, "output", "o", "", "write the report to `FILE` (atomically) instead of standard output")
	f.StringVar(&opts.Config, "config", "", "exemptions config `FILE` (default "+defaultConfig+" if present; the demo's own with --demo)")
	f.StringVar(&opts.FailOn, "fail-on", "fail", "fail: exit 1 on any FAIL and 3 on incomplete results; none: report only, exit 0")
	f.BoolVar(&opts.Stats, "stats", false, "print the AWS API calls made, by operation, on standard error")
	f.StringVar(&opts.Store, "store", "", "also record the audit as a run in the history: a SQLite `FILE` or a postgres:// DSN (see `iamgroups history`)")
	f.StringVar(&opts.Target, "target", "cli", "with --store, the target `NAME` the run is recorded under")
	opts.Live.addFlags(f, true)
	cmd.MarkFlagsMutuallyExclusive("demo", "snapshot")
	return cmd
}

func runAudit(ctx context.Context, opts auditOptions, s streams) error {
	if opts.outputSet && opts.Output == "" {
		return usageError(errors.New("--output: empty file name; name a file, or drop --output to write to standard output"))
	}
	w, err := reportWriter(opts.FailOn, opts.Format, opts.Output, s.out)
	if err != nil {
		return err
	}
	offline := opts.Demo || len(opts.Snapshots) > 0
	if err := checkOutputNotInput(opts.Output, opts.Snapshots); err != nil {
		return usageError(err)
	}
	if offline && len(opts.liveFlags) > 0 {
		return usageError(fmt.Errorf("%s: only for live audits; drop it, or drop --demo/--snapshot", strings.Join(opts.liveFlags, ", ")))
	}
	cfg, err := loadConfig(opts)
	if err != nil {
		return usageError(err)
	}
	started := opts.now()
	var history store.Store
	if opts.Store != "" {
		if err := watch.CheckTargetName(opts.Target); err != nil {
			return usageError(fmt.Errorf("--target: %w", err))
		}
		if history, err = openHistory(ctx, opts.Store, true); err != nil {
			return err
		}
		defer history.Close()
	}
	var accounts []*model.Account
	var live *liveResult
	if offline {
		defer paceGC(opts)()
		accounts, err = loadAccounts(ctx, opts)
	} else {
		var progress io.Writer
		if opts.Live.Org && isTerminal(s.err) {
			progress = s.err
		}
		live, err = collectLive(ctx, opts.Live, false, progress)
		if live != nil {
			accounts = live.accounts
		}
	}
	if err != nil {
		return err
	}

	now := opts.now()
	asOf := now
	if opts.Demo && len(accounts) > 0 && !accounts[0].Source.CapturedAt.IsZero() {
		// The demo is a picture of one day: its exemptions expire as of
		// that day, so that it shows the same statuses whenever it runs.
		asOf = accounts[0].Source.CapturedAt
	}
	rep := evaluate(accounts, cfg, now, asOf)
	if live != nil {
		rep.APICalls = live.calls
		rep.Warnings = append(live.warnings, rep.Warnings...)
		if opts.Stats {
			fmt.Fprintln(s.err, formatCalls(live.calls, live.attempts))
		}
	} else if opts.Stats {
		fmt.Fprintln(s.err, "AWS API calls: 0 (offline audit)")
	}
	if opts.Demo && opts.FailOn == "none" {
		rep.Footer = "Demo account (exemptions as of " + asOf.Format("2006-01-02") + "): exit status 0 because --demo implies --fail-on none; with --fail-on fail it would exit 1 (FAIL) or 3 (ERROR)."
	}
	if err := writeReport(opts.Output, s.out, w, rep); err != nil {
		return err
	}
	if history != nil {
		if err := recordAudit(ctx, history, opts.Target, opts, started, accounts, rep); err != nil {
			return err
		}
	}
	if opts.Format == "csv" {
		// CSV has no place for them.
		for _, w := range rep.Warnings {
			fmt.Fprintln(s.err, "warning:", w)
		}
	}
	return outcome(opts.FailOn, rep)
}

// paceGC sets the collector's pace for one audit and returns a function
// that restores it. An audit allocates what it keeps and makes little
// garbage, so the default pace collects several times while a large
// snapshot is decoded and finds little to free; instead the collector runs
// only when the heap nears a limit well above what the inputs need
// (4× their size, at least 256 MiB).
func paceGC(opts auditOptions) func() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {} // the user decides
	}
	var size int64
	for _, p := range opts.Snapshots {
		if fi, err := os.Stat(p); err == nil {
			n := fi.Size()
			if strings.HasSuffix(p, ".gz") {
				n *= 10 // GAAD output compresses about ten times
			}
			size += n
		}
	}
	limit := max(256<<20, 4*size)
	oldPercent := debug.SetGCPercent(-1)
	oldLimit := debug.SetMemoryLimit(limit)
	return func() {
		debug.SetMemoryLimit(oldLimit)
		debug.SetGCPercent(oldPercent)
	}
}

// checkOutputNotInput refuses to write the report over a snapshot.
func checkOutputNotInput(output string, inputs []string) error {
	if output == "" {
		return nil
	}
	out, err := os.Stat(output)
	if err != nil {
		return nil
	}
	for _, in := range inputs {
		if fi, err := os.Stat(in); err == nil && os.SameFile(fi, out) {
			return fmt.Errorf("--output: %s is also a --snapshot input; write the report elsewhere", output)
		}
	}
	return nil
}

// loadConfig reads the exemptions: --config, else the demo's own for
// --demo, else .iamgroups.yaml when present.
func loadConfig(opts auditOptions) (*exempt.Config, error) {
	switch {
	case opts.Config != "":
		cfg, err := exempt.Load(opts.Config)
		if err != nil && errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("--config: %s does not exist", opts.Config)
		}
		return cfg, err
	case opts.Demo:
		return exempt.Parse(demo.Exemptions, "demo exemptions")
	}
	if _, err := os.Stat(defaultConfig); err == nil {
		return exempt.Load(defaultConfig)
	}
	return nil, nil
}

func loadAccounts(ctx context.Context, opts auditOptions) ([]*model.Account, error) {
	if opts.Demo {
		accounts, err := snapshot.Decode(demo.Account, demo.Name, snapshot.Options{Kind: "demo", Full: opts.full})
		if err != nil {
			return nil, fmt.Errorf("load the demo account: %w", err)
		}
		return accounts, nil
	}
	var all []*model.Account
	seen := map[string]string{}
	for _, path := range opts.Snapshots {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		accounts, err := snapshot.ReadFile(path, snapshot.Options{Full: opts.full})
		if err != nil {
			return nil, usageError(err)
		}
		for _, a := range accounts {
			if prev, ok := seen[a.ID]; ok && a.ID != "" {
				return nil, usageError(fmt.Errorf("--snapshot: account %s is in both %s and %s; audit each snapshot on its own", a.ID, prev, path))
			}
			seen[a.ID] = path
		}
		all = append(all, accounts...)
	}
	return all, nil
}

// evaluate runs every rule over the accounts and applies the exemptions
// as of asOf.
func evaluate(accounts []*model.Account, cfg *exempt.Config, now, asOf time.Time) *report.Report {
	rep := &report.Report{GeneratedAt: now.UTC(), ToolVersion: Version()}
	accounts = slices.Clone(accounts)
	slices.SortStableFunc(accounts, func(a, b *model.Account) int { return strings.Compare(a.ID, b.ID) })
	var results []rule.Result
	for _, a := range accounts {
		for _, r := range rule.Registry {
			if rs := r.Check(a); results == nil {
				results = rs // one account, one rule: no copy
			} else {
				results = append(results, rs...)
			}
		}
		rep.Warnings = append(rep.Warnings, a.Warnings...)
	}
	rep.Warnings = append(rep.Warnings, cfg.Apply(accounts, results, asOf)...)
	rule.Sort(results)
	rep.Results = results
	rep.Summary = rule.Summarize(results)
	for _, a := range accounts {
		info := report.AccountInfo{ID: a.ID, Source: a.Source, Partial: a.Partial}
		info.Summary = rule.Summarize(accountResults(results, a.ID))
		rep.Accounts = append(rep.Accounts, info)
		rep.Partial = rep.Partial || a.Partial || info.Summary.Error > 0
	}
	return rep
}

// accountResults returns the run of sorted results of one account.
func accountResults(sorted []rule.Result, id string) []rule.Result {
	i := 0
	for i < len(sorted) && sorted[i].AccountID < id {
		i++
	}
	j := i
	for j < len(sorted) && sorted[j].AccountID == id {
		j++
	}
	return sorted[i:j]
}

// writeReport writes to path atomically, or to out.
// The writers buffer their own output (the JSON one in large chunks, for
// an Organization's report), so the report goes to out or the file as is.
func writeReport(path string, out io.Writer, w report.Writer, rep *report.Report) error {
	if path == "" {
		if err := w.Write(out, rep); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		return nil
	}
	err := atomicfile.Write(path, 0o644, func(f io.Writer) error { return w.Write(f, rep) })
	if err != nil {
		return usageError(fmt.Errorf("--output: %w", err))
	}
	return nil
}
