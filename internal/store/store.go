// Package store owns the history of continuous mode: every scan is a run,
// every result of a run is kept with its fingerprint, and each failing user
// is a finding with a lifecycle (first seen, last seen, resolved, reopened).
//
// One Store interface has two implementations: SQLite (modernc.org/sqlite,
// pure Go, WAL mode), the default, one file and no setup; and PostgreSQL
// (pgx), chosen by a postgres:// DSN, for several instances sharing one
// database. Both run the same embedded, versioned migrations and pass the
// same test suite. The store knows nothing of AWS: it records what the
// watch package (scheduled scans) and `audit --store` hand it, and answers
// the queries of the web package and `iamgroups history`.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/iamgroups/iamgroups/internal/rule"
)

// Run statuses. A run is "running" from BeginRun until FinishRun. A run
// cut short becomes "interrupted": by Store.InterruptRun when the process
// recording it stops in an orderly way, or by Store.MarkInterrupted when
// a later process finds it left running.
const (
	RunRunning     = "running"
	RunOK          = "ok"          // every account and user evaluated
	RunPartial     = "partial"     // some users or accounts are ERROR
	RunFailed      = "failed"      // no results at all (credentials, network…)
	RunInterrupted = "interrupted" // the process stopped before the run ended
)

// Finding states.
const (
	FindingOpen     = "open"
	FindingResolved = "resolved"
)

// Change kinds, as reported by FinishRun and kept as events.
const (
	ChangeNew      = "new"      // first FAIL ever seen for the fingerprint
	ChangeResolved = "resolved" // an open finding that no longer fails
	ChangeReopened = "reopened" // a resolved finding that fails again
)

// ErrNotFound is returned for a run or user that the store does not hold.
var ErrNotFound = errors.New("not found")

// RunStart describes a run as it begins.
type RunStart struct {
	// Target is the name of the configured target ("prod"), or "cli" for
	// `audit --store`.
	Target string
	// Trigger is "schedule", "api" (POST /api/v1/scans) or "cli".
	Trigger string
	// Source is how the target is reached, for humans: "profile prod-audit",
	// "organization", "snapshot FILE", "demo".
	Source    string
	StartedAt time.Time
}

// RunEnd is what a finished run hands the store.
type RunEnd struct {
	// Status is RunOK, RunPartial or RunFailed.
	Status     string
	FinishedAt time.Time
	// Method is how data was collected: "gaad", "list", "snapshot", "demo".
	Method string
	// APICalls counts AWS API calls by operation.
	APICalls map[string]int
	// Error says why the run failed or is partial (empty for RunOK).
	Error string
	// Accounts are the accounts the run covered, including those that came
	// back ERROR. Findings of a covered account that no result fails any
	// more are resolved; accounts not covered are left alone. An account
	// that came back as one account-level ERROR result (no user name or
	// ARN), and every account of a RunFailed run, resolves nothing.
	Accounts []string
	// Results are every result of the run (all statuses). An ERROR result
	// neither opens nor resolves a finding: what it hides is unknown.
	Results []rule.Result
}

// Run is one scan as recorded.
type Run struct {
	ID         int64
	Target     string
	Trigger    string
	Source     string
	Status     string
	Method     string
	StartedAt  time.Time
	FinishedAt time.Time // zero while running or when interrupted
	APICalls   map[string]int
	Error      string
	Accounts   []string
	Summary    rule.Summary
	// New, Resolved and Reopened count the changes this run caused.
	New, Resolved, Reopened int
}

// Duration is how long a finished run took (zero if it has not finished).
func (r *Run) Duration() time.Duration {
	if r.FinishedAt.IsZero() {
		return 0
	}
	return r.FinishedAt.Sub(r.StartedAt)
}

// Evidence is what made a user fail, as of the last run that saw it.
type Evidence struct {
	Groups              []string         `json:"groups,omitempty"`
	Violations          []rule.Violation `json:"violations,omitempty"`
	PermissionsBoundary string           `json:"permissions_boundary,omitempty"`
	Exemption           *rule.Exemption  `json:"exemption,omitempty"`
	Message             string           `json:"message,omitempty"`
}

