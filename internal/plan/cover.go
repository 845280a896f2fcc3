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

// maxCandidates bounds the candidate roles enumerated by closure; large
// accounts get a budget in proportion to their classes.
const maxCandidates = 20000

// solve returns the roles, each with at most maxAtoms atoms (0: no
// limit). Every class is coverable: its R split into chunks is always a
// candidate. Classes that no role could usefully share are solved apart;
// small parts exactly.
func solve(n int, classes []class, maxAtoms int) []bitset {
	var roles []bitset
	seen := map[string]bool{}
	for _, comp := range components(classes) {
		part := make([]class, len(comp))
		for i, ci := range comp {
			part[i] = classes[ci]
		}
		for _, r := range solvePart(n, part, maxAtoms) {
			if k := r.key(); !seen[k] {
				seen[k] = true
				roles = append(roles, r)
			}
		}
	}
	return roles
}

// components groups classes that one role could serve usefully: two
// classes are linked when each may receive an atom the other needs.
func components(classes []class) [][]int {
	parent := make([]int, len(classes))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for i := range classes {
		for j := i + 1; j < len(classes); j++ {
			if classes[i].R.andCount(classes[j].A) > 0 && classes[j].R.andCount(classes[i].A) > 0 {
				if a, b := find(i), find(j); a != b {
					parent[max(a, b)] = min(a, b)
				}
			}
		}
	}
	groups := map[int][]int{}
	var order []int
	for i := range classes {
		r := find(i)
		if _, ok := groups[r]; !ok {
			order = append(order, r)
		}
		groups[r] = append(groups[r], i)
	}
	out := make([][]int, len(order))
	for i, r := range order {
		out[i] = groups[r]
	}
	return out
}

// solvePart solves one component: greedy, then, when it is small, an
// exact search for a smaller cover.
func solvePart(n int, classes []class, maxAtoms int) []bitset {
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
	// Closure under intersection with the class sets, into a scratch set
	// that is copied only when new.
	budget := min(maxCandidates, max(2000, 2*len(classes)))
	scratch := newBitset(n)
	for i := 0; i < len(cands) && len(cands) < budget; i++ {
		for _, b := range bases {
			for w := range scratch {
				scratch[w] = cands[i][w] & b[w]
			}
			if scratch.empty() || seen[scratch.view()] {
				continue
			}
			add(scratch.clone())
		}
	}

	// fits[i] are the classes candidate i may be given to.
	fits := make([][]int32, len(cands))
	for i, cand := range cands {
		for ci, c := range classes {
			if cand.subsetOf(c.A) {
				fits[i] = append(fits[i], int32(ci))
			}
		}
	}
	uncovered := make([]bitset, len(classes))
	for i, c := range classes {
		uncovered[i] = c.R.clone()
	}
	gainOf := func(i int) int {
		g := 0
		for _, ci := range fits[i] {
			g += cands[i].andCount(uncovered[ci])
		}
		return g
	}
	// Lazy greedy: a candidate's gain only falls as roles are chosen, so
	// a stored gain is an upper bound; the top candidate whose fresh gain
	// still beats every other bound is the true best.
	h := &candHeap{cands: cands}
	for i := range cands {
		if g := gainOf(i); g > 0 {
			h.items = append(h.items, candItem{i, g})
		}
	}
	heapInit(h)
	var roles []bitset
	for len(h.items) > 0 {
		top := h.items[0]
		g := gainOf(top.cand)
		if g == 0 {
			heapPop(h)
			continue
		}
		if g < top.gain {
			h.items[0].gain = g
			heapFix(h, 0)
			continue
		}
		heapPop(h)
		role := cands[top.cand]
		roles = append(roles, role)
		for _, ci := range fits[top.cand] {
			uncovered[ci] = uncovered[ci].andNot(role)
		}
	}
	roles = dropRedundant(roles, classes)
	if len(classes) <= exactClasses && len(cands) <= exactCandidates && len(roles) > lowerBound(classes) {
		if better := exact(cands, fits, classes, len(roles)); better != nil {
			roles = better
		}
	}
	return roles
}

// The exact search runs on components this small, within a node budget.
const (
	exactClasses    = 30
	exactCandidates = 500
	exactNodes      = 20000
)

