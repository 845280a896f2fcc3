package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/iamgroups/iamgroups/internal/awsiam"
	"github.com/iamgroups/iamgroups/internal/model"
)

// liveOptions are the flags that say how to reach AWS.
type liveOptions struct {
	Profile         string
	Region          string
	EndpointURL     string
	RoleARN         string
	ExternalID      string
	Method          string
	ListConcurrency int
	Org             bool
	OrgRoleName     string
	Accounts        []string
	Concurrency     int
	// quotas asks for the account's IAM quotas too (planning).
	quotas bool
}

func (o *liveOptions) addFlags(f *pflag.FlagSet, org bool) {
	o.addAccessFlags(f)
	f.StringVar(&o.Method, "method", "auto", "how users are read: gaad (GetAccountAuthorizationDetails), list (per user), auto (gaad, list if gaad is denied)")
	f.IntVar(&o.ListConcurrency, "list-concurrency", 4, "users read at once by the list method")
	if org {
		f.BoolVar(&o.Org, "org", false, "audit every active account of the AWS Organization (run as the management account)")
		f.StringVar(&o.OrgRoleName, "org-role-name", awsiam.DefaultOrgRole, "role `NAME` assumed in each member account")
		f.StringSliceVar(&o.Accounts, "accounts", nil, "with --org, only these account `IDS` (comma-separated)")
		f.IntVar(&o.Concurrency, "concurrency", 8, "with --org, accounts audited at once")
	}
}

// addAccessFlags adds the flags that say which account to reach and how.
func (o *liveOptions) addAccessFlags(f *pflag.FlagSet) {
	f.StringVar(&o.Profile, "profile", "", "AWS shared config `PROFILE` (default: the standard credential chain)")
	f.StringVar(&o.Region, "region", "", "AWS `REGION` for the SDK; IAM is global (default: from the environment, else "+awsiam.DefaultRegion+")")
	f.StringVar(&o.EndpointURL, "endpoint-url", "", "send IAM, STS and Organizations calls to `URL` (an emulator); AWS_ENDPOINT_URL works too")
	f.StringVar(&o.RoleARN, "role-arn", "", "assume `ARN` before reading")
	f.StringVar(&o.ExternalID, "external-id", "", "external `ID` for --role-arn")
}

// changed reports the live flags set on the command line.
func changedLiveFlags(f *pflag.FlagSet) []string {
	var set []string
	for _, name := range []string{"profile", "region", "endpoint-url", "role-arn", "external-id", "method", "list-concurrency",
		"org", "org-role-name", "accounts", "concurrency"} {
		if fl := f.Lookup(name); fl != nil && fl.Changed {
			set = append(set, "--"+name)
		}
	}
	return set
}

// liveResult is what a live collection produced.
type liveResult struct {
	accounts []*model.Account
	warnings []string
	calls    map[string]int
	attempts map[string]int
	// quotas are the account's quotas, when asked for and readable.
	quotas *awsiam.Quotas
}

// collectLive reads the account (or the Organization) that the options
// reach. progress, when not nil, gets a progress line per account.
func collectLive(ctx context.Context, o liveOptions, full bool, progress io.Writer) (*liveResult, error) {
	method, err := awsiam.ParseMethod(o.Method)
	if err != nil {
		return nil, usageError(err)
	}
	if o.ListConcurrency < 1 || o.ListConcurrency > 64 {
		return nil, usageError(fmt.Errorf("--list-concurrency: %d is out of range; use 1 to 64", o.ListConcurrency))
	}
	if !o.Org && (len(o.Accounts) > 0) {
		return nil, usageError(errors.New("--accounts needs --org"))
	}
	if o.Org && (o.Concurrency < 1 || o.Concurrency > 64) {
		return nil, usageError(fmt.Errorf("--concurrency: %d is out of range; use 1 to 64", o.Concurrency))
	}
	for _, id := range o.Accounts {
		if len(id) != 12 || strings.Trim(id, "0123456789") != "" {
			return nil, usageError(fmt.Errorf("--accounts: %q is not a 12-digit account ID", id))
		}
	}
	s, err := awsiam.NewSession(ctx, awsiam.Options{Profile: o.Profile, Region: o.Region, EndpointURL: o.EndpointURL,
		RoleARN: o.RoleARN, ExternalID: o.ExternalID})
	if err != nil {
		return nil, liveError(err)
	}
	co := awsiam.CollectOptions{Method: method, Full: full, Concurrency: o.ListConcurrency}
	res := &liveResult{}
	if o.Org {
		oo := awsiam.OrgOptions{RoleName: o.OrgRoleName, Accounts: o.Accounts, Concurrency: o.Concurrency}
		if progress != nil {
			oo.Progress = func(done, total int) {
				fmt.Fprintf(progress, "\r%s %d/%d accounts", bar(done, total, 24), done, total)
				if done == total {
					fmt.Fprintln(progress)
				}
			}
		}
		res.accounts, res.warnings, err = awsiam.CollectOrg(ctx, s, co, oo)
	} else {
		var a *model.Account
		a, err = awsiam.Collect(ctx, s, co)
		res.accounts = []*model.Account{a}
	}
	if err != nil {
		return nil, liveError(err)
	}
	if o.quotas {
		if q, err := awsiam.AccountQuotas(ctx, s); err == nil {
			res.quotas = &q
		} else {
			res.warnings = append(res.warnings, "could not read the account's quotas ("+err.Error()+"); using IAM's defaults")
		}
	}
	res.calls, res.attempts = s.Calls.Counts(), s.Calls.Attempts()
	return res, nil
}

// liveError maps collection errors to exit codes: problems the user must
// fix (credentials, flags, permissions) are usage errors.
func liveError(err error) error {
	var ce *awsiam.ConfigError
	if errors.As(err, &ce) {
		return usageError(err)
	}
	if awsiam.IsAccessDenied(err) {
		return usageError(fmt.Errorf("%w; the README lists the IAM actions an audit needs", err))
	}
	if errors.Is(err, context.Canceled) {
		return &exitError{code: ExitPartial, err: errors.New("interrupted")}
	}
	return usageError(err)
}

// bar draws a text progress bar.
func bar(done, total, width int) string {
	filled := 0
	if total > 0 {
		filled = done * width / total
	}
	return "[" + strings.Repeat("=", filled) + strings.Repeat(" ", width-filled) + "]"
}

// formatCalls renders call counts for --stats.
func formatCalls(calls, attempts map[string]int) string {
	var parts []string
	total, retries := 0, 0
	for _, op := range sortedKeys(calls) {
		parts = append(parts, fmt.Sprintf("%s %d", op, calls[op]))
		total += calls[op]
		retries += attempts[op] - calls[op]
	}
	return fmt.Sprintf("AWS API calls: %d (%s); retries: %d", total, strings.Join(parts, ", "), retries)
}

func sortedKeys(m map[string]int) []string {
	return slices.Sorted(maps.Keys(m))
}
