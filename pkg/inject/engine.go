// Package inject is tierwall's engine: from the objects of a stream and a
// configuration it derives every policy to add (baseline, tiers, inference,
// plumbing, fallbacks), keeps the user's policies of the same names, says
// which of tierwall's own earlier output to drop (regenerated), and returns
// the generated objects encoded and sorted, with its findings, the needs
// the checks verify and the run's summary. Every front end (the KRM
// function, the post-renderer, tierwall policies) calls Engine.Process.
package inject

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/baseline"
	"github.com/tierwall/tierwall/pkg/cilium"
	"github.com/tierwall/tierwall/pkg/emit"
	"github.com/tierwall/tierwall/pkg/fallback"
	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/infer"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/plumbing"
	"github.com/tierwall/tierwall/pkg/policy"
	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/tier"
	"github.com/tierwall/tierwall/pkg/workload"
)

// Engine derives the policies for one configuration.
type Engine struct {
	Spec *v1alpha1.Spec
	// Context are objects that resolve references without being owned or
	// emitted (--context): another release's Services and workloads.
	Context []manifest.Object
}

// Output is what a run adds: the generated policies, sorted by namespace and
// name, and the findings, sorted.
type Output struct {
	// Policies are the generated NetworkPolicies, typed.
	Policies []policy.Generated
	// Objects are every generated object (NetworkPolicies and, in the
	// cilium flavour, CiliumNetworkPolicies), in output order.
	Objects []emit.Object
	Results framework.Results
	// Needs are the plumbing needs read from the input, for the checks.
	Needs []plumbing.Need
	// Summary is what the run saw and did, for the channels users read.
	Summary Summary
	// Failed is set when the input has errors (in Results): nothing is
	// generated then.
	Failed bool
	// Drop lists the indexes of input objects that are tierwall's own
	// unedited earlier output (their tierwall.io/hash matches their spec):
	// the front ends leave them out, since Objects regenerates what is still
	// wanted. Every other input object is written as it came.
	Drop []int
}

// Run derives the policies for objs. It returns an error, and no policies,
// when the input cannot be trusted (an object without apiVersion or kind).
func (e Engine) Run(objs []manifest.Object) (Output, error) {
	var out Output
	for _, o := range objs {
		if o.APIVersion == "" || o.Kind == "" {
			missing := "kind"
			if o.APIVersion == "" {
				missing = "apiVersion"
			}
			return out, fmt.Errorf("reading input: document %d (%s) has no %s", o.Index, describe(o), missing)
		}
	}
	read, rs := plumbing.Read(e.Spec, objs)
	out.Results = append(out.Results, rs...)
	set, workloads, services := read.Set, read.Workloads, read.Services
	// The baseline and the tier and inferred allows read the same input and
	// nothing else: they are derived side by side.
	var gen []policy.Generated
	var baseRS framework.Results
	done := make(chan struct{})
	go func() {
		defer close(done)
		if *e.Spec.Baseline.Enabled {
			gen, baseRS = baseline.Derive(e.Spec, set, workloads)
		}
	}()
	var needs []plumbing.Need
	var externals []infer.External
	unresolved := 0
	derived := tier.Derive(tier.Input{Spec: e.Spec, Set: set, Workloads: workloads, Services: services,
		More: func(resolve tier.Resolver) ([]graph.Edge, framework.Results) {
			pl := plumbing.Derive(read)
			needs = pl.Needs
			ctx, _ := plumbing.Read(e.Spec, e.Context)
			inferred := infer.Derive(infer.Input{Input: read, Resolve: resolve, Classes: pl.Classes,
				ContextServices: ctx.Services, ContextWorkloads: ctx.Workloads})
			externals, unresolved = inferred.External, inferred.Unresolved
			return append(inferred.Edges, pl.Edges...), append(inferred.Results, pl.Results...)
		}})
	out.Needs = needs
	// Callers the manifests do not name: the fallback reads every edge.
	fb := fallback.Derive(fallback.Input{Input: read, Edges: derived.Edges, Release: Release(e.Spec, workloads)})
	derived.Edges = append(derived.Edges, fb.Edges...)
	derived.Results = append(derived.Results, fb.Results...)
	ext := fallback.Externals(e.Spec, externals, derived.Edges)
	derived.Edges = append(derived.Edges, ext.Edges...)
	if !*e.Spec.Baseline.Enabled {
		// No allow-dns from this render: every pod it gives an egress
		// policy resolves names through that policy.
		derived.Edges = append(derived.Edges, baseline.DNSEdges(e.Spec, derived.Edges)...)
	}
	derived.Results = append(derived.Results, ext.Results...)
	for _, h := range ext.Hosts {
		derived.FQDN = append(derived.FQDN, graph.FQDNEgress{From: h.From, Hosts: []v1alpha1.FQDN{{MatchName: h.Host}}, Ports: h.Ports, Reason: h.Reason})
	}
	out.Summary = summarize(e.Spec, set, workloads, derived.Edges, fb, ext, unresolved)
	<-done
	out.Results = append(out.Results, baseRS...)
	out.Results = append(out.Results, derived.Results...)
	gen = append(gen, derived.Policies...)
	// Several renders share a namespace: the namespace-wide policies carry
	// the release in their names.
	release := Release(e.Spec, workloads)
	for i := range gen {
		if release != "" {
			gen[i].Policy.Name = policy.Name(release + "-" + gen[i].Policy.Name)
		}
	}
	out.Summary.Release = release
	inScope := func(name string) bool {
		ns, ok := set.Get(name)
		return ok && ns.InScope()
	}
	rendered, rs := graph.Render(derived.Edges, graph.Options{
		IngressDenied: *e.Spec.DefaultDeny.Ingress,
		EgressDenied:  *e.Spec.DefaultDeny.Egress,
		InScope:       inScope,
		// The cilium flavour writes the API server as an entity.
		SkipAPIServer: e.Spec.Flavor == v1alpha1.FlavorCilium,
		Hooks:         *e.Spec.Inference.Hooks,
	})
	out.Results = append(out.Results, rs...)
	gen = append(gen, rendered...)
	var namespaces []string
	for _, ns := range set.List {
		if ns.InScope() {
			namespaces = append(namespaces, ns.Name)
		}
	}
	byNS := map[string][]workload.Workload{}
	for _, w := range workloads {
		byNS[w.Namespace] = append(byNS[w.Namespace], w)
	}
	ciliumObjs, rs := cilium.Render(cilium.Input{Spec: e.Spec, Edges: derived.Edges, FQDN: derived.FQDN, InScope: inScope, Namespaces: namespaces,
		HasPods: func(ns string, labels map[string]string) bool { return baseline.HasPods(byNS[ns], labels) }})
	out.Results = append(out.Results, rs...)
	if result.HasErrors(out.Results) {
		result.Sort(out.Results)
		return Output{Results: out.Results, Summary: out.Summary, Failed: true}, nil
	}

	out.Summary.annotate(gen)
	// Renders converge: tierwall's own unedited earlier output is dropped
	// and regenerated from the current input and config (so what is no
	// longer wanted goes); an edited one is the user's and is kept.
	existing := map[string]manifest.Object{}
	for _, o := range objs {
		if !o.IsNetworkPolicy() && (o.Kind != cilium.Kind || o.Group() != "cilium.io") {
			continue
		}
		if Unedited(o) {
			out.Drop = append(out.Drop, o.Index)
			continue
		}
		existing[o.Kind+"/"+set.Of[o.Index]+"/"+o.Name] = o
	}
	policies := map[string]policy.Generated{}
	objects := ciliumObjs
	enc := emit.NewEncoder()
	for _, g := range gen {
		objects = append(objects, emit.Object{Kind: "NetworkPolicy", Namespace: g.Policy.Namespace, Name: g.Policy.Name, Node: enc.Encode(g)})
		policies[g.Policy.Namespace+"/"+g.Policy.Name] = g
	}
	for _, obj := range objects {
		emit.WithHash(obj.Node)
	}
	emit.SortObjects(objects)
	for _, obj := range objects {
		if o, ok := existing[obj.Kind+"/"+obj.Namespace+"/"+obj.Name]; ok {
			if r := keptResult(o, obj.Node); r != nil {
				out.Results = append(out.Results, r)
			}
			continue
		}
		if obj.Kind == "NetworkPolicy" {
			out.Policies = append(out.Policies, policies[obj.Namespace+"/"+obj.Name])
		}
		out.Objects = append(out.Objects, obj)
	}
	result.Sort(out.Results)
	return out, nil
}

