package analysis

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestBitsetBuilder checks that sets handed out by a reused builder hold
// exactly their indices, trimmed to their span, and that the builder is
// empty again after each.
func TestBitsetBuilder(t *testing.T) {
	bb := newBitsetBuilder(300)
	for _, want := range [][]int{{130, 131, 250}, {}, {0}, {299, 5}, {200}, {64, 127}} {
		for _, i := range want {
			bb.set(i)
		}
		b := bb.take()
		var got []int
		b.each(func(i int) { got = append(got, i) })
		assert.ElementsMatch(t, want, got)
		for i := 0; i < 400; i++ {
			assert.Equal(t, slices.Contains(want, i), b.has(i), "index %d of %v", i, want)
		}
		if len(want) > 0 {
			assert.NotZero(t, b.words[0], "leading zero word")
			assert.NotZero(t, b.words[len(b.words)-1], "trailing zero word")
		}
		assert.Equal(t, uint64(0), b.word(1000))
	}
	assert.Equal(t, make([]uint64, 5), bb.scratch, "cleared")
}
