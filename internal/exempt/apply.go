package exempt

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/rule"
)

// Apply applies the config to results in place and returns one warning per
// expired exemption that matched a FAIL user. Only FAIL results change: one
// that exemptions cover becomes EXEMPT; violations that entries with
// policies cover carry their exemption. Users are looked up by account ID
// and user ARN in accounts, for their name and tags; a result whose user is
// not there is matched by the name and ARN it carries, and no tag matches
// it. Dates are compared with the UTC day of now. A nil *Config does
// nothing.
func (c *Config) Apply(accounts []*model.Account, results []rule.Result, now time.Time) (warnings []string) {
	if c == nil || len(c.Exemptions) == 0 {
		return nil
	}
	entries := make([]entry, len(c.Exemptions))
	for i := range c.Exemptions {
		entries[i] = newEntry(i, &c.Exemptions[i], now)
	}
	users := indexUsers(accounts)
	for i := range results {
		r := &results[i]
		if r.Status != rule.Fail {
			continue
		}
		s := subject{account: r.AccountID, name: r.UserName, arn: r.UserARN}
		if u, ok := users[userKey{r.AccountID, r.UserARN}]; ok {
			s.name, s.tags = u.Name, u.Tags
		}
		applyTo(entries, r, &s)
	}
	for i := range entries {
		if e := &entries[i]; e.matchedExpired {
			warnings = append(warnings, fmt.Sprintf("exemption #%d (%s) expired on %s; it no longer applies",
				i+1, e.src.Describe(), e.src.Expires))
		}
	}
	return warnings
}

type userKey struct{ account, arn string }

func indexUsers(accounts []*model.Account) map[userKey]*model.User {
	users := map[userKey]*model.User{}
	for _, a := range accounts {
		if a == nil {
			continue
		}
		for i := range a.Users {
			users[userKey{a.ID, a.Users[i].ARN}] = a.Users[i]
		}
	}
	return users
}

// subject is what an entry's users, tags and accounts are matched against.
type subject struct {
	account, name, arn string
	tags               []model.Tag
}

// entry is an Exemption prepared for matching.
type entry struct {
	src            *Exemption
	id             string
	expired        bool
	users          []matcher
	policies       []matcher
	matchedExpired bool
}

func newEntry(i int, e *Exemption, now time.Time) entry {
	en := entry{src: e, id: id(i, e), expired: e.ExpiredOn(now)}
	for _, p := range e.Users {
		en.users = append(en.users, newMatcher(p))
	}
	for _, p := range e.Policies {
		en.policies = append(en.policies, newMatcher(p))
	}
	return en
}

// record is the exemption as results carry it; each caller gets its own.
func (e *entry) record() *rule.Exemption {
	return &rule.Exemption{ID: e.id, Reason: e.src.Reason, Expires: e.src.Expires, Expired: e.expired}
}

// selects reports whether the entry's users, tags and accounts all match.
// An entry with none of users, tags or policies selects no one: the parser
// refuses it, and a Config built in code must not exempt everyone by it.
func (e *entry) selects(s *subject) bool {
	if len(e.users) == 0 && len(e.src.Tags) == 0 && len(e.policies) == 0 {
		return false
	}
	if len(e.src.Accounts) > 0 && !slices.Contains(e.src.Accounts, s.account) {
		return false
	}
	if len(e.users) > 0 && !anyMatch(e.users, s.name, s.arn) {
		return false
	}
	if len(e.src.Tags) > 0 && !hasTag(e.src.Tags, s.tags) {
		return false
	}
	return true
}

// covers reports whether one of the entry's policy patterns names v.
func (e *entry) covers(v *rule.Violation) bool {
	arn := ""
	if v.Kind == "managed" {
		arn = v.ARN
	}
	return anyMatch(e.policies, v.Name, arn)
}

func anyMatch(ms []matcher, name, arn string) bool {
	for _, m := range ms {
		if m.matchName(name) || (arn != "" && m.matchARN(arn)) {
			return true
		}
	}
	return false
}

func hasTag(want []string, tags []model.Tag) bool {
	for _, w := range want {
		key, value, _ := strings.Cut(w, "=")
		for _, t := range tags {
			if t.Key == key && t.Value == value {
				return true
			}
		}
	}
	return false
}

// none marks "no entry" in the indexes below.
const none = -1

// applyTo decides one FAIL result. For each violation and for the whole
// user, the first live entry in file order wins. An expired entry is kept as
// evidence where it would have made a difference: on violations no live
// entry covers, and on the result when it stays FAIL.
func applyTo(entries []entry, r *rule.Result, s *subject) {
	whole, expiredWhole := none, none
	cover := make([]int, len(r.Violations))
	expiredCover := make([]int, len(r.Violations))
	for j := range cover {
		cover[j], expiredCover[j] = none, none
	}
	for i := range entries {
		e := &entries[i]
		if !e.selects(s) {
			continue
		}
		if len(e.policies) == 0 {
			switch {
			case e.expired:
				e.matchedExpired = true
				if expiredWhole == none {
					expiredWhole = i
				}
			case whole == none:
				whole = i
			}
			continue
		}
		for j := range r.Violations {
			if !e.covers(&r.Violations[j]) {
				continue
			}
			switch {
			case e.expired:
				e.matchedExpired = true
				if expiredCover[j] == none {
					expiredCover[j] = i
				}
			case cover[j] == none:
				cover[j] = i
			}
		}
	}

	// Violations carry the entry that covers them, or the expired one that
	// would have.
	allCovered, firstCover, firstExpired := len(r.Violations) > 0, none, expiredWhole
	for j := range r.Violations {
		switch {
		case cover[j] != none:
			r.Violations[j].Exemption = entries[cover[j]].record()
			firstCover = earliest(firstCover, cover[j])
		case expiredCover[j] != none:
			allCovered = false
			r.Violations[j].Exemption = entries[expiredCover[j]].record()
			firstExpired = earliest(firstExpired, expiredCover[j])
		default:
			allCovered = false
		}
	}

	chosen := whole
	if allCovered {
		chosen = earliest(chosen, firstCover)
	}
	if chosen != none {
		r.Status = rule.Exempt
		r.Exemption = entries[chosen].record()
		return
	}
	if firstExpired != none {
		e := &entries[firstExpired]
		if r.Exemption == nil {
			r.Exemption = e.record()
		}
		note := fmt.Sprintf(" (exemption %s expired %s)", e.id, e.src.Expires)
		if !strings.HasSuffix(r.Message, note) {
			r.Message += note
		}
	}
}

// earliest returns the lower of two entry indexes, ignoring none.
func earliest(a, b int) int {
	if a == none || (b != none && b < a) {
		return b
	}
	return a
}
