package snapshot

import (
	"fmt"
	"slices"
	"strings"

	"github.com/iamgroups/iamgroups/internal/model"
)

// assemble turns decoded pages into accounts. Every user, group and policy
// belongs to the account its own ARN names, so a file may hold several
// accounts' outputs, even in one page. A page whose entities name no
// account (the last pages of a listing can hold only roles and AWS managed
// policies) continues the account of the page before it. An account is
// incomplete when the last page that belongs to it is truncated.
func assemble(pages []page, meta *Metadata, src model.Source) ([]*model.Account, error) {
	var accounts []*model.Account
	byID := map[string]*model.Account{}
	lastPage := map[*model.Account]*page{}
	get := func(id, partition string) *model.Account {
		a := byID[id]
		if a == nil {
			a = &model.Account{ID: id, Partition: partition, Source: src}
			byID[id] = a
			accounts = append(accounts, a)
		}
		return a
	}
	current, currentPartition := "", ""
	if meta != nil && meta.AccountID != "" {
		current, currentPartition = meta.AccountID, meta.Partition
		get(current, currentPartition)
	}
	for i := range pages {
		p := &pages[i]
		// The page's own account: its first ARN that names one, else
		// the account of the page before.
		if id, partition := pageAccount(p); id != "" {
			current, currentPartition = id, partition
		}
		var lastID, lastPrefix string
		var lastAccount *model.Account
		accountOf := func(arn string) (*model.Account, error) {
			if lastPrefix != "" && strings.HasPrefix(arn, lastPrefix) {
				return lastAccount, nil // the common case: one account per page
			}
			id, partition := ParseARNAccount(arn)
			if id == "" {
				id, partition = current, currentPartition
			}
			if lastAccount != nil && id == lastID {
				return lastAccount, nil // the common case: one account per page
			}
			if meta != nil && meta.AccountID != "" && id != meta.AccountID {
				return nil, &pathError{msg: fmt.Sprintf("metadata.account_id is %s but %s names account %s", meta.AccountID, arn, id)}
			}
			a := get(id, partition)
			lastPage[a] = p // a truncated page leaves every account it holds incomplete
			lastID, lastAccount, lastPrefix = id, a, ""
			if i := strings.Index(arn, ":"+id+":"); i > 0 && id != "" {
				lastPrefix = arn[:i+len(id)+2] // "arn:aws:iam::123456789012:"
			}
			return a, nil
		}
		for _, u := range p.users {
			a, err := accountOf(u.ARN)
			if err != nil {
				return nil, err
			}
			a.Users = append(a.Users, u)
		}
		for _, g := range p.groups {
			a, err := accountOf(g.ARN)
			if err != nil {
				return nil, err
			}
			a.Groups = append(a.Groups, g)
		}
		for _, pol := range p.policies {
			a, err := accountOf(pol.ARN)
			if err != nil {
				return nil, err
			}
			a.Policies = append(a.Policies, pol)
		}
		lastPage[get(current, currentPartition)] = p
	}
	for _, a := range accounts {
		if p := lastPage[a]; p != nil && p.truncated {
			a.Partial = true
			a.Warnings = append(a.Warnings, fmt.Sprintf(
				"%s: the last page of account %s says IsTruncated: true (Marker %s) and no page follows: the snapshot is incomplete; "+
					"collect it again letting the AWS CLI paginate (no --max-items), or with `iamgroups snapshot`",
				src.Name, displayID(a.ID), shorten(p.marker)))
		}
		if a.Partition == "" {
			a.Partition = "aws"
		}
		// Users in name order, as IAM lists them: results come out in
		// report order without moving large values, and a user listed
		// twice is listed next to itself.
		if !slices.IsSortedFunc(a.Users, compareUsers) {
			slices.SortStableFunc(a.Users, compareUsers)
		}
		var dups int
		a.Users, dups = dedupeUsers(a.Users)
		if dups > 0 {
			a.Warnings = append(a.Warnings, fmt.Sprintf(
				"%s: account %s: %s listed more than once; each is audited once, with every direct policy any of its entries shows",
				src.Name, displayID(a.ID), plural(dups, "user is", "users are")))
		}
	}
	groupsKnown := slices.ContainsFunc(pages, func(p page) bool { return p.hasGroups }) &&
		slices.ContainsFunc(pages, func(p page) bool { return p.hasPolicies })
	for _, a := range accounts {
		a.GroupsKnown = groupsKnown
	}
	if !slices.ContainsFunc(pages, func(p page) bool { return p.hasUsers }) {
		for _, a := range accounts {
			a.Warnings = append(a.Warnings, fmt.Sprintf(
				"%s: no UserDetailList: the output was collected without users (for example --filter Role); collect it with --filter User", src.Name))
		}
	}
	return accounts, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
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
// It runs once per user of a snapshot, so it does not allocate.
func ParseARNAccount(arn string) (account, partition string) {
	var field [5]int // start of fields 1 to 5
	n := 0
	for i := 0; i < len(arn) && n < 5; i++ {
		if arn[i] == ':' {
			field[n] = i + 1
			n++
		}
	}
	if n < 5 || arn[:field[0]] != "arn:" {
		return "", ""
	}
	acct := arn[field[3] : field[4]-1]
	if len(acct) != 12 {
		return "", ""
	}
	for i := 0; i < len(acct); i++ {
		if acct[i] < '0' || acct[i] > '9' {
			return "", ""
		}
	}
	return acct, arn[field[0] : field[1]-1]
}

// dedupeUsers keeps one entry per user ARN in users sorted by name and
// ARN, where a user listed twice (outputs concatenated twice, a page
// repeated) sits next to itself. The entries are merged so that a direct
// policy any entry shows is kept: the cleaner entry never hides the other.
func dedupeUsers(users []*model.User) ([]*model.User, int) {
	if len(users) < 2 {
		return users, 0
	}
	out := users[:1]
	for _, u := range users[1:] {
		if last := out[len(out)-1]; last.ARN == u.ARN && last.Name == u.Name {
			mergeUser(last, u)
			continue
		}
		out = append(out, u)
	}
	return out, len(users) - len(out)
}

func mergeUser(into, u *model.User) {
	for _, g := range u.Groups {
		if !slices.Contains(into.Groups, g) {
			into.Groups = append(into.Groups, g)
		}
	}
	for _, p := range u.AttachedPolicies {
		if !slices.ContainsFunc(into.AttachedPolicies, func(q model.AttachedPolicy) bool { return q.ARN == p.ARN }) {
			into.AttachedPolicies = append(into.AttachedPolicies, p)
		}
	}
	for _, p := range u.InlinePolicies {
		if !slices.ContainsFunc(into.InlinePolicies, func(q model.InlinePolicy) bool { return q.Name == p.Name && q.Digest == p.Digest }) {
			into.InlinePolicies = append(into.InlinePolicies, p)
		}
	}
	if into.PermissionsBoundary == "" {
		into.PermissionsBoundary = u.PermissionsBoundary
	}
	if into.Error == "" {
		into.Error = u.Error
	}
}
