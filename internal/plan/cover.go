package plan

import (
	"cmp"
	"slices"
)

// The group design problem, stripped of IAM: each class of users needs
// every atom of R (its direct permission sources that no current group
// grants) and may receive only atoms of A (R plus what it holds already).
// A role (a new group) may be given to a class only if role ⊆ A. Find the
// fewest roles such that each class's usable roles cover its R — the
// basic role mining problem when A = R, NP-hard. We enumerate candidate
// roles (the class sets restricted to needed atoms, closed under
// intersection: every optimal solution can use such maximal roles), pick
// greedily the role covering most uncovered (class, atom) pairs, then drop
// roles the others make redundant. On the HP Labs role-mining datasets
// this reaches the published optimum.

// class is a set of users with the same needs.
type class struct {
	R, A bitset
}

// maxCandidates bounds the candidate roles enumerated by closure.
const maxCandidates = 20000

// solve returns the roles, each with at most maxAtoms atoms (0: no
// limit). Every class is coverable: its R split into chunks is always a
// candidate.
func solve(n int, classes []class, maxAtoms int) []bitset {
	needed := newBitset(n)
	for _, c := range classes {
		needed = needed.or(c.R)
	}
	seen := map[string]bool{}
	var cands []bitset
	add := func(b bitset) {
		if b.empty() || (maxAtoms > 0 && b.count() > maxAtoms) {
			return
		}
		k := b.key()
		if !seen[k] {
			seen[k] = true
			cands = append(cands, b)
		}
	}
	var bases []bitset
	for _, c := range classes {
		base := c.A.and(needed)
		bases = append(bases, base)
		add(base)
		for _, chunk := range chunks(c.R, maxAtoms) {
			add(chunk)
		}
	}
	// Closure under intersection with the class sets.
	for i := 0; i < len(cands) && len(cands) < maxCandidates; i++ {
		for _, b := range bases {
			add(cands[i].and(b))
		}
	}

	uncovered := make([]bitset, len(classes))
	for i, c := range classes {
		uncovered[i] = c.R.clone()
	}
	var roles []bitset
	for {
		best, bestGain := -1, 0
		for ci, cand := range cands {
			gain := 0
			for i, c := range classes {
				if cand.subsetOf(c.A) {
					gain += cand.andCount(uncovered[i])
				}
			}
			if gain > bestGain || gain == bestGain && gain > 0 && better(cand, cands[best]) {
				best, bestGain = ci, gain
			}
		}
		if best < 0 {
			break
		}
		role := cands[best]
		roles = append(roles, role)
		for i, c := range classes {
			if role.subsetOf(c.A) {
				uncovered[i] = uncovered[i].andNot(role)
			}
		}
	}
	// Redundancy elimination, last chosen first.
	for i := len(roles) - 1; i >= 0; i-- {
		rest := slices.Concat(roles[:i], roles[i+1:])
		if coversAll(rest, classes) {
			roles = rest
		}
	}
	return roles
}

// better breaks ties between candidates of equal gain: more atoms (the
// role already serves the others it fits), then the lowest atoms.
func better(a, b bitset) bool {
	if c := cmp.Compare(a.count(), b.count()); c != 0 {
		return c > 0
	}
	return slices.Compare(a.members(), b.members()) < 0
}

func coversAll(roles []bitset, classes []class) bool {
	for _, c := range classes {
		if !covers(roles, c) {
			return false
		}
	}
	return true
}

func covers(roles []bitset, c class) bool {
	left := c.R.clone()
	for _, r := range roles {
		if r.subsetOf(c.A) {
			left = left.andNot(r)
		}
	}
	return left.empty()
}

// assign picks, among roles, the fewest that cover c (greedy, then
// without redundant ones). It returns role indices, ascending.
func assign(roles []bitset, c class) []int {
	left := c.R.clone()
	var picked []int
	for !left.empty() {
		best, bestGain := -1, 0
		for i, r := range roles {
			if !r.subsetOf(c.A) || slices.Contains(picked, i) {
				continue
			}
			if g := r.andCount(left); g > bestGain {
				best, bestGain = i, g
			}
		}
		if best < 0 {
			return nil // not coverable
		}
		picked = append(picked, best)
		left = left.andNot(roles[best])
	}
	for i := len(picked) - 1; i >= 0; i-- {
		rest := slices.Concat(picked[:i], picked[i+1:])
		sub := make([]bitset, len(rest))
		for j, k := range rest {
			sub[j] = roles[k]
		}
		if covers(sub, c) {
			picked = rest
		}
	}
	slices.Sort(picked)
	return picked
}

// chunks splits s into sets of at most size atoms (0: one set).
func chunks(s bitset, size int) []bitset {
	atoms := s.members()
	if size <= 0 || len(atoms) <= size {
		return []bitset{s.clone()}
	}
	var out []bitset
	for len(atoms) > 0 {
		k := min(size, len(atoms))
		b := make(bitset, len(s))
		for _, a := range atoms[:k] {
			b.set(a)
		}
		out = append(out, b)
		atoms = atoms[k:]
	}
	return out
}

// lowerBound is the size of a fooling set: (class, atom) pairs of which
// no two fit in one role, because one class may not receive the other's
// atom. No exact plan can use fewer roles.
func lowerBound(classes []class) int {
	type pair struct{ c, a int }
	var chosen []pair
	for ci, c := range classes {
		for _, a := range c.R.members() {
			ok := true
			for _, p := range chosen {
				if p.c == ci || classes[ci].A.has(p.a) && classes[p.c].A.has(a) {
					ok = false
					break
				}
			}
			if ok {
				chosen = append(chosen, pair{ci, a})
			}
		}
	}
	return len(chosen)
}
