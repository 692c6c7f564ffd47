package analysis

import "math/bits"

// bitset is a set of class (or endpoint) indices, kept as the words from
// the first that holds a member to the last: off is the index of words[0].
// A policy's pods and a rule's peers are mostly classes of one namespace,
// which lie together (classes are numbered in the order of the sorted
// endpoints, so by namespace), and such a set costs its span, not the
// model's size.
type bitset struct {
	off   int
	words []uint64
}

// newBitset returns an empty set that may hold any index below n.
func newBitset(n int) bitset { return bitset{words: make([]uint64, (n+63)/64)} }

// set adds i, which must be within the set's span.
func (b bitset) set(i int) { b.words[i/64-b.off] |= 1 << (uint(i) % 64) }

func (b bitset) has(i int) bool {
	w := i/64 - b.off
	return w >= 0 && w < len(b.words) && b.words[w]&(1<<(uint(i)%64)) != 0
}

// word returns the word of global index w (indices 64w to 64w+63).
func (b bitset) word(w int) uint64 {
	if w -= b.off; w >= 0 && w < len(b.words) {
		return b.words[w]
	}
	return 0
}

// each calls f for every index in the set, in increasing order.
func (b bitset) each(f func(int)) {
	for w, word := range b.words {
		for word != 0 {
			t := bits.TrailingZeros64(word)
			f((b.off+w)*64 + t)
			word &= word - 1
		}
	}
}

// bitsetBuilder collects indices in a scratch set as large as the model
// and hands them out trimmed to their span, then clears what it touched:
// reused from set to set, it costs each set its span only.
type bitsetBuilder struct {
	scratch []uint64
	lo, hi  int // words touched since the last take: [lo, hi)
}

func newBitsetBuilder(n int) *bitsetBuilder {
	return &bitsetBuilder{scratch: make([]uint64, (n+63)/64), lo: (n + 63) / 64}
}

func (bb *bitsetBuilder) set(i int) {
	w := i / 64
	bb.scratch[w] |= 1 << (uint(i) % 64)
	bb.lo, bb.hi = min(bb.lo, w), max(bb.hi, w+1)
}

// take returns the indices set since the last take, as a bitset of their
// span, and empties the builder.
func (bb *bitsetBuilder) take() bitset {
	lo, hi := bb.lo, bb.hi
	for lo < hi && bb.scratch[lo] == 0 {
		lo++
	}
	for hi > lo && bb.scratch[hi-1] == 0 {
		hi--
	}
	b := bitset{off: lo}
	if lo < hi {
		b.words = append([]uint64(nil), bb.scratch[lo:hi]...)
	}
	clear(bb.scratch[bb.lo:max(bb.lo, bb.hi)])
	bb.lo, bb.hi = len(bb.scratch), 0
	return b
}
