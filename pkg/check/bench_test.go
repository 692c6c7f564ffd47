package check_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/bench"
	"github.com/tierwall/tierwall/pkg/check"
	"github.com/tierwall/tierwall/pkg/cli"
	"github.com/tierwall/tierwall/pkg/stream"
)

// BenchmarkChecksRealistic checks what tierwall's post-renderer outputs
// for the 9,017-object realistic data set (3,061 workloads in 51
// namespaces, the policies inferred for them): the model and the checks
// that every render runs on its output.
func BenchmarkChecksRealistic(b *testing.B) {
	spec, _, err := v1alpha1.Load(nil)
	require.NoError(b, err)
	out, _, err := cli.RenderStream(bench.Realistic(50, 20, false), spec)
	require.NoError(b, err)
	s, err := stream.Parse(out)
	require.NoError(b, err)
	needs, input := check.ReadInput(s.Objects, spec)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		check.Objects(s.Objects, spec, check.Options{Needs: needs, Input: input})
	}
}
