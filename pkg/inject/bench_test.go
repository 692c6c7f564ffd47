package inject_test

import (
	"testing"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/bench"
	"github.com/tierwall/tierwall/pkg/inject"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/stream"
)

func benchObjects(b *testing.B) []manifest.Object {
	s, err := stream.ParseWith(bench.Stream(50, 20, false), stream.Options{Prepare: func(o *manifest.Object) { inject.Prepare(o, nil) }})
	if err != nil {
		b.Fatal(err)
	}
	return s.Objects
}

// BenchmarkEngine derives the policies of the 9,000-object synthetic stream
// (3,000 workloads in 50 namespaces).
func BenchmarkEngine(b *testing.B) {
	objs := benchObjects(b)
	spec := &v1alpha1.Spec{}
	spec.Default()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := inject.Engine{Spec: spec}.Run(objs)
		if err != nil || len(out.Objects) == 0 {
			b.Fatal(err)
		}
	}
}

// BenchmarkProcess is BenchmarkEngine plus the checks of the output.
func BenchmarkProcess(b *testing.B) {
	objs := benchObjects(b)
	spec := &v1alpha1.Spec{}
	spec.Default()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, failed, err := inject.Engine{Spec: spec}.Process(objs)
		if err != nil || failed || len(out.Objects) == 0 {
			b.Fatal(err, failed)
		}
	}
}

func benchRealisticObjects(b *testing.B) []manifest.Object {
	s, err := stream.ParseWith(bench.Realistic(50, 20, false), stream.Options{Prepare: func(o *manifest.Object) { inject.Prepare(o, nil) }})
	if err != nil {
		b.Fatal(err)
	}
	return s.Objects
}

// BenchmarkEngineRealistic derives the policies of the 9,017-object
// realistic data set (3,061 workloads in 51 namespaces, with env, ConfigMap,
// Ingress, ServiceMonitor and webhook references to infer from).
func BenchmarkEngineRealistic(b *testing.B) {
	objs := benchRealisticObjects(b)
	spec := &v1alpha1.Spec{}
	spec.Default()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := inject.Engine{Spec: spec}.Run(objs)
		if err != nil || len(out.Objects) == 0 {
			b.Fatal(err)
		}
	}
}

// BenchmarkProcessRealistic is BenchmarkEngineRealistic plus the checks of
// the output.
func BenchmarkProcessRealistic(b *testing.B) {
	objs := benchRealisticObjects(b)
	spec := &v1alpha1.Spec{}
	spec.Default()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, failed, err := inject.Engine{Spec: spec}.Process(objs)
		if err != nil || failed || len(out.Objects) == 0 {
			b.Fatal(err, failed)
		}
	}
}
