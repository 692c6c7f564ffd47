package stream_test

import (
	"testing"

	"github.com/tierwall/tierwall/pkg/bench"
	"github.com/tierwall/tierwall/pkg/inject"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/stream"
)

// BenchmarkParseSynthetic reads the 9,000-object synthetic stream the way the
// post-renderer does: split, parse on every core, prepare and compact.
func BenchmarkParseSynthetic(b *testing.B) {
	in := bench.Stream(50, 20, false)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s, err := stream.ParseWith(in, stream.Options{Prepare: func(o *manifest.Object) { inject.Prepare(o, nil) }})
		if err != nil || len(s.Objects) != 9000 {
			b.Fatalf("%v, %d objects", err, len(s.Objects))
		}
	}
}
