package plan

import (
	"math/bits"
	"unsafe"
)

// bitset is a set of atom indices.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) set(i int)      { b[i/64] |= 1 << (i % 64) }
func (b bitset) has(i int) bool { return b[i/64]&(1<<(i%64)) != 0 }

func (b bitset) clone() bitset { return append(bitset(nil), b...) }

func (b bitset) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

func (b bitset) empty() bool {
	for _, w := range b {
		if w != 0 {
			return false
		}
	}
	return true
}

// subsetOf reports b ⊆ o.
func (b bitset) subsetOf(o bitset) bool {
	for i, w := range b {
		if w&^o[i] != 0 {
			return false
		}
	}
	return true
}

func (b bitset) and(o bitset) bitset {
	out := make(bitset, len(b))
	for i := range b {
		out[i] = b[i] & o[i]
	}
	return out
}

func (b bitset) andNot(o bitset) bitset {
	out := make(bitset, len(b))
	for i := range b {
		out[i] = b[i] &^ o[i]
	}
	return out
}

func (b bitset) or(o bitset) bitset {
	out := make(bitset, len(b))
	for i := range b {
		out[i] = b[i] | o[i]
	}
	return out
}

// andCount is |b ∩ o|.
func (b bitset) andCount(o bitset) int {
	n := 0
	for i := range b {
		n += bits.OnesCount64(b[i] & o[i])
	}
	return n
}

func (b bitset) equal(o bitset) bool {
	for i := range b {
		if b[i] != o[i] {
			return false
		}
	}
	return true
}

// key is a map key for the set.
func (b bitset) key() string { return string([]byte(b.view())) }

// view is the set's bytes as a string sharing its memory, for map
// lookups that must not allocate; it must not outlive a change to b.
func (b bitset) view() string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String((*byte)(unsafe.Pointer(&b[0])), len(b)*8)
}

// members lists the indices in the set, ascending.
func (b bitset) members() []int {
	var out []int
	for i, w := range b {
		for w != 0 {
			t := bits.TrailingZeros64(w)
			out = append(out, i*64+t)
			w &= w - 1
		}
	}
	return out
}
