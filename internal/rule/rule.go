// Package rule holds the rules iamgroups enforces: each one is data (ID,
// title, risk, rationale, remediation, compliance aliases) plus a pure check
// over a model.Account, registered explicitly in Registry. It also defines
// Result, the one report model every writer reads. No I/O happens here.
package rule

import (
	"fmt"
	"slices"
	"strings"

	"github.com/iamgroups/iamgroups/internal/model"
)

// Status is the verdict for one subject of a rule.
type Status string

// The statuses a result can have.
const (
	Pass   Status = "PASS"
	Fail   Status = "FAIL"
	Exempt Status = "EXEMPT"
	Error  Status = "ERROR"
)

// Risk is a rule's risk level.
type Risk string

// Risk levels, as Conformity names them.
const (
	Low      Risk = "Low"
	Medium   Risk = "Medium"
	High     Risk = "High"
	VeryHigh Risk = "Very High"
)

// Alias maps a rule to a control of a compliance framework or a peer tool.
type Alias struct {
	Framework string `json:"framework"`
	Control   string `json:"control"`
}

// Rule is a rule's documentation plus its check.
type Rule struct {
	ID          string
	Title       string
	Risk        Risk
	Summary     string
	Rationale   string
	HowToCheck  string
	Remediation string
	Aliases     []Alias
	// Check evaluates every subject of the rule in the account. It is pure.
	Check func(*model.Account) []Result
}

// Violation is one direct policy held by a user.
type Violation struct {
	Kind string `json:"kind"` // "managed" or "inline"
	Name string `json:"name"`
	// ARN of a managed policy.
	ARN string `json:"arn,omitempty"`
	// Digest of an inline policy's canonical document.
	Digest   string          `json:"digest,omitempty"`
	Location *model.Location `json:"location,omitempty"`
	// Note says what the source leaves open about it (IaC).
	Note string `json:"note,omitempty"`
	// Exemption is set when an exemption by policy covers this violation.
	Exemption *Exemption `json:"exemption,omitempty"`
}

// Exemption records the exemption that changed a verdict, or that would
// have if it had not expired.
type Exemption struct {
	// ID names the exemption: its index and what it matches.
	ID      string `json:"id"`
	Reason  string `json:"reason"`
	Expires string `json:"expires,omitempty"`
	Expired bool   `json:"expired,omitempty"`
}

// Result is the verdict of one rule for one user.
type Result struct {
	RuleID              string
	Status              Status
	Risk                Risk
	AccountID           string
	UserName            string
	UserARN             string
	Groups              []string
	Violations          []Violation
	PermissionsBoundary string
	Message             string
	// Exemption is the exemption that made the result EXEMPT, or an expired
	// one that no longer does.
	Exemption *Exemption
	Location  *model.Location
}

// Fingerprint identifies the result across runs: rule, account and user.
func (r *Result) Fingerprint() string {
	return r.RuleID + "/" + r.AccountID + "/" + r.UserARN
}

// Managed returns the violations that are managed policies.
func (r *Result) Managed() []Violation { return r.byKind("managed") }

// Inline returns the violations that are inline policies.
func (r *Result) Inline() []Violation { return r.byKind("inline") }

func (r *Result) byKind(kind string) []Violation {
	var out []Violation
	for _, v := range r.Violations {
		if v.Kind == kind {
			out = append(out, v)
		}
	}
	return out
}

// Registry is every rule iamgroups knows, in the order they are documented.
var Registry = []*Rule{
	&IAM071,
}

// Lookup finds a rule by ID, case-insensitively.
func Lookup(id string) (*Rule, error) {
	for _, r := range Registry {
		if strings.EqualFold(r.ID, id) {
			return r, nil
		}
	}
	ids := make([]string, len(Registry))
	for i, r := range Registry {
		ids[i] = r.ID
	}
	return nil, fmt.Errorf("unknown rule %q (known: %s)", id, strings.Join(ids, ", "))
}

// Summary counts results by status.
type Summary struct {
	Users  int `json:"users"`
	Pass   int `json:"pass"`
	Fail   int `json:"fail"`
	Exempt int `json:"exempt"`
	Error  int `json:"error"`
}

// Summarize counts results by status.
func Summarize(results []Result) Summary {
	var s Summary
	for i := range results {
		s.Users++
		switch results[i].Status {
		case Pass:
			s.Pass++
		case Fail:
			s.Fail++
		case Exempt:
			s.Exempt++
		case Error:
			s.Error++
		}
	}
	return s
}

// Sort orders results by account, then user name, then ARN, so that every
// output is stable whatever order the source listed users in.
func Sort(results []Result) {
	sorted := true
	for i := 1; i < len(results) && sorted; i++ {
		sorted = compare(&results[i-1], &results[i]) <= 0
	}
	if sorted {
		return
	}
	// A Result is large: sort indices, then move each result once,
	// following the permutation's cycles in place.
	idx := make([]int32, len(results))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortStableFunc(idx, func(a, b int32) int { return compare(&results[a], &results[b]) })
	for i := range idx {
		if idx[i] < 0 {
			continue
		}
		tmp := results[i]
		j := i
		for {
			k := int(idx[j])
			idx[j] = -1
			if k == i {
				results[j] = tmp
				break
			}
			results[j] = results[k]
			j = k
		}
	}
}

func compare(a, b *Result) int {
	if c := strings.Compare(a.AccountID, b.AccountID); c != 0 {
		return c
	}
	if c := strings.Compare(a.UserName, b.UserName); c != 0 {
		return c
	}
	return strings.Compare(a.UserARN, b.UserARN)
}
