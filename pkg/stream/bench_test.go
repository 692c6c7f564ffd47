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

// BenchmarkParseRealistic is BenchmarkParseSynthetic on the realistic data
// set: 9,017 objects modelled on Helm charts, each after its "# Source:"
// comment, with the long labels and annotations real charts carry.
func BenchmarkParseRealistic(b *testing.B) {
	in := bench.Realistic(50, 20, false)
	want := bench.RealisticCount(50, 20)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s, err := stream.ParseWith(in, stream.Options{Prepare: func(o *manifest.Object) { inject.Prepare(o, nil) }})
		if err != nil || len(s.Objects) != want {
			b.Fatalf("%v, %d objects, want %d", err, len(s.Objects), want)
		}
	}
}
