// Package scope finds the namespaces an input stream touches and decides
// which of them tierwall protects: every Namespace object and the namespace of
// every namespaced object, less system, configured and opted-out namespaces.
package scope

import (
	"fmt"
	"sort"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/result"
)

// Namespace is one namespace seen in the input.
type Namespace struct {
	// Name is the namespace's name, "" for the unnamed release namespace
	// (objects without metadata.namespace when spec.namespace is unset).
	Name string
	// Labels of the Namespace object, when the stream has one.
	Labels map[string]string
	// Object is the Namespace object, when the stream has one.
	Object *manifest.Object
	// Skipped says why the namespace gets no policies ("" when in scope).
	Skipped string
}

// InScope reports whether tierwall protects the namespace.
func (n Namespace) InScope() bool { return n.Skipped == "" }

// Display names the namespace for people.
func (n Namespace) Display() string { return manifest.DisplayNamespace(n.Name) }

// Set is the namespaces of a stream, sorted by name.
type Set struct {
	List []Namespace
	// Of maps each namespaced input object's index to its effective namespace.
	Of map[int]string
}

// Get returns the namespace named name.
func (s Set) Get(name string) (Namespace, bool) {
	i := sort.Search(len(s.List), func(i int) bool { return s.List[i].Name >= name })
	if i < len(s.List) && s.List[i].Name == name {
		return s.List[i], true
	}
	return Namespace{}, false
}

// Find collects the namespaces of objs and applies the skip rules of spec.
func Find(spec *v1alpha1.Spec, objs []manifest.Object) (Set, framework.Results) {
	set, rs := Namespaces(spec, objs)
	return set, append(validate(spec, objs), rs...)
}

// Namespaces is Find without the checks of the objects' identities, for
// readers of a set Find has already checked (the analysis of the output).
func Namespaces(spec *v1alpha1.Spec, objs []manifest.Object) (Set, framework.Results) {
	var results framework.Results
	scopes := manifest.NewScopes(objs)
	byName := map[string]*Namespace{}
	of := map[int]string{}
	get := func(name string) *Namespace {
		ns, ok := byName[name]
		if !ok {
			ns = &Namespace{Name: name}
			byName[name] = ns
		}
		return ns
	}
	release := false
	for i := range objs {
		o := objs[i]
		if o.LocalConfig() {
			continue
		}
		if o.Kind == "Namespace" && o.APIVersion == "v1" {
			ns := get(o.Name)
			ns.Labels, ns.Object = o.Labels, &objs[i]
			continue
		}
		namespaced, known := scopes.Namespaced(o)
		if !namespaced {
			if !known {
				results = append(results, result.New(result.Info, result.RefOf(o), "",
					"kind %s/%s has no namespace and tierwall does not know its scope: treated as cluster-scoped", o.APIVersion, o.Kind))
			}
			continue
		}
		name := o.Namespace
		if name == "" {
			name = spec.Namespace
			release = true
		}
		get(name)
		of[o.Index] = name
	}
	// A chart that sets namespace: {{ .Release.Namespace }} on some objects
	// and nothing on others (its subcharts) would get every namespace-wide
	// policy twice once Helm applies the release namespace. Objects without
	// a namespace plus objects in exactly one namespace that holds a
	// workload or Service are one namespace.
	if release && spec.Namespace == "" {
		if n, ok := soleAppNamespace(objs, of); ok {
			for i, ns := range of {
				if ns == "" {
					of[i] = n
				}
			}
			delete(byName, "")
			release = false
			results = append(results, result.New(result.Warning, nil, "spec.namespace",
				"objects without metadata.namespace are taken to be in namespace %q, the one namespace of the input that holds workloads or Services (a chart that namespaces some objects and not others): set spec.namespace (post-renderer: --namespace) to settle it", n))
		}
	}
	if release {
		if spec.Namespace == "" {
			results = append(results, result.New(result.Info, nil, "",
				"objects without metadata.namespace form the release namespace: its policies are written without a namespace so they land beside those objects; set spec.namespace (post-renderer: --namespace) to name it"))
		} else {
			results = append(results, result.New(result.Info, nil, "spec.namespace",
				"objects without metadata.namespace are taken to be in namespace %q (spec.namespace)", spec.Namespace))
		}
	}
	skip := map[string]string{}
	if *spec.SkipSystemNamespaces {
		for _, n := range v1alpha1.SystemNamespaces {
			skip[n] = "system namespace (spec.skipSystemNamespaces)"
		}
	}
	for _, n := range spec.SkipNamespaces {
		skip[n] = "listed in spec.skipNamespaces"
	}
	set := Set{Of: of}
	for _, ns := range byName {
		if why, ok := skip[ns.Name]; ok && ns.Name != "" {
			ns.Skipped = why
		} else if ns.Labels[manifest.IgnoreLabel] == "true" {
			ns.Skipped = fmt.Sprintf("Namespace labelled %s: \"true\"", manifest.IgnoreLabel)
		}
		set.List = append(set.List, *ns)
	}
	sort.Slice(set.List, func(i, j int) bool { return set.List[i].Name < set.List[j].Name })
	for _, ns := range set.List {
		if ns.InScope() {
			continue
		}
		ref := &result.Ref{APIVersion: "v1", Kind: "Namespace", Name: ns.Name}
		results = append(results, result.New(result.Info, ref, "",
			"namespace %s skipped: %s", ns.Display(), ns.Skipped))
	}
	return set, results
}

// appKinds are the kinds that make a namespace an application's: what runs
// pods, and Services.
var appKinds = map[string]bool{
	"apps/Deployment": true, "apps/StatefulSet": true, "apps/DaemonSet": true, "apps/ReplicaSet": true,
	"batch/Job": true, "batch/CronJob": true, "/Pod": true, "/ReplicationController": true, "/Service": true,
}

// soleAppNamespace returns the one named namespace whose objects include a
// workload or a Service, when there is exactly one and objects without a
// namespace hold one too.
func soleAppNamespace(objs []manifest.Object, of map[int]string) (string, bool) {
	named := map[string]bool{}
	unnamed := false
	for _, o := range objs {
		ns, ok := of[o.Index]
		if !ok || (!appKinds[o.Group()+"/"+o.Kind] && o.Summary == nil) {
			continue
		}
		if ns == "" {
			unnamed = true
		} else {
			named[ns] = true
		}
	}
	if !unnamed || len(named) != 1 {
		return "", false
	}
	for n := range named {
		return n, true
	}
	return "", false
}
