package plumbing

import (
	"fmt"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/policy"
	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/workload"
)

// peers lets the pods of a StatefulSet reach each other through its
// governing Service (spec.serviceName) on that Service's target ports and
// their declared container ports: replication, gossip, cluster buses.
func (r *reader) peers() {
	for i := range r.in.Workloads {
		w := &r.in.Workloads[i]
		if w.Kind != "StatefulSet" || w.ServiceName == "" || !selectable(w) || !r.inScope(w.Namespace) {
			continue
		}
		var s = r.serviceNamed(w.Namespace, w.ServiceName)
		if s == nil || s.Namespace != w.Namespace {
			r.note(result.Info, w.Object, "spec.serviceName", "StatefulSet %s names Service %s, which is not in the input: its pods get no allow to each other", w.Name, w.ServiceName)
			continue
		}
		seen := map[string]bool{}
		var ports []networkingv1.NetworkPolicyPort
		var what []string
		add := func(p workload.Port) {
			k := fmt.Sprintf("%s/%d", p.Protocol, p.Port)
			if !seen[k] {
				seen[k] = true
				ports = append(ports, policy.Port(p.Protocol, p.Port))
				what = append(what, k)
			}
		}
		for _, p := range s.Ports {
			if wp, _, ok := s.Target(p, *w); ok {
				add(wp)
			}
		}
		for _, p := range w.Ports {
			add(p)
		}
		if len(ports) == 0 {
			continue
		}
		self := graph.FromWorkload(w, r.spec.Zones.Key)
		r.out.Edges = append(r.out.Edges, graph.Edge{From: self, To: self, Ports: ports, Source: SourcePeers,
			Reason: fmt.Sprintf("statefulset-peers: the pods of StatefulSet %s reach each other through its governing %s (spec.serviceName) on %s (replication, gossip, cluster buses)", w.Name, s.Ref(), strings.Join(what, ", "))})
	}
}
