package graph_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/policy"
	"github.com/tierwall/tierwall/pkg/workload"
)

// deployment is a workload endpoint of kind Deployment.
func deployment(ns, name string, sel map[string]string) graph.Endpoint {
	w := &workload.Workload{Namespace: ns, Name: name, Kind: "Deployment", Selector: sel, PodLabels: sel}
	return graph.FromWorkload(w, "security-zone")
}

func TestEndpointDescribe(t *testing.T) {
	tests := map[string]struct {
		ep   graph.Endpoint
		want string
	}{
		"workload in a named namespace": {
			ep:   deployment("shop", "api", map[string]string{"app": "api"}),
			want: "Deployment shop/api",
		},
		"workload in the release namespace": {
			ep:   deployment("", "api", map[string]string{"app": "api"}),
			want: "Deployment (release namespace)/api",
		},
		"anywhere with a name": {
			ep:   graph.Endpoint{Kind: graph.Anywhere, Name: "the API server (any address)"},
			want: "the API server (any address)",
		},
		"anywhere without a name": {
			ep:   graph.Endpoint{Kind: graph.Anywhere},
			want: "any address",
		},
		"cidr": {
			ep:   graph.Endpoint{Kind: graph.CIDR, CIDR: "10.1.0.0/16"},
			want: "10.1.0.0/16",
		},
		"cidr with excepts": {
			ep:   graph.Endpoint{Kind: graph.CIDR, CIDR: "0.0.0.0/0", Except: []string{"10.0.0.0/8", "192.168.0.0/16"}},
			want: "0.0.0.0/0 except 10.0.0.0/8,192.168.0.0/16",
		},
		"pods with labels, in key order": {
			ep:   graph.Endpoint{Kind: graph.Pods, Namespace: "monitoring", Selector: map[string]string{"b": "2", "a": "1"}},
			want: "pods a=1,b=2 in namespace monitoring",
		},
		"every pod of a namespace": {
			ep:   graph.Endpoint{Kind: graph.Pods, Namespace: "shop"},
			want: "all pods in namespace shop",
		},
		"every pod of the release namespace": {
			ep:   graph.Endpoint{Kind: graph.Pods},
			want: "all pods in namespace (release namespace)",
		},
		"pods in every namespace": {
			ep:   graph.Endpoint{Kind: graph.Pods, NamespaceLabels: map[string]string{}, Selector: map[string]string{"app": "x"}},
			want: "pods app=x in every namespace",
		},
		"all pods of labelled namespaces": {
			ep:   graph.Endpoint{Kind: graph.Pods, Namespace: "ignored", NamespaceLabels: map[string]string{"team": "a"}},
			want: "all pods in namespaces team=a",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.ep.Describe())
		})
	}
}

func TestEndpointSelectable(t *testing.T) {
	tests := map[string]struct {
		ep   graph.Endpoint
		want bool
	}{
		"workload":                         {ep: deployment("shop", "api", map[string]string{"app": "api"}), want: true},
		"pods of one namespace":            {ep: graph.Endpoint{Kind: graph.Pods, Namespace: "shop"}, want: true},
		"pods of the release namespace":    {ep: graph.Endpoint{Kind: graph.Pods}, want: true},
		"pods of every namespace":          {ep: graph.Endpoint{Kind: graph.Pods, NamespaceLabels: map[string]string{}}, want: false},
		"pods of labelled namespaces":      {ep: graph.Endpoint{Kind: graph.Pods, NamespaceLabels: map[string]string{"team": "a"}}, want: false},
		"cidr":                             {ep: graph.Endpoint{Kind: graph.CIDR, CIDR: "10.0.0.0/8"}, want: false},
		"anywhere":                         {ep: graph.Endpoint{Kind: graph.Anywhere}, want: false},
		"workload with namespace selector": {ep: graph.Endpoint{Kind: graph.Workload, NamespaceLabels: map[string]string{}}, want: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.ep.Selectable())
		})
	}
}

func TestSame(t *testing.T) {
	web := map[string]string{"app": "web"}
	tests := map[string]struct {
		a, b graph.Endpoint
		want bool
	}{
		"same pods": {
			a:    graph.Endpoint{Kind: graph.Pods, Namespace: "shop", Selector: map[string]string{"app": "web"}, Name: "one"},
			b:    graph.Endpoint{Kind: graph.Pods, Namespace: "shop", Selector: map[string]string{"app": "web"}, Name: "other"},
			want: true,
		},
		"a workload and pods with its selector are different kinds": {
			a:    deployment("shop", "web", web),
			b:    graph.Endpoint{Kind: graph.Pods, Namespace: "shop", Selector: web},
			want: false,
		},
		"other labels": {
			a:    graph.Endpoint{Kind: graph.Pods, Namespace: "shop", Selector: web},
			b:    graph.Endpoint{Kind: graph.Pods, Namespace: "shop", Selector: map[string]string{"app": "api"}},
			want: false,
		},
		"other namespace": {
			a:    graph.Endpoint{Kind: graph.Pods, Namespace: "shop", Selector: web},
			b:    graph.Endpoint{Kind: graph.Pods, Namespace: "blog", Selector: web},
			want: false,
		},
		"one namespace versus every namespace": {
			a:    graph.Endpoint{Kind: graph.Pods, Selector: web},
			b:    graph.Endpoint{Kind: graph.Pods, Selector: web, NamespaceLabels: map[string]string{}},
			want: false,
		},
		"same namespace labels": {
			a:    graph.Endpoint{Kind: graph.Pods, NamespaceLabels: map[string]string{"team": "a"}},
			b:    graph.Endpoint{Kind: graph.Pods, NamespaceLabels: map[string]string{"team": "a"}},
			want: true,
		},
		"anywhere is anywhere whatever its name": {
			a:    graph.Endpoint{Kind: graph.Anywhere, Name: "kube-apiserver"},
			b:    graph.Endpoint{Kind: graph.Anywhere, Name: "any source"},
			want: true,
		},
		"anywhere is not a cidr": {
			a:    graph.Endpoint{Kind: graph.Anywhere},
			b:    graph.Endpoint{Kind: graph.CIDR, CIDR: "0.0.0.0/0"},
			want: false,
		},
		"same cidr and excepts": {
			a:    graph.Endpoint{Kind: graph.CIDR, CIDR: "0.0.0.0/0", Except: []string{"10.0.0.0/8"}},
			b:    graph.Endpoint{Kind: graph.CIDR, CIDR: "0.0.0.0/0", Except: []string{"10.0.0.0/8"}},
			want: true,
		},
		"other excepts": {
			a:    graph.Endpoint{Kind: graph.CIDR, CIDR: "0.0.0.0/0", Except: []string{"10.0.0.0/8"}},
			b:    graph.Endpoint{Kind: graph.CIDR, CIDR: "0.0.0.0/0"},
			want: false,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, graph.Same(tc.a, tc.b))
			assert.Equal(t, tc.want, graph.Same(tc.b, tc.a), "Same is symmetric")
		})
	}
}