// exact looks for a cover with fewer than limit roles among cands, by
// branch and bound: cover the uncovered (class, atom) pair that the
// fewest candidates can cover, trying each; prune branches that cannot
// beat the best found. It returns nil when it finds nothing smaller within
// its budget.
func exact(cands []bitset, fits [][]int32, classes []class, limit int) []bitset {
	uncovered := make([]bitset, len(classes))
	for i, c := range classes {
		uncovered[i] = c.R.clone()
	}
	// coverers[c][a] are the candidates that give class c its atom a.
	coverers := make([]map[int][]int, len(classes))
	for ci := range classes {
		coverers[ci] = map[int][]int{}
	}
	for i := range cands {
		for _, ci := range fits[i] {
			for _, a := range cands[i].and(classes[ci].R).members() {
				coverers[ci][a] = append(coverers[ci][a], i)
			}
		}
	}
	best := limit
	var bestRoles []int
	var chosen []int
	nodes := 0
	var search func()
	search = func() {
		nodes++
		if nodes > exactNodes {
			return
		}
		// The pair with the fewest covering candidates.
		bc, ba, bn := -1, -1, 0
		for ci := range classes {
			if uncovered[ci].empty() {
				continue
			}
			for _, a := range uncovered[ci].members() {
				if cnt := len(coverers[ci][a]); bc < 0 || cnt < bn {
					bc, ba, bn = ci, a, cnt
				}
			}
		}
		if bc < 0 {
			if len(chosen) < best {
				best = len(chosen)
				bestRoles = slices.Clone(chosen)
			}
			return
		}
		if len(chosen)+1 >= best {
			return // one more role at least, and that would not beat best
		}
		for _, k := range coverers[bc][ba] {
			saved := make([]bitset, len(fits[k]))
			for i, ci := range fits[k] {
				saved[i] = uncovered[ci]
				uncovered[ci] = uncovered[ci].andNot(cands[k])
			}
			chosen = append(chosen, k)
			search()
			chosen = chosen[:len(chosen)-1]
			for i, ci := range fits[k] {
				uncovered[ci] = saved[i]
			}
			if nodes > exactNodes {
				return
			}
		}
	}
	search()
	if bestRoles == nil {
		return nil
	}
	slices.Sort(bestRoles)
	out := make([]bitset, len(bestRoles))
	for i, k := range bestRoles {
		out[i] = cands[k]
	}
	return out
}

// dropRedundant removes, last chosen first, roles whose every use the
// other roles also cover.
func dropRedundant(roles []bitset, classes []class) []bitset {
	// cover[c][a] counts the roles giving class c its needed atom a.
	cover := make([]map[int]int, len(classes))
	fits := make([][]int, len(roles))
	for ci, c := range classes {
		cover[ci] = map[int]int{}
		for ri, r := range roles {
			if r.subsetOf(c.A) {
				fits[ri] = append(fits[ri], ci)
				for _, a := range r.and(c.R).members() {
					cover[ci][a]++
				}
			}
		}
	}
	keep := make([]bool, len(roles))
	for i := range keep {
		keep[i] = true
	}
	for ri := len(roles) - 1; ri >= 0; ri-- {
		needed := false
		for _, ci := range fits[ri] {
			for _, a := range roles[ri].and(classes[ci].R).members() {
				if cover[ci][a] < 2 {
					needed = true
					break
				}
			}
			if needed {
				break
			}
		}
		if needed {
			continue
		}
		keep[ri] = false
		for _, ci := range fits[ri] {
			for _, a := range roles[ri].and(classes[ci].R).members() {
				cover[ci][a]--
			}
		}
	}
	var out []bitset
	for i, r := range roles {
		if keep[i] {
			out = append(out, r)
		}
	}
	return out
}

// candItem is a candidate with an upper bound on its gain.
type candItem struct {
	cand int
	gain int
}

// candHeap orders candidates by gain, then by better.
type candHeap struct {
	cands []bitset
	items []candItem
}

func (h *candHeap) less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	if a.gain != b.gain {
		return a.gain > b.gain
	}
	return better(h.cands[a.cand], h.cands[b.cand])
}

func heapInit(h *candHeap) {
	for i := len(h.items)/2 - 1; i >= 0; i-- {
		heapDown(h, i)
	}
}

func heapFix(h *candHeap, i int) { heapDown(h, i) }

func heapPop(h *candHeap) {
	last := len(h.items) - 1
	h.items[0] = h.items[last]
	h.items = h.items[:last]
	if last > 0 {
		heapDown(h, 0)
	}
}

func heapDown(h *candHeap, i int) {
	for {
		l, r, best := 2*i+1, 2*i+2, i
		if l < len(h.items) && h.less(l, best) {
			best = l
		}
		if r < len(h.items) && h.less(r, best) {
			best = r
		}
		if best == i {
			return
		}
		h.items[i], h.items[best] = h.items[best], h.items[i]
		i = best
	}
}

// better breaks ties between candidates of equal gain: more atoms (the
// role already serves the others it fits), then the lowest atoms.
func better(a, b bitset) bool {
	if c := cmp.Compare(a.count(), b.count()); c != 0 {
		return c > 0
	}
	return slices.Compare(a.members(), b.members()) < 0
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
