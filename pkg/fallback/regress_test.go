package fallback_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/fallback"
	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/infer"
	"github.com/tierwall/tierwall/pkg/policy"
)

const shopAPI = `apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: x, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports: [{port: 80, targetPort: http}]
`

// Found by the unit tests: an egress-only edge (an ingress controller's
// proxy egress to every pod) admits no caller, so it must not cover a port.
func TestProxyEgressNamesNoCaller(t *testing.T) {
	spec := &v1alpha1.Spec{}
	spec.Default()
	in := input(t, spec, shopAPI)
	ctrl := graph.Endpoint{Kind: graph.Pods, Namespace: "ingress-nginx", Selector: map[string]string{"app": "ctrl"}, Name: "ctrl"}
	in.Edges = []graph.Edge{{From: ctrl, To: graph.Endpoint{Kind: graph.Pods, NamespaceLabels: map[string]string{}}, SkipIngress: true, Source: "ingress-controller"}}
	out := fallback.Derive(in)
	require.Len(t, out.Ports, 1, "api:8080 has no caller")
	assert.Equal(t, int32(8080), out.Ports[0].Pod.Port)
}

// Found by the unit tests: a user's policy selecting pods by
// matchExpressions covers only the pods it selects.
func TestUserPolicyMatchExpressions(t *testing.T) {
	spec := &v1alpha1.Spec{}
	spec.Default()
	in := input(t, spec, shopAPI+`---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-only, namespace: shop}
spec:
  podSelector: {matchExpressions: [{key: app, operator: In, values: [web]}]}
  ingress: [{ports: [{port: 8080}]}]
`)
	out := fallback.Derive(in)
	require.Len(t, out.Ports, 1, "the user's policy selects web, not api")
}

// Found by the unit tests: an external-egress allow on a port range, or on
// another protocol, is judged by range and protocol.
func TestExternalsPortRangeAndProtocol(t *testing.T) {
	spec := &v1alpha1.Spec{Fallback: v1alpha1.Fallback{ExternalHosts: v1alpha1.FallbackNone}}
	spec.Default()
	in := input(t, spec, shopAPI)
	api := workloadNamed(t, in, "api")
	from := graph.FromWorkload(api, "")
	host := infer.External{From: from, Workload: api, URL: "https://partner.example.com:8443", Host: "partner.example.com", Port: 8443, Where: "env PARTNER_URL"}
	end := int32(9000)
	ranged := policy.Port("TCP", 8000)
	ranged.EndPort = &end
	edge := func(p networkingv1.NetworkPolicyPort) []graph.Edge {
		return []graph.Edge{{From: from, To: graph.Endpoint{Kind: graph.CIDR, CIDR: "203.0.113.0/24"}, Ports: []networkingv1.NetworkPolicyPort{p}, Source: "external-egress"}}
	}
	assert.Empty(t, fallback.Externals(spec, []infer.External{host}, edge(ranged)).Results, "8000-9000 allows 8443")
	assert.Len(t, fallback.Externals(spec, []infer.External{host}, edge(policy.Port("UDP", 8443))).Results, 1, "UDP/8443 does not allow TCP/8443")
}
