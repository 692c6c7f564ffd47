package inject

import (
	"net/netip"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/check"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/plumbing"
	"github.com/tierwall/tierwall/pkg/result"
)

// Verify runs tierwall check on the final object set (the input plus what
// Run generated), when spec.check.enabled. It returns the findings, with
// check errors downgraded to warnings under spec.check.failOn: none, and
// whether they fail the run.
func (e Engine) Verify(objs []manifest.Object, out Output) (framework.Results, bool) {
	c := e.Spec.Check
	if !*c.Enabled {
		return nil, false
	}
	all := make([]manifest.Object, 0, len(objs)+len(out.Objects))
	dropped := map[int]bool{}
	for _, i := range out.Drop {
		dropped[i] = true
	}
	for _, o := range objs {
		if !dropped[o.Index] {
			all = append(all, o)
		}
	}
	typed := map[string]*networkingv1.NetworkPolicySpec{}
	for i := range out.Policies {
		p := &out.Policies[i].Policy
		typed[p.Namespace+"/"+p.Name] = &p.Spec
	}
	byIndex := map[int]*networkingv1.NetworkPolicySpec{}
	for i, g := range out.Objects {
		o := manifest.FromNode(len(objs)+i, g.Node)
		if spec, ok := typed[g.Namespace+"/"+g.Name]; ok && g.Kind == "NetworkPolicy" {
			byIndex[o.Index] = spec // the analysis reads the typed spec, not the node
		}
		all = append(all, o)
	}
	opts := check.Options{Needs: out.Needs, Typed: byIndex}
	if opts.Needs == nil {
		opts.Needs = []plumbing.Need{}
	}
	for _, s := range c.ClusterCIDRs {
		if p, err := netip.ParsePrefix(s); err == nil {
			opts.ClusterCIDRs = append(opts.ClusterCIDRs, p.Masked())
		}
	}
	rs := check.Objects(all, e.Spec, opts)
	generated := map[string]bool{}
	for _, o := range out.Objects {
		generated[o.Kind+"/"+o.Namespace+"/"+o.Name] = true
	}
	fail := false
	for _, r := range rs {
		// The input's own policies are the user's: tierwall never edits them,
		// so their findings are reported, not failed on (tierwall check gates
		// on them). Findings on tierwall's output and on pods fail the run.
		if ref := r.ResourceRef; ref != nil && r.Severity == result.Error && strings.HasSuffix(ref.Kind, "NetworkPolicy") &&
			!generated[ref.Kind+"/"+ref.Namespace+"/"+ref.Name] {
			r.Severity = result.Warning
			r.Message += " (the input's own policy: reported, not failed on; tierwall check gates on it)"
			continue
		}
		switch {
		case c.FailOn == v1alpha1.FailOnNone && r.Severity == result.Error:
			r.Severity = result.Warning
			r.Message += " (not failing: spec.check.failOn is none)"
		case r.Severity == result.Error:
			fail = true
		case c.FailOn == v1alpha1.FailOnWarning && r.Severity == result.Warning:
			fail = true
		}
	}
	return rs, fail
}

// Process runs Run, then Verify on its output: the findings of both, sorted,
// in Output.Results. failed is true when the input has errors (Run's error
// results) or the checks fail; Output then holds no generated object. err is
// an input the engine cannot read at all.
func (e Engine) Process(objs []manifest.Object) (out Output, failed bool, err error) {
	out, err = e.Run(objs)
	if err == nil && out.Failed {
		out.Summary.Count(out.Results)
		return out, true, nil
	}
	if err != nil {
		return out, true, err
	}
	checked, failed := e.Verify(objs, out)
	out.Results = append(out.Results, checked...)
	result.Sort(out.Results)
	out.Summary.Count(out.Results)
	if failed {
		return Output{Results: out.Results, Summary: out.Summary}, true, nil
	}
	return out, false, nil
}
