package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/iamgroups/iamgroups/internal/apply"
	"github.com/iamgroups/iamgroups/internal/awsiam"
	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/plan"
	"github.com/iamgroups/iamgroups/internal/shellword"
)

// applyOptions are the flags of `iamgroups apply` and `iamgroups rollback`.
type applyOptions struct {
	Plan        string
	Resume      string
	Yes         bool
	DryRun      bool
	Journal     string
	Settle      time.Duration
	Concurrency int
	MaxRate     float64
	Verbose     bool
	Live        liveOptions
	// retry tunes the SDK's retries; tests shorten them.
	retry awsiam.Options
	// interactive says whether standard input is a terminal to ask on;
	// tests set it.
	interactive func() bool
}

func newApplyCommand(s streams) *cobra.Command {
	opts := applyOptions{}
	cmd := &cobra.Command{
		Use:   "apply PLAN.json [live flags] | apply --resume DIR",
		Short: "Carry out a plan: back up, add groups, verify, then remove direct policies",
		Long: "Apply carries out a plan file on the account it was made for. It takes a lock on the\n" +
			"account, re-reads it and refuses a stale plan (exit 4), backs up every planned user's\n" +
			"direct policies (inline documents verbatim) into a run directory, and journals each\n" +
			"call before making it. Additive calls come first (policies, groups, attachments,\n" +
			"memberships); after a fresh read shows that every planned user receives all its\n" +
			"permissions through groups, the direct policies are removed, and a last read checks\n" +
			"that the planned users pass. Nobody loses or gains a permission at any point.\n\n" +
			"A run cut short (an error, Ctrl-C, a crash) continues with --resume DIR; `iamgroups\n" +
			"rollback DIR` undoes it. Without --yes, apply shows the plan and asks on the terminal.",
		Example: "  iamgroups apply plan.json --dry-run\n" +
			"  iamgroups apply plan.json --profile prod-admin\n" +
			"  iamgroups apply --resume ~/.local/state/iamgroups/journal/111122223333-20261126T120000Z --yes",
		Args: func(cmd *cobra.Command, args []string) error {
			if opts.Resume != "" {
				if len(args) > 0 {
					return usageError(fmt.Errorf("--resume continues the plan of its run directory; drop %s", args[0]))
				}
				return nil
			}
			if len(args) != 1 {
				return usageError(errors.New("apply needs the plan file (iamgroups plan --out PLAN.json), or --resume DIR"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Plan = args[0]
			}
			return runApply(cmd.Context(), opts, s)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Resume, "resume", "", "continue the run in `DIR` (its run directory)")
	opts.addRunFlags(cmd)
	f.StringVar(&opts.Journal, "journal", defaultJournal(), "keep run directories and the account lock under `DIR`")
	f.DurationVar(&opts.Settle, "settle", 10*time.Second, "wait this long for IAM's eventual consistency before each verification")
	f.IntVar(&opts.Concurrency, "concurrency", 4, "calls in flight at once within a phase")
	f.Float64Var(&opts.MaxRate, "max-rate", 10, "at most this many write calls a second (0: no limit)")
	return cmd
}

// addRunFlags adds what apply and rollback share.
func (o *applyOptions) addRunFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVarP(&o.Yes, "yes", "y", false, "do not ask for confirmation")
	f.BoolVar(&o.DryRun, "dry-run", false, "read and check, print every call, change nothing")
	f.BoolVarP(&o.Verbose, "verbose", "v", false, "print every call as it is made, on standard error")
	o.Live.addAccessFlags(f)
}

// defaultJournal is where run directories go unless --journal says.
func defaultJournal() string {
	if dir := os.Getenv("XDG_STATE_HOME"); dir != "" {
		return filepath.Join(dir, "iamgroups", "journal")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "iamgroups", "journal")
	}
	return "iamgroups-journal"
}

func runApply(ctx context.Context, opts applyOptions, s streams) error {
	if opts.Concurrency < 1 || opts.Concurrency > 32 {
		return usageError(fmt.Errorf("--concurrency: %d is out of range; use 1 to 32", opts.Concurrency))
	}
	if opts.MaxRate < 0 {
		return usageError(fmt.Errorf("--max-rate: %g is negative; use 0 for no limit", opts.MaxRate))
	}
	if opts.Settle < 0 {
		return usageError(fmt.Errorf("--settle: %s is negative", opts.Settle))
	}
	var p *plan.Plan
	var data []byte
	if opts.Resume == "" {
		var err error
		if data, err = os.ReadFile(opts.Plan); err != nil {
			return usageError(fmt.Errorf("read plan: %w", err))
		}
		if p, err = plan.Decode(data); err == nil {
			err = p.Validate()
		}
		if err != nil {
			return usageError(fmt.Errorf("%s: %w", opts.Plan, err))
		}
		if len(p.Actions) == 0 {
			fmt.Fprintln(s.out, "The plan changes nothing; nothing to apply.")
			return nil
		}
		if err := confirm(opts, s, fmt.Sprintf("Account %s. %s", p.AccountID, p.Summary())); err != nil {
			return err
		}
	} else if err := confirm(opts, s, "Resume the run in "+opts.Resume+"."); err != nil {
		return err
	}
	r, sess, err := newRunner(ctx, opts, s)
	if err != nil {
		return err
	}
	var rep *apply.Report
	if opts.Resume != "" {
		rep, err = r.Resume(ctx, opts.Resume)
	} else {
		rep, err = r.Apply(ctx, p, data)
	}
	return finishRun(opts, s, r, sess, rep, err, "apply")
}

// confirm asks on the terminal unless --yes or --dry-run; with no terminal
// it refuses before anything is read.
func confirm(opts applyOptions, s streams, summary string) error {
	if opts.Yes || opts.DryRun {
		return nil
	}
	interactive := opts.interactive
	if interactive == nil {
		interactive = func() bool { f, ok := s.in.(*os.File); return ok && isTerminal(f) }
	}
	if !interactive() {
		return usageError(errors.New("no terminal to confirm on: review the calls with --dry-run, then run again with --yes"))
	}
	fmt.Fprintf(s.err, "%s\nType yes to go on: ", summary)
	line, _ := bufio.NewReader(s.in).ReadString('\n')
	if strings.TrimSpace(line) != "yes" {
		return usageError(errors.New("not confirmed; nothing was changed"))
	}
	return nil
}

// newRunner connects to the account and stacks the writer: the real one
// or the dry run, rate limited, logged.
func newRunner(ctx context.Context, opts applyOptions, s streams) (*apply.Runner, *awsiam.Session, error) {
	o := opts.retry
	o.Profile, o.Region, o.EndpointURL, o.RoleARN, o.ExternalID = opts.Live.Profile, opts.Live.Region, opts.Live.EndpointURL, opts.Live.RoleARN, opts.Live.ExternalID
	sess, err := awsiam.NewSession(ctx, o)
	if err != nil {
		return nil, nil, liveError(err)
	}
	var w apply.Writer
	if opts.DryRun {
		w = apply.DryRun(s.out)
	} else {
		real := awsiam.NewWriter(sess)
		w = apply.WriterFunc(func(ctx context.Context, c apply.Call) error { return real.Do(ctx, awsiam.WriteCall(c)) })
		w = apply.RateLimit(w, opts.MaxRate)
		if opts.Verbose {
			w = apply.Logged(w, s.err)
		}
	}
	journal := opts.Journal
	if opts.Resume != "" {
		journal = filepath.Dir(filepath.Clean(opts.Resume))
	}
	r := &apply.Runner{
		W: w,
		R: readerFunc(func(ctx context.Context) (*model.Account, error) { return awsiam.ReadFull(ctx, sess) }),
		Opts: apply.Options{JournalRoot: journal, Settle: opts.Settle, Concurrency: opts.Concurrency, DryRun: opts.DryRun,
			Out: s.err, Command: "iamgroups " + strings.Join(os.Args[1:], " ")},
	}
	return r, sess, nil
}

type readerFunc func(ctx context.Context) (*model.Account, error)

func (f readerFunc) Read(ctx context.Context) (*model.Account, error) { return f(ctx) }

// finishRun reports a run and maps its error to an exit code: 4 for a
// stale plan or a held lock, 3 for a run stopped half-way (with what to
// do next), 2 for the rest.
func finishRun(opts applyOptions, s streams, r *apply.Runner, sess *awsiam.Session, rep *apply.Report, err error, verb string) error {
	calls := r.Calls()
	if opts.DryRun {
		if err == nil {
			fmt.Fprintf(s.err, "Dry run: %d call(s) listed, none made.\n", sum(calls))
		}
	} else if sess != nil {
		fmt.Fprintf(s.err, "API calls: %s.\n", formatOps(sess.Calls.Counts()))
	}
	if rep != nil {
		if rep.Skipped > 0 {
			fmt.Fprintf(s.err, "Skipped %d action(s) that a fresh read showed done.\n", rep.Skipped)
		}
		for _, w := range rep.Warnings {
			fmt.Fprintln(s.err, "warning:", w)
		}
	}
	if err == nil {
		if rep != nil && rep.Dir != "" {
			fmt.Fprintf(s.out, "%s complete. Run directory: %s\n", capitalize(verb), rep.Dir)
		}
		return nil
	}
	var stale *apply.StaleError
	refused := errors.As(err, &stale) || errors.Is(err, apply.ErrLocked)
	started := rep != nil && rep.Dir != "" && !opts.DryRun
	switch {
	case refused && !started:
		return &exitError{code: ExitRefused, err: err}
	case refused:
		// A resumed run refused because the account changed meanwhile.
		return &exitError{code: ExitRefused, err: fmt.Errorf("%w\nThe run directory %s holds the backup and the journal; to undo the run: iamgroups rollback %s",
			err, rep.Dir, shellword.Quote(rep.Dir))}
	case !started:
		var cfg *awsiam.ConfigError
		if errors.As(err, &cfg) {
			return usageError(err)
		}
		if errors.Is(err, context.Canceled) {
			return &exitError{code: ExitPartial, err: errors.New("interrupted before any change")}
		}
		return usageError(err)
	}
	if errors.Is(err, context.Canceled) {
		err = errors.New("interrupted")
	}
	// The account may be between two states: say how to go on.
	dir := shellword.Quote(rep.Dir)
	next := "go on with `iamgroups apply --resume " + dir + "`, or undo with `iamgroups rollback " + dir + "`"
	if verb == "rollback" {
		next = "run `iamgroups rollback " + dir + "` again"
	}
	return &exitError{code: ExitPartial, err: fmt.Errorf("%s stopped: %w\nThe run directory %s holds the backup and the journal. Fix the cause, then %s",
		verb, err, rep.Dir, next)}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// formatOps renders counts by operation: "3 CreateGroup, 1 AddUserToGroup".
func formatOps(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
	}
	return strings.Join(parts, ", ")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
