package web

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors a Scheduler returns from Trigger. The API maps them to
// 404 and 409.
var (
	// ErrUnknownTarget: no target has that name.
	ErrUnknownTarget = errors.New("unknown target")
	// ErrAlreadyRunning: a scan of the target is in progress.
	ErrAlreadyRunning = errors.New("scan already running")
)

// Scheduler is what the server needs of the scheduled scans (implemented
// by the watch package). Implementations must be safe for concurrent use.
type Scheduler interface {
	// Targets describes every configured target, in configuration order.
	Targets() []Target
	// Trigger starts a scan of the named target now, without waiting for it
	// to finish; ctx is the HTTP request's and bounds the call only, so the
	// scan must not be tied to it. It returns ErrUnknownTarget or ErrAlreadyRunning (possibly
	// wrapped) when it cannot; accepted is false with a nil error when the
	// scheduler declines for another reason (it is shutting down).
	Trigger(ctx context.Context, target string) (accepted bool, err error)
}

// Target is one configured target as the scheduler sees it.
type Target struct {
	// Name is the target's name in the config ("prod").
	Name string
	// Schedule describes the schedule for humans: "every 6h",
	// "cron 0 */6 * * *".
	Schedule string
	// Next is when the next scheduled scan starts; zero when unknown.
	Next time.Time
	// Running is true while a scan of the target is in progress.
	Running bool
	// LastStatus is the status of the last finished run (store.RunOK,
	// store.RunPartial…), "" when it never ran.
	LastStatus string
	// LastRunAt is when the last finished run started; zero when it never ran.
	LastRunAt time.Time
	// Flags are the `iamgroups plan` flags that reach the target, one
	// argument per element: ["--profile", "prod-audit"], ["--role-arn",
	// ARN, "--external-id", ID], ["--endpoint-url", URL],
	// ["--snapshot", FILE]. For an Organization target they reach the
	// management account; "--org", "--org-role-name NAME", "--accounts" and
	// "--concurrency", audit-only flags, are accepted here and left out of
	// plan commands.
	Flags []string
	// Org is true when the target is a whole AWS Organization.
	Org bool
	// OrgRoleName is the role assumed in each member account of an
	// Organization target ("" means OrganizationAccountAccessRole).
	OrgRoleName string
}