func TestCovers(t *testing.T) {
	tests := map[string]struct {
		a, b graph.Endpoint
		want bool
	}{
		"fewer labels cover more": {
			a:    graph.Endpoint{Kind: graph.Pods, Namespace: "shop", Selector: map[string]string{"tier": "web"}},
			b:    graph.Endpoint{Kind: graph.Pods, Namespace: "shop", Selector: map[string]string{"tier": "web", "app": "cart"}},
			want: true,
		},
		"more labels do not cover fewer": {
			a:    graph.Endpoint{Kind: graph.Pods, Namespace: "shop", Selector: map[string]string{"tier": "web", "app": "cart"}},
			b:    graph.Endpoint{Kind: graph.Pods, Namespace: "shop", Selector: map[string]string{"tier": "web"}},
			want: false,
		},
		"every pod of the namespace covers a workload there": {
			a:    graph.Endpoint{Kind: graph.Pods, Namespace: "shop"},
			b:    deployment("shop", "cart", map[string]string{"app": "cart"}),
			want: true,
		},
		"another namespace is not covered": {
			a:    graph.Endpoint{Kind: graph.Pods, Namespace: "shop"},
			b:    deployment("blog", "cart", map[string]string{"app": "cart"}),
			want: false,
		},
		"namespace labels subset": {
			a:    graph.Endpoint{Kind: graph.Pods, NamespaceLabels: map[string]string{"team": "a"}},
			b:    graph.Endpoint{Kind: graph.Pods, NamespaceLabels: map[string]string{"team": "a", "env": "prod"}, Selector: map[string]string{"app": "x"}},
			want: true,
		},
		"every namespace covers labelled namespaces": {
			a:    graph.Endpoint{Kind: graph.Pods, NamespaceLabels: map[string]string{}},
			b:    graph.Endpoint{Kind: graph.Pods, NamespaceLabels: map[string]string{"team": "a"}},
			want: true,
		},
		"namespace labels versus one namespace falls back to Same": {
			a:    graph.Endpoint{Kind: graph.Pods, NamespaceLabels: map[string]string{}},
			b:    graph.Endpoint{Kind: graph.Pods, Namespace: "shop"},
			want: false,
		},
		"same cidr": {
			a:    graph.Endpoint{Kind: graph.CIDR, CIDR: "10.0.0.0/8"},
			b:    graph.Endpoint{Kind: graph.CIDR, CIDR: "10.0.0.0/8"},
			want: true,
		},
		"a wider cidr is not taken to cover": {
			a:    graph.Endpoint{Kind: graph.CIDR, CIDR: "0.0.0.0/0"},
			b:    graph.Endpoint{Kind: graph.CIDR, CIDR: "10.0.0.0/8"},
			want: false,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, graph.Covers(tc.a, tc.b))
		})
	}
}

func TestPortsString(t *testing.T) {
	udp := policy.Port("UDP", 53)
	rng := policy.Port("TCP", 8000)
	end := int32(8080)
	rng.EndPort = &end
	tests := map[string]struct {
		ports []networkingv1.NetworkPolicyPort
		want  string
	}{
		"none is every port": {want: "every port"},
		"numbers, names and protocols": {
			ports: []networkingv1.NetworkPolicyPort{policy.Port("TCP", 8080), udp, policy.NamedPort("TCP", "http")},
			want:  "TCP/8080, UDP/53, TCP/http",
		},
		"no protocol is TCP": {
			ports: []networkingv1.NetworkPolicyPort{{Port: policy.Port("TCP", 9090).Port}},
			want:  "TCP/9090",
		},
		"a range": {
			ports: []networkingv1.NetworkPolicyPort{rng},
			want:  "TCP/8000-8080",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, graph.PortsString(tc.ports))
		})
	}
}

func TestFromWorkload(t *testing.T) {
	w := &workload.Workload{Namespace: "shop", Name: "vault", Kind: "StatefulSet",
		Selector:  map[string]string{"app": "vault"},
		PodLabels: map[string]string{"app": "vault", "security-zone": "pci"}}
	ep := graph.FromWorkload(w, "security-zone")
	assert.Equal(t, graph.Workload, ep.Kind)
	assert.Equal(t, "shop", ep.Namespace)
	assert.Equal(t, "vault", ep.Name)
	assert.Equal(t, map[string]string{"app": "vault"}, ep.Selector)
	assert.Equal(t, "pci", ep.Zone)
	assert.Same(t, w, ep.Workload)
}
