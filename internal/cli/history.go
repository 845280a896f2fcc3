package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/report"
	"github.com/iamgroups/iamgroups/internal/store"
	"github.com/iamgroups/iamgroups/internal/watch"
)

// historyOptions are the flags of `iamgroups history`.
type historyOptions struct {
	Store  string
	Target string
	Runs   int
	Format string
}

func newHistoryCommand(s streams) *cobra.Command {
	opts := historyOptions{}
	cmd := &cobra.Command{
		Use:   "history [--store FILE|DSN] [--target NAME] [--runs N] [--format table|json]",
		Short: "Show the trend of recorded runs and the latest new and resolved findings",
		Long: "History reads the runs that `iamgroups serve` and `iamgroups audit --store` recorded:\n" +
			"per run its time, target, status, users by status and the findings it opened and\n" +
			"resolved (oldest first), then the latest new and resolved findings.\n\n" +
			"--store is a SQLite file (default " + watch.DefaultStore + ") or a postgres:// URL.",
		Example: "  iamgroups audit --demo --store iamgroups.db\n" +
			"  iamgroups history\n" +
			"  iamgroups history --target prod --runs 50 --format json",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runHistory(cmd.Context(), opts, s)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Store, "store", watch.DefaultStore, "the history: a SQLite `FILE` or a postgres:// DSN")
	f.StringVar(&opts.Target, "target", "", "only this target's runs (`NAME`; audit --store records \"cli\" by default)")
	f.IntVar(&opts.Runs, "runs", 20, "how many of the latest runs to show")
	f.StringVarP(&opts.Format, "format", "f", "table", "output format: table or json")
	return cmd
}

// Bounds on what the table lists: changes, and policies per change.
const (
	maxChanges       = 50
	maxPoliciesShown = 3
)

func runHistory(ctx context.Context, opts historyOptions, s streams) error {
	if opts.Format != "table" && opts.Format != "json" {
		return usageError(fmt.Errorf("--format: %q is not a choice; use table or json", opts.Format))
	}
	if opts.Runs < 1 || opts.Runs > 100000 {
		return usageError(fmt.Errorf("--runs: %d is out of range; use 1 to 100000", opts.Runs))
	}
	st, err := openHistory(ctx, opts.Store, false)
	if err != nil {
		return err
	}
	defer st.Close()
	runs, err := st.Runs(ctx, store.RunQuery{Target: opts.Target, Limit: opts.Runs})
	if err != nil {
		return fmt.Errorf("read history: %w", err)
	}
	slices.Reverse(runs) // oldest first: a trend reads left to right, top to bottom
	changes, err := st.Changes(ctx, opts.Target, 1)
	if err != nil {
		return fmt.Errorf("read history: %w", err)
	}
	if opts.Format == "json" {
		return writeHistoryJSON(s.out, runs, changes)
	}
	return writeHistoryTable(s.out, opts, runs, changes)
}

// openHistory opens the store named by --store. For history the store
// must exist: a mistyped path must not become a new, empty history.
func openHistory(ctx context.Context, dsn string, create bool) (store.Store, error) {
	if strings.TrimSpace(dsn) == "" {
		return nil, usageError(errors.New("--store: empty; name a SQLite file or a postgres:// DSN"))
	}
	if !create && !store.IsPostgres(dsn) {
		if _, err := os.Stat(dsn); errors.Is(err, fs.ErrNotExist) {
			return nil, usageError(fmt.Errorf("--store: %s does not exist; record runs first with `iamgroups serve` or `iamgroups audit --store %s`, or name the history with --store", dsn, dsn))
		}
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, usageError(fmt.Errorf("--store: %w", err))
	}
	return st, nil
}

func writeHistoryTable(out io.Writer, opts historyOptions, runs []store.Run, changes []store.Change) error {
	scope := "all targets"
	if opts.Target != "" {
		scope = "target " + opts.Target
	}
	if len(runs) == 0 {
		_, err := fmt.Fprintf(out, "No runs recorded for %s.\n", scope)
		return err
	}
	fmt.Fprintf(out, "Runs of %s, oldest first (the last %d at most):\n\n", scope, opts.Runs)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSTARTED (UTC)\tTARGET\tSTATUS\tUSERS\tPASS\tFAIL\tEXEMPT\tERROR\tNEW\tRESOLVED\t")
	for _, r := range runs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", r.ID, r.StartedAt.UTC().Format(time.DateTime), r.Target, r.Status,
			r.Summary.Users, r.Summary.Pass, r.Summary.Fail, r.Summary.Exempt, r.Summary.Error, r.New+r.Reopened, r.Resolved)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write history: %w", err)
	}
	for _, r := range runs {
		if r.Error != "" && (r.Status == store.RunFailed || r.Status == store.RunInterrupted) {
			fmt.Fprintf(out, "run %d %s: %s\n", r.ID, r.Status, r.Error)
		}
	}
	if len(changes) == 0 {
		_, err := fmt.Fprintln(out, "\nNo new or resolved findings yet.")
		return err
	}
	fmt.Fprintf(out, "\nLatest changes (run %d, %s, target %s):\n\n", changes[0].RunID, changes[0].At.UTC().Format(time.DateTime), changes[0].Finding.Target)
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHANGE\tACCOUNT\tUSER\tDIRECT POLICIES")
	changes = slices.Clone(changes)
	slices.SortStableFunc(changes, func(a, b store.Change) int {
		return cmp.Or(strings.Compare(a.Finding.AccountID, b.Finding.AccountID), strings.Compare(a.Finding.UserName, b.Finding.UserName))
	})
	for i, c := range changes {
		if i == maxChanges {
			fmt.Fprintf(tw, "and %d more\t\t\t\n", len(changes)-i)
			break
		}
		policies := "-"
		if names := policyNames(c.Finding.Evidence); c.Kind != store.ChangeResolved && len(names) > 0 {
			policies = strings.Join(names[:min(len(names), maxPoliciesShown)], ", ")
			if len(names) > maxPoliciesShown {
				policies += fmt.Sprintf(" (+%d more)", len(names)-maxPoliciesShown)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", strings.ToUpper(c.Kind), c.Finding.AccountID, c.Finding.UserName, policies)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write history: %w", err)
	}
	return nil
}

