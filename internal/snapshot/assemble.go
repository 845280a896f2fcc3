package snapshot

import (
	"fmt"
	"slices"
	"strings"

	"github.com/iamgroups/iamgroups/internal/model"
)

// assemble turns decoded pages into accounts: pages are grouped by the
// account their ARNs name (a file may hold several accounts' outputs), and
// consecutive pages of one account are merged.
func assemble(pages []page, meta *Metadata, src model.Source) ([]*model.Account, error) {
	var accounts []*model.Account
	byID := map[string]*model.Account{}
	last := map[*model.Account]*page{}
	for i := range pages {
		p := &pages[i]
		id, partition := pageAccount(p)
		if meta != nil && meta.AccountID != "" {
			if id != "" && id != meta.AccountID {
				return nil, &pathError{msg: fmt.Sprintf("metadata.account_id is %s but the ARNs name account %s", meta.AccountID, id)}
			}
			id = meta.AccountID
		}
		if meta != nil && meta.Partition != "" {
			partition = meta.Partition
		}
		a := byID[id]
		if a == nil {
			a = &model.Account{ID: id, Partition: partition, Source: src}
			byID[id] = a
			accounts = append(accounts, a)
		}
		a.Users = append(a.Users, p.users...)
		a.Groups = append(a.Groups, p.groups...)
		a.Policies = append(a.Policies, p.policies...)
		last[a] = p
	}
	for _, a := range accounts {
		if p := last[a]; p.truncated {
			a.Partial = true
			a.Warnings = append(a.Warnings, fmt.Sprintf(
				"%s: the last page of account %s says IsTruncated: true (Marker %s) and no page follows: the snapshot is incomplete; "+
					"collect it again letting the AWS CLI paginate (no --max-items), or with `iamgroups snapshot`",
				src.Name, displayID(a.ID), shorten(p.marker)))
		}
		if len(pages) > 1 {
			var dups int
			a.Users, dups = dedupeUsers(a.Users)
			if dups > 0 {
				a.Warnings = append(a.Warnings, fmt.Sprintf(
					"%s: %d users of account %s are listed more than once; each is audited once", src.Name, dups, displayID(a.ID)))
			}
		}
		if a.Partition == "" {
			a.Partition = "aws"
		}
		// Users in name order, as IAM lists them: results come out in
		// report order without moving large values.
		if !slices.IsSortedFunc(a.Users, compareUsers) {
			slices.SortStableFunc(a.Users, compareUsers)
		}
	}
	return accounts, nil
}

func compareUsers(a, b *model.User) int {
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	return strings.Compare(a.ARN, b.ARN)
}

func displayID(id string) string {
	if id == "" {
		return "(unknown)"
	}
	return id
}

func shorten(s string) string {
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}

// pageAccount derives the account ID and partition from the first ARN of
// the page that names a numeric account (AWS managed policies name "aws").
func pageAccount(p *page) (id, partition string) {
	try := func(arn string) bool {
		id, partition = ParseARNAccount(arn)
		return id != ""
	}
	for _, u := range p.users {
		if try(u.ARN) {
			return
		}
	}
	for i := range p.groups {
		if try(p.groups[i].ARN) {
			return
		}
	}
	for i := range p.policies {
		if try(p.policies[i].ARN) {
			return
		}
	}
	return "", ""
}

// ParseARNAccount returns the account ID and partition of an ARN such as
// arn:aws-cn:iam::123456789012:user/x, or empty strings when it names none.
func ParseARNAccount(arn string) (account, partition string) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" || len(parts[4]) != 12 {
		return "", ""
	}
	for _, c := range parts[4] {
		if c < '0' || c > '9' {
			return "", ""
		}
	}
	return parts[4], parts[1]
}

// dedupeUsers keeps the first entry of each user ARN.
func dedupeUsers(users []*model.User) ([]*model.User, int) {
	seen := make(map[string]bool, len(users))
	out := users[:0]
	for _, u := range users {
		if seen[u.ARN] {
			continue
		}
		seen[u.ARN] = true
		out = append(out, u)
	}
	return out, len(users) - len(out)
}
