package diff_test

import (
	"sync"
	"testing"

	"github.com/tierwall/tierwall/pkg/analysis"
	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/bench"
	"github.com/tierwall/tierwall/pkg/cli"
	"github.com/tierwall/tierwall/pkg/diff"
	"github.com/tierwall/tierwall/pkg/report"
	"github.com/tierwall/tierwall/pkg/stream"
)

// BenchmarkDiffRealistic compares two renders of the realistic set after
// tierwall added its policies, 50 and 51 namespaces of 20 apps (3,061 and
// 3,123 workloads): parsing both, analysing both, comparing, as tierwall
// diff does.
func BenchmarkDiffRealistic(b *testing.B) {
	spec, _, err := v1alpha1.Load(nil)
	if err != nil {
		b.Fatal(err)
	}
	var renders [2][]byte
	for i, ns := range []int{50, 51} {
		if renders[i], _, err = cli.RenderStream(bench.Realistic(ns, 20, false), spec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var models [2]*analysis.Model
		var wg sync.WaitGroup
		for j := range renders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := stream.Parse(renders[j])
				if err != nil {
					b.Error(err)
					return
				}
				models[j] = analysis.New(s.Objects, analysis.Options{Spec: spec, SelectorPeers: true})
			}()
		}
		wg.Wait()
		d := diff.Compute(models[0], models[1], report.Options{})
		if err := diff.Text(devNull{}, d); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(d.Entries)), "changes")
	}
}

type devNull struct{}

func (devNull) Write(p []byte) (int, error) { return len(p), nil }
