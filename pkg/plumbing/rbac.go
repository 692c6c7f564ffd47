package plumbing

import (
	"fmt"
	"strings"

	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/workload"
)

// rbac finds the workloads whose ServiceAccount a RoleBinding or
// ClusterRoleBinding of the input binds, with a token mounted: they call
// the API server.
func (r *reader) rbac() {
	for _, o := range r.in.Objects {
		if o.Group() != "rbac.authorization.k8s.io" || (o.Kind != "RoleBinding" && o.Kind != "ClusterRoleBinding") || o.ManagedByTierwall() {
			continue
		}
		bindingNS := ""
		if o.Kind == "RoleBinding" {
			ns, ok := r.in.Set.Of[o.Index]
			if !ok {
				continue
			}
			bindingNS = ns
		}
		for i, s := range manifest.Items(o.Node, "subjects") {
			field := fmt.Sprintf("subjects[%d]", i)
			kind, name, ns := manifest.String(s, "kind"), manifest.String(s, "name"), manifest.String(s, "namespace")
			switch kind {
			case "ServiceAccount":
				if ns == "" {
					ns = bindingNS
				}
				for _, w := range r.bySA[name] {
					if !r.sameNamespace(ns, w.Namespace) {
						continue
					}
					r.bound(w, o, field, fmt.Sprintf("ServiceAccount %s is a subject of %s", name, o.Ref()))
				}
			case "Group":
				all := name == "system:serviceaccounts"
				gns, perNS := strings.CutPrefix(name, "system:serviceaccounts:")
				if !all && !perNS {
					continue
				}
				var hit []string
				for _, w := range r.workloads {
					if all || r.sameNamespace(gns, w.Namespace) {
						if r.bound(w, o, field, fmt.Sprintf("group %s is a subject of %s", name, o.Ref())) {
							hit = append(hit, w.Kind+" "+nsName(w))
						}
					}
				}
				if hit = dedupe(hit); len(hit) > 0 {
					r.note(result.Warning, o, field, "%s binds the group %s, which holds every ServiceAccount of %s: every workload there with a token mounted gets API server egress (%s); bind the ServiceAccounts that need it instead",
						o.Ref(), name, map[bool]string{true: "the cluster", false: "namespace " + gns}[all], list(hit))
				}
			}
		}
	}
}

// bound records the API need of a bound workload when its token is mounted.
func (r *reader) bound(w *workload.Workload, o manifest.Object, field, why string) bool {
	mounted, how := r.tokenMounted(w)
	if !mounted {
		return false
	}
	r.needAPI(w, SourceRBAC, why+how, o, field)
	return true
}

// tokenMounted applies automountServiceAccountToken: the pod's, else the
// ServiceAccount's, else true; a projected serviceAccountToken volume
// mounts one whatever they say.
func (r *reader) tokenMounted(w *workload.Workload) (bool, string) {
	if w.ProjectedToken {
		return true, " and a projected serviceAccountToken volume mounts its token"
	}
	switch w.AutomountToken {
	case workload.Yes:
		return true, ""
	case workload.No:
		return false, ""
	}
	for _, sa := range r.serviceAccounts(w) {
		if manifest.String(sa.Node, "automountServiceAccountToken") == "false" {
			return false, ""
		}
	}
	return true, ""
}
