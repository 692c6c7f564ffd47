package inject

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/baseline"
	"github.com/tierwall/tierwall/pkg/fallback"
	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/plumbing"
	"github.com/tierwall/tierwall/pkg/policy"
	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/scope"
	"github.com/tierwall/tierwall/pkg/workload"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
)

// SummaryAnnotation carries a namespace's summary on its baseline policy.
const SummaryAnnotation = "tierwall.io/summary"

// Summary is what a run saw and did: the first thing a user reads, on
// stderr, as the first comment of a plain stream and on each namespace's
// baseline policy. A summary without fallbacks, external hosts, unresolved
// references or warnings means nothing was guessed.
type Summary struct {
	// Release names the render's release ("" when unknown).
	Release   string
	Workloads int
	// Touched are the namespaces the input puts objects in that belong to
	// someone else (no workload, no Namespace object): no policy there.
	Touched []string
	// Protected are the namespaces tierwall writes policies in.
	Protected []string
	// Flows counts the allows read from the manifests and the config
	// (baseline and fallback excluded).
	Flows int
	// Fallbacks name the ports opened to their namespace.
	Fallbacks []string
	// External names the hosts outside the cluster that were allowed.
	External []string
	// Unresolved counts in-cluster names that are no Service of the input.
	Unresolved int
	// Warnings and Errors count the run's findings (set by Count).
	Warnings, Errors int
	// byNS holds each namespace's own line.
	byNS map[string]*nsSummary
}

type nsSummary struct {
	workloads, flows int
	fallbacks        []string
}

func summarize(spec *v1alpha1.Spec, set scope.Set, ws []workload.Workload, edges []graph.Edge, fb fallback.Output, ext fallback.ExternalOutput, unresolved int) Summary {
	s := Summary{byNS: map[string]*nsSummary{}, External: ext.URLs, Unresolved: unresolved}
	for _, ns := range set.List {
		if ns.InScope() {
			s.Protected = append(s.Protected, ns.Display())
			s.byNS[ns.Name] = &nsSummary{}
		} else if ns.Skipped == plumbing.Foreign {
			s.Touched = append(s.Touched, ns.Display())
		}
	}
	for _, w := range ws {
		if n := s.byNS[w.Namespace]; n != nil {
			s.Workloads++
			n.workloads++
		}
	}
	for _, e := range edges {
		if e.Source == fallback.Source || e.Source == "" {
			continue
		}
		s.Flows++
		ns := e.To.Namespace
		if !e.To.Selectable() {
			ns = e.From.Namespace
		}
		if n := s.byNS[ns]; n != nil {
			n.flows++
		}
	}
	for _, p := range fb.Ports {
		name := fmt.Sprintf("%s %s port %d", p.Workload.Kind, p.Workload.Name, p.Pod.Port)
		ns := p.Workload.Namespace
		s.Fallbacks = append(s.Fallbacks, ns+"/"+name)
		if n := s.byNS[ns]; n != nil {
			n.fallbacks = append(n.fallbacks, name)
		}
	}
	sort.Strings(s.Fallbacks)
	_ = spec
	return s
}

// Count sets the numbers of warnings and errors among a run's findings.
func (s *Summary) Count(rs framework.Results) {
	s.Warnings, s.Errors = 0, 0
	for _, r := range rs {
		switch r.Severity {
		case result.Warning:
			s.Warnings++
		case result.Error:
			s.Errors++
		}
	}
}

// Text is the summary in one paragraph, the first ten of each list named.
func (s Summary) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d workload(s) in %d protected namespace(s)", s.Workloads, len(s.Protected))
	if len(s.Protected) > 0 {
		fmt.Fprintf(&b, ": %s", first(s.Protected))
	}
	if len(s.Touched) > 0 {
		fmt.Fprintf(&b, "; touched, not protected (someone else's): %s", first(s.Touched))
	}
	if s.Release != "" {
		fmt.Fprintf(&b, "; release %s", s.Release)
	} else if len(s.Protected) > 0 {
		b.WriteString("; no release named: a second render into these namespaces would collide on default-deny-all, allow-dns and allow-monitoring (name it with --release or spec.release; Argo CD sets ARGOCD_APP_NAME)")
	}
	fmt.Fprintf(&b, "; %d flow(s) read from the manifests and config", s.Flows)
	if len(s.Fallbacks) > 0 {
		fmt.Fprintf(&b, "; %d fallback(s), open to their namespace since no caller is named: %s", len(s.Fallbacks), first(s.Fallbacks))
	} else {
		b.WriteString("; no fallback")
	}
	if len(s.External) > 0 {
		fmt.Fprintf(&b, "; %d external host(s): %s", len(s.External), first(s.External))
	}
	if s.Unresolved > 0 {
		fmt.Fprintf(&b, "; %d unresolved in-cluster reference(s)", s.Unresolved)
	}
	fmt.Fprintf(&b, "; %d warning(s)", s.Warnings)
	if s.Errors > 0 {
		fmt.Fprintf(&b, ", %d error(s)", s.Errors)
	}
	if len(s.Fallbacks) > 0 || s.Unresolved > 0 {
		b.WriteString("; calls written in code to other namespaces or to the internet stay blocked")
	}
	return b.String()
}

func first(names []string) string {
	if len(names) <= 10 {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:10], ", ") + fmt.Sprintf(" and %d more", len(names)-10)
}

// annotate writes each namespace's summary on its baseline policy (the
// default-deny, else the first baseline policy), replacing an earlier one.
func (s Summary) annotate(gen []policy.Generated) {
	done := map[string]bool{}
	pick := func(match func(g policy.Generated) bool) {
		for i := range gen {
			g := &gen[i]
			ns := g.Policy.Namespace
			n := s.byNS[ns]
			if n == nil || done[ns] || !match(*g) {
				continue
			}
			done[ns] = true
			text := fmt.Sprintf("%d workload(s); %d flow(s) read from the manifests and config", n.workloads, n.flows)
			if len(n.fallbacks) > 0 {
				sort.Strings(n.fallbacks)
				text += fmt.Sprintf("; %d fallback(s): %s", len(n.fallbacks), first(n.fallbacks))
			} else {
				text += "; no fallback"
			}
			g.Policy.Annotations[SummaryAnnotation] = text
		}
	}
	pick(func(g policy.Generated) bool {
		return g.Policy.Name == baseline.DefaultDenyName || strings.HasSuffix(g.Policy.Name, "-"+baseline.DefaultDenyName)
	})
	pick(func(g policy.Generated) bool { return g.Policy.Annotations[manifest.SourceAnnotation] == "baseline" })
}
