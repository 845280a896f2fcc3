package store

import (
	"slices"
	"strings"

	"github.com/iamgroups/iamgroups/internal/rule"
)

// findingRow is a finding as the findings table holds it.
type findingRow struct {
	subjectID   int64
	fingerprint string
	ruleID      string
	accountID   string
	userName    string
	userARN     string
	state       string
	status      rule.Status
	firstSeen   int64
	lastSeen    int64
	resolved    int64 // 0 while open
	reopened    int
	evidenceID  int64 // 0: none
	// evidence is the decoded evidence when the run at hand supplied it.
	evidence *Evidence
}

// observation is one result of the run being recorded, tied to its rows.
type observation struct {
	subjectID   int64
	fingerprint string
	result      *rule.Result
	evidenceID  int64
	evidence    *Evidence
}

// lifecycleChange is one event decided by advance.
type lifecycleChange struct {
	kind string
	row  *findingRow
}

// advance applies one run's observations to the findings of its target:
//
//   - FAIL opens a finding that never existed (new) or that was resolved
//     (reopened), and refreshes the evidence and last-seen time of an open one;
//   - PASS and EXEMPT resolve an open finding;
//   - ERROR opens and resolves nothing: what it hides is unknown;
//   - an open finding of an account in sweep that no observation mentions
//     is resolved (the user is gone).
//
// at is the run's start. It returns the findings to write and the changes,
// both in fingerprint order. findings is updated in place and gains the
// new findings.
func advance(findings map[int64]*findingRow, obs []observation, sweep map[string]bool, at int64) (dirty []*findingRow, changes []lifecycleChange) {
	seen := make(map[int64]bool, len(obs))
	for i := range obs {
		o := &obs[i]
		seen[o.subjectID] = true
		f := findings[o.subjectID]
		st := o.result.Status
		switch st {
		case rule.Fail:
			switch {
			case f == nil:
				f = &findingRow{
					subjectID: o.subjectID, fingerprint: o.fingerprint,
					ruleID: o.result.RuleID, accountID: o.result.AccountID,
					userName: o.result.UserName, userARN: o.result.UserARN,
					state: FindingOpen, firstSeen: at,
				}
				findings[o.subjectID] = f
				changes = append(changes, lifecycleChange{ChangeNew, f})
			case f.state == FindingResolved:
				f.state = FindingOpen
				f.resolved = 0
				f.reopened++
				changes = append(changes, lifecycleChange{ChangeReopened, f})
			}
			f.status, f.lastSeen = st, at
			f.evidenceID, f.evidence = o.evidenceID, o.evidence
			dirty = append(dirty, f)
		case rule.Pass, rule.Exempt:
			if f == nil {
				continue
			}
			changed := f.status != st
			f.status = st
			if st == rule.Exempt {
				// The exemption explains the verdict: keep it with the
				// violations it covers.
				changed = changed || f.evidenceID != o.evidenceID
				f.evidenceID, f.evidence = o.evidenceID, o.evidence
			}
			if f.state == FindingOpen {
				f.state, f.resolved = FindingResolved, at
				changes = append(changes, lifecycleChange{ChangeResolved, f})
				changed = true
			}
			if changed {
				dirty = append(dirty, f)
			}
		case rule.Error:
			if f != nil && f.status != st {
				f.status = st
				dirty = append(dirty, f)
			}
		}
	}
	for id, f := range findings {
		if f.state != FindingOpen || seen[id] || !sweep[f.accountID] {
			continue
		}
		f.state, f.resolved = FindingResolved, at
		changes = append(changes, lifecycleChange{ChangeResolved, f})
		dirty = append(dirty, f)
	}
	byFingerprint := func(a, b *findingRow) int { return strings.Compare(a.fingerprint, b.fingerprint) }
	slices.SortFunc(dirty, byFingerprint)
	slices.SortFunc(changes, func(a, b lifecycleChange) int { return byFingerprint(a.row, b.row) })
	return dirty, changes
}