// Unedited reports whether an input object is tierwall's own earlier output,
// unedited: labelled managed-by tierwall with a tierwall.io/hash that matches
// its spec.
func Unedited(o manifest.Object) bool {
	h := o.Annotations[manifest.HashAnnotation]
	return o.ManagedByTierwall() && h != "" && o.Node != nil && manifest.SpecHash(o.Node) == h
}

// keptResult explains why a policy was not generated: a NetworkPolicy of the
// same namespace and name is already in the input. Tierwall's own output fed
// back in is silent when unchanged.
func keptResult(o manifest.Object, generated *yaml.Node) *framework.Result {
	if o.ManagedByTierwall() {
		if sameSpec(o.Node, generated) {
			return nil
		}
		if o.Annotations[manifest.HashAnnotation] != "" {
			return result.New(result.Warning, result.RefOf(o), "spec",
				"%s was generated by tierwall and edited since (its spec no longer matches its %s): kept as yours and not regenerated; remove it from the input to regenerate it", o.Ref(), manifest.HashAnnotation)
		}
		return result.New(result.Warning, result.RefOf(o), "spec",
			"%s was generated by tierwall with other settings; kept as it is (remove it from the input to regenerate it)", o.Ref())
	}
	return result.New(result.Warning, result.RefOf(o), "",
		"the input's own %s has the name of a tierwall policy: the user's policy is kept and tierwall's is not generated", o.Ref())
}

func sameSpec(a, b *yaml.Node) bool {
	as, err1 := yaml.String(manifest.Lookup(a, "spec"))
	bs, err2 := yaml.String(manifest.Lookup(b, "spec"))
	return err1 == nil && err2 == nil && as == bs
}

func describe(o manifest.Object) string {
	if o.Kind == "" && o.Name == "" {
		return "unnamed"
	}
	return o.Ref()
}

// InstanceLabel is the label Helm charts (and Argo CD's tracking) set to the
// release's name.
const InstanceLabel = "app.kubernetes.io/instance"

// Release is the release a render belongs to: spec.release, else the one
// app.kubernetes.io/instance value every workload shares, else "".
func Release(spec *v1alpha1.Spec, ws []workload.Workload) string {
	if spec.Release != "" {
		return spec.Release
	}
	shared := ""
	for _, w := range ws {
		v := w.Object.Labels[InstanceLabel]
		if v == "" {
			v = w.PodLabels[InstanceLabel]
		}
		if v == "" || (shared != "" && v != shared) {
			return ""
		}
		shared = v
	}
	if len(validation.IsDNS1123Label(shared)) > 0 {
		return ""
	}
	return shared
}