// Finding is the life of one failing user (one fingerprint: rule, account,
// user ARN) across runs of one target.
type Finding struct {
	Fingerprint string
	Target      string
	RuleID      string
	AccountID   string
	UserName    string
	UserARN     string
	// State is FindingOpen or FindingResolved.
	State string
	// Status is the user's status in the last run that reported it, ERROR
	// included (an ERROR leaves State as it was). A user that disappeared
	// from a covered account keeps the status it last had.
	Status     rule.Status
	FirstSeen  time.Time
	LastSeen   time.Time  // last run in which it failed
	ResolvedAt *time.Time // nil while open
	// Reopened counts how often it failed again after being resolved.
	Reopened int
	// Evidence is from the last run in which the user was FAIL or EXEMPT:
	// a finding resolved by a PASS keeps what it failed for.
	Evidence Evidence
}

// Change is one lifecycle event caused by a run.
type Change struct {
	Kind  string // ChangeNew, ChangeResolved or ChangeReopened
	RunID int64
	At    time.Time // the run's start
	// Finding is the finding as it stood right after the run.
	Finding Finding
}

// FindingQuery filters findings. Empty fields match everything.
type FindingQuery struct {
	Target    string
	State     string // FindingOpen, FindingResolved or "" for both
	AccountID string
	// User matches a user name or ARN, case-insensitively: exact, or a
	// substring when it contains no '*'; '*' is a wildcard.
	User string
	// Policy matches a managed policy ARN or name, or an inline policy name,
	// in the evidence (same matching as User).
	Policy string
	Limit  int // 0: no limit
	Offset int
}

// RunQuery filters runs, newest first.
type RunQuery struct {
	Target string
	Limit  int // 0: no limit
	Offset int
}

// TrendPoint is the count of users by status in one account after one run.
type TrendPoint struct {
	RunID     int64
	At        time.Time // the run's start
	Target    string
	AccountID string
	rule.Summary
}

// AccountSummary is the latest known state of one account of one target.
type AccountSummary struct {
	Target    string
	AccountID string
	LastRunID int64
	LastRunAt time.Time
	rule.Summary
	Open int // open findings
}

// UserState is a user's status in one run.
type UserState struct {
	RunID    int64
	At       time.Time
	Target   string
	Status   rule.Status
	Evidence Evidence
}

// Store is the history. Implementations are safe for concurrent use.
// Every write is one transaction: a run is recorded completely or not at
// all, and a crash at any point leaves earlier history intact. Times come
// back in UTC.
type Store interface {
	// BeginRun records a run as running and returns its ID.
	BeginRun(ctx context.Context, start RunStart) (int64, error)
	// FinishRun records a run's results, updates the findings of its target
	// and returns the changes, in fingerprint order.
	FinishRun(ctx context.Context, runID int64, end RunEnd) ([]Change, error)
	// MarkInterrupted turns every run still running that started more than
	// olderThan ago into RunInterrupted, with the reason given, and returns
	// how many it changed. serve calls it at start, for runs a previous
	// process left behind; with several instances sharing one PostgreSQL
	// database, olderThan spares the runs other instances are recording.
	MarkInterrupted(ctx context.Context, reason string, olderThan time.Duration) (int, error)
	// InterruptRun turns one run into RunInterrupted, with the reason
	// given, if it is still running; a run that already finished or was
	// interrupted is left as it is, and that is no error. It returns
	// ErrNotFound if the store holds no such run. serve calls it at
	// shutdown for each run its own scheduler cut short, so that runs of
	// other instances sharing the database are left alone.
	InterruptRun(ctx context.Context, id int64, reason string) error

	// Run returns one run, or ErrNotFound.
	Run(ctx context.Context, id int64) (Run, error)
	// Runs lists runs, newest first.
	Runs(ctx context.Context, q RunQuery) ([]Run, error)
	// Findings lists findings (open first, then by account and user name)
	// and the total number matching q before Limit and Offset.
	Findings(ctx context.Context, q FindingQuery) ([]Finding, int, error)
	// Changes lists the lifecycle events of the last `limit` runs that had
	// any, newest first (0: no limit).
	Changes(ctx context.Context, target string, limit int) ([]Change, error)
	// Overview is the latest summary per target and account.
	Overview(ctx context.Context) ([]AccountSummary, error)
	// Trend is the per-account summary after each of the last `runs`
	// finished runs of a target ("" for all), oldest first.
	Trend(ctx context.Context, target string, runs int) ([]TrendPoint, error)
	// UserHistory is a user's status in every run that evaluated it, newest
	// first; user is an ARN, or a name when account is given.
	UserHistory(ctx context.Context, account, user string, limit int) ([]UserState, error)

	// Close releases the database.
	Close() error
}
