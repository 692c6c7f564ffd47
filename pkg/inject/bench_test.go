package inject_test

import (
	"testing"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/bench"
	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/infer"
	"github.com/tierwall/tierwall/pkg/inject"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/plumbing"
	"github.com/tierwall/tierwall/pkg/stream"
	"github.com/tierwall/tierwall/pkg/tier"
)

// parsed reads a generated stream as the front ends do.
func parsed(b *testing.B, data []byte) []manifest.Object {
	s, err := stream.ParseWith(data, stream.Options{Prepare: func(o *manifest.Object) { inject.Prepare(o, nil) }})
	if err != nil {
		b.Fatal(err)
	}
	return s.Objects
}

func benchObjects(b *testing.B) []manifest.Object { return parsed(b, bench.Stream(50, 20, false)) }

func benchRealisticObjects(b *testing.B) []manifest.Object {
	return parsed(b, bench.Realistic(50, 20, false))
}

// runEngine runs the engine on objs b.N times, with the checks of the
// output when process is set.
func runEngine(b *testing.B, objs []manifest.Object, process bool) {
	spec := &v1alpha1.Spec{}
	spec.Default()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var out inject.Output
		var err error
		failed := false
		if process {
			out, failed, err = inject.Engine{Spec: spec}.Process(objs)
		} else {
			out, err = inject.Engine{Spec: spec}.Run(objs)
		}
		if err != nil || failed || len(out.Objects) == 0 {
			b.Fatal(err, failed)
		}
	}
}

// BenchmarkEngine derives the policies of the 9,000-object synthetic stream
// (3,000 workloads in 50 namespaces).
func BenchmarkEngine(b *testing.B) {
	runEngine(b, benchObjects(b), false)
}

// BenchmarkProcess is BenchmarkEngine plus the checks of the output.
func BenchmarkProcess(b *testing.B) {
	runEngine(b, benchObjects(b), true)
}

// BenchmarkEngineRealistic derives the policies of the 9,017-object
// realistic data set (3,061 workloads in 51 namespaces, with env, ConfigMap,
// Ingress, ServiceMonitor and webhook references to infer from).
func BenchmarkEngineRealistic(b *testing.B) {
	runEngine(b, benchRealisticObjects(b), false)
}

// BenchmarkProcessRealistic is BenchmarkEngineRealistic plus the checks of
// the output.
func BenchmarkProcessRealistic(b *testing.B) {
	runEngine(b, benchRealisticObjects(b), true)
}

// realisticInputs reads the realistic data set as the engine does and hands
// back the tier resolver that inference uses, for the stage benchmarks below.
func realisticInputs(b *testing.B) (*v1alpha1.Spec, []manifest.Object, plumbing.Input, tier.Resolver) {
	objs := benchRealisticObjects(b)
	spec := &v1alpha1.Spec{}
	spec.Default()
	read, _ := plumbing.Read(spec, objs)
	in := plumbing.Input{Spec: spec, Set: read.Set, Objects: objs, Workloads: read.Workloads, Services: read.Services}
	var resolve tier.Resolver
	tier.Derive(tier.Input{Spec: spec, Set: read.Set, Workloads: read.Workloads, Services: read.Services,
		More: func(r tier.Resolver) ([]graph.Edge, framework.Results) { resolve = r; return nil, nil }})
	if resolve == nil || len(in.Workloads) == 0 {
		b.Fatal("no resolver or no workloads from the realistic data set")
	}
	return spec, objs, in, resolve
}

// BenchmarkReadRealistic reads the workloads, Services and namespaces of the
// realistic data set (the reader every derivation starts from).
func BenchmarkReadRealistic(b *testing.B) {
	spec, objs, _, _ := realisticInputs(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if read, _ := plumbing.Read(spec, objs); len(read.Workloads) == 0 {
			b.Fatal("no workloads")
		}
	}
}

// BenchmarkPlumbingRealistic is the plumbing inference (RBAC, webhooks,
// ingress controllers, StatefulSet peers, node agents) on the realistic set.
func BenchmarkPlumbingRealistic(b *testing.B) {
	_, _, in, _ := realisticInputs(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if out := plumbing.Derive(in); len(out.Edges) == 0 {
			b.Fatal("no plumbing edges")
		}
	}
}

// BenchmarkReferencesRealistic is the reference reader (env URLs and
// HOST/PORT pairs, ConfigMaps through envFrom, Ingresses, ServiceMonitors,
// external hosts) on the realistic set.
func BenchmarkReferencesRealistic(b *testing.B) {
	_, _, in, resolve := realisticInputs(b)
	classes := plumbing.Derive(in).Classes
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := infer.Derive(infer.Input{Input: in,
			Resolve: resolve, Classes: classes})
		if len(out.Edges) == 0 {
			b.Fatal("no inferred edges")
		}
	}
}
