package awsiam

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"golang.org/x/sync/errgroup"

	"github.com/iamgroups/iamgroups/internal/model"
)

// OrgOptions say how to scan an Organization.
type OrgOptions struct {
	// RoleName is the role assumed in each member account.
	RoleName string
	// Accounts restricts the scan to these account IDs.
	Accounts []string
	// Concurrency is how many accounts are scanned at once (default 8).
	Concurrency int
	// Progress, when set, is called after each account with the number
	// done and the total.
	Progress func(done, total int)
}

// DefaultOrgRole is the role Organizations creates in new member accounts.
const DefaultOrgRole = "OrganizationAccountAccessRole"

// CollectOrg scans every active account of the caller's Organization: the
// management account with the session's own credentials, each member
// through its role. An account that cannot be reached comes back with its
// Error set; the others complete.
func CollectOrg(ctx context.Context, s *Session, co CollectOptions, oo OrgOptions) ([]*model.Account, []string, error) {
	self, partition, err := identify(ctx, sts.NewFromConfig(s.Config))
	if err != nil {
		return nil, nil, err
	}
	ids, warnings, err := listAccounts(ctx, organizations.NewFromConfig(s.Config), oo.Accounts)
	if err != nil {
		return nil, nil, err
	}
	role := oo.RoleName
	if role == "" {
		role = DefaultOrgRole
	}
	limit := oo.Concurrency
	if limit <= 0 {
		limit = 8
	}
	accounts := make([]*model.Account, len(ids))
	var mu sync.Mutex
	done := 0
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	for i, id := range ids {
		g.Go(func() error {
			cfg := s.Config
			if id != self {
				cfg = assumeRole(s.Config, fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, id, role), "")
			}
			a, err := collectMember(gctx, cfg, id, partition, co)
			if err != nil {
				if gctx.Err() != nil {
					return gctx.Err()
				}
				a = &model.Account{ID: id, Partition: partition, Source: model.Source{Kind: "live", Name: id},
					Error: accountError(err, id, role, id == self)}
			}
			accounts[i] = a
			if oo.Progress != nil {
				mu.Lock()
				done++
				oo.Progress(done, len(ids))
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	return accounts, warnings, nil
}

// collectMember collects one account, checking first that the
// credentials really are that account's.
func collectMember(ctx context.Context, cfg aws.Config, id, partition string, co CollectOptions) (*model.Account, error) {
	got, _, err := identify(ctx, sts.NewFromConfig(cfg))
	if err != nil {
		return nil, &reachError{err}
	}
	if got != id {
		return nil, fmt.Errorf("the credentials for account %s belong to account %s", id, got)
	}
	return collectAccount(ctx, iam.NewFromConfig(cfg), id, partition, co)
}

// reachError is a failure to reach an account at all (assume its role,
// or identify its credentials), as opposed to a failure to read it.
type reachError struct{ err error }

func (e *reachError) Error() string { return e.err.Error() }
func (e *reachError) Unwrap() error { return e.err }

// accountError says why an account could not be scanned.
func accountError(err error, id, role string, self bool) string {
	var re *reachError
	if !self && errors.As(err, &re) {
		return fmt.Sprintf("cannot assume role %s in account %s (%s); check that the role exists and trusts the management account", role, id, lastLine(err))
	}
	return "could not be read: " + err.Error()
}

// listAccounts returns the IDs of the Organization's active accounts,
// restricted to only when it is not empty.
func listAccounts(ctx context.Context, api organizations.ListAccountsAPIClient, only []string) ([]string, []string, error) {
	var ids, warnings []string
	pages := organizations.NewListAccountsPaginator(api, &organizations.ListAccountsInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			if code := errorCode(err); code == "AWSOrganizationsNotInUseException" || IsAccessDenied(err) {
				return nil, nil, &ConfigError{Flag: "--org", Msg: "cannot list the Organization's accounts (" + code +
					"); run with the management account's credentials (or a delegated administrator's), or drop --org"}
			}
			return nil, nil, Explain("list the Organization's accounts", err)
		}
		for _, acct := range page.Accounts {
			id := aws.ToString(acct.Id)
			status := string(acct.Status)
			if status == "" {
				status = string(acct.State)
			}
			if status != "" && status != "ACTIVE" {
				warnings = append(warnings, fmt.Sprintf("account %s is %s: skipped", id, status))
				continue
			}
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, nil, &ConfigError{Flag: "--org", Msg: "the Organization lists no active account; run with the management account's credentials, or drop --org"}
	}
	if len(only) > 0 {
		var kept []string
		for _, want := range only {
			if !slices.Contains(ids, want) {
				return nil, nil, &ConfigError{Flag: "--accounts", Msg: fmt.Sprintf("account %s is not an active account of this Organization", want)}
			}
			kept = append(kept, want)
		}
		ids = kept
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	return ids, warnings, nil
}