// policyNames names the direct policies of a finding's evidence.
func policyNames(e store.Evidence) []string {
	var out []string
	for _, v := range e.Violations {
		if v.Kind == "inline" {
			out = append(out, "inline "+v.Name)
		} else {
			out = append(out, v.Name)
		}
	}
	return out
}

// historySchema identifies `history --format json` documents.
const historySchema = "iamgroups.history/v1"

type historyJSON struct {
	Schema  string              `json:"schema"`
	Runs    []historyRunJSON    `json:"runs"`
	Changes []historyChangeJSON `json:"changes"`
}

type historyRunJSON struct {
	ID         int64          `json:"id"`
	Target     string         `json:"target"`
	Trigger    string         `json:"trigger"`
	Source     string         `json:"source"`
	Status     string         `json:"status"`
	Method     string         `json:"method,omitempty"`
	StartedAt  time.Time      `json:"started_at"`
	FinishedAt *time.Time     `json:"finished_at"`
	DurationMS int64          `json:"duration_ms"`
	Summary    any            `json:"summary"`
	New        int            `json:"new"`
	Resolved   int            `json:"resolved"`
	Reopened   int            `json:"reopened"`
	APICalls   map[string]int `json:"api_calls"`
	Accounts   []string       `json:"accounts"`
	Error      string         `json:"error,omitempty"`
}

type historyChangeJSON struct {
	Kind      string   `json:"kind"`
	RunID     int64    `json:"run_id"`
	At        string   `json:"at"`
	Target    string   `json:"target"`
	AccountID string   `json:"account_id"`
	UserName  string   `json:"user_name"`
	UserARN   string   `json:"user_arn"`
	Policies  []string `json:"policies"`
}

func writeHistoryJSON(out io.Writer, runs []store.Run, changes []store.Change) error {
	doc := historyJSON{Schema: historySchema, Runs: []historyRunJSON{}, Changes: []historyChangeJSON{}}
	for _, r := range runs {
		j := historyRunJSON{ID: r.ID, Target: r.Target, Trigger: r.Trigger, Source: r.Source, Status: r.Status, Method: r.Method,
			StartedAt: r.StartedAt.UTC(), DurationMS: r.Duration().Milliseconds(), Summary: r.Summary, New: r.New,
			Resolved: r.Resolved, Reopened: r.Reopened, APICalls: r.APICalls, Accounts: r.Accounts, Error: r.Error}
		if !r.FinishedAt.IsZero() {
			t := r.FinishedAt.UTC()
			j.FinishedAt = &t
		}
		if j.APICalls == nil {
			j.APICalls = map[string]int{}
		}
		if j.Accounts == nil {
			j.Accounts = []string{}
		}
		doc.Runs = append(doc.Runs, j)
	}
	for _, c := range changes {
		p := policyNames(c.Finding.Evidence)
		if p == nil || c.Kind == store.ChangeResolved {
			p = []string{}
		}
		doc.Changes = append(doc.Changes, historyChangeJSON{Kind: c.Kind, RunID: c.RunID, At: c.At.UTC().Format(time.RFC3339),
			Target: c.Finding.Target, AccountID: c.Finding.AccountID, UserName: c.Finding.UserName, UserARN: c.Finding.UserARN, Policies: p})
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write history: %w", err)
	}
	return nil
}

// recordAudit records a finished audit as one run of target in the
// history (`audit --store`), with the trigger "cli".
func recordAudit(ctx context.Context, st store.Store, target string, opts auditOptions, started time.Time,
	accounts []*model.Account, rep *report.Report) error {
	src := watch.Target{Demo: opts.Demo, Snapshot: strings.Join(opts.Snapshots, ", "), Profile: opts.Live.Profile,
		RoleARN: opts.Live.RoleARN, EndpointURL: opts.Live.EndpointURL, Org: opts.Live.Org}
	id, err := st.BeginRun(ctx, store.RunStart{Target: target, Trigger: "cli", Source: src.Source(), StartedAt: started})
	if err != nil {
		return fmt.Errorf("--store: record the audit: %w", err)
	}
	end := watch.Outcome(accounts, rep.Results, rep.APICalls, opts.now())
	// The report is written: record it even if an interrupt came meanwhile.
	if _, err := st.FinishRun(context.WithoutCancel(ctx), id, end); err != nil {
		return fmt.Errorf("--store: record the audit: %w", err)
	}
	return nil
}
