package service_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/service"
	"github.com/tierwall/tierwall/pkg/workload"
)

// object parses one YAML document.
func object(t *testing.T, index int, doc string) manifest.Object {
	t.Helper()
	docs := testutil.Docs(t, []byte(doc))
	require.Len(t, docs, 1)
	return manifest.FromNode(index, docs[0])
}

func TestExtract(t *testing.T) {
	tests := map[string]struct {
		doc       string
		namespace string
		want      service.Service
		ok        bool
	}{
		"a ClusterIP Service, type and protocol defaulted": {
			doc: `apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports:
  - {name: http, port: 80, targetPort: http}
  - {port: 9090, targetPort: 9091, protocol: udp}
  - {port: 8443}
`,
			namespace: "shop",
			ok:        true,
			want: service.Service{Namespace: "shop", Name: "api", Type: "ClusterIP", Selector: map[string]string{"app": "api"},
				Ports: []service.Port{
					{Name: "http", Port: 80, Protocol: "TCP", TargetPort: "http"},
					{Port: 9090, Protocol: "UDP", TargetPort: "9091"},
					{Port: 8443, Protocol: "TCP"},
				}},
		},
		"the effective namespace is the one given": {
			doc: `apiVersion: v1
kind: Service
metadata: {name: api}
spec: {selector: {app: api}, ports: [{port: 80}]}
`,
			namespace: "release",
			ok:        true,
			want: service.Service{Namespace: "release", Name: "api", Type: "ClusterIP", Selector: map[string]string{"app": "api"},
				Ports: []service.Port{{Port: 80, Protocol: "TCP"}}},
		},
		"headless": {
			doc: `apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec: {clusterIP: None, selector: {app: db}, ports: [{port: 5432}]}
`,
			namespace: "shop",
			ok:        true,
			want: service.Service{Namespace: "shop", Name: "db", Type: "ClusterIP", Headless: true, Selector: map[string]string{"app": "db"},
				Ports: []service.Port{{Port: 5432, Protocol: "TCP"}}},
		},
		"a LoadBalancer with source ranges": {
			doc: `apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: LoadBalancer
  selector: {app: web}
  loadBalancerSourceRanges: [203.0.113.0/24, "198.51.100.7/32"]
  ports: [{port: 443, targetPort: 8443}]
`,
			namespace: "shop",
			ok:        true,
			want: service.Service{Namespace: "shop", Name: "web", Type: "LoadBalancer", Selector: map[string]string{"app": "web"},
				LoadBalancerSourceRanges: []string{"203.0.113.0/24", "198.51.100.7/32"},
				Ports:                    []service.Port{{Port: 443, Protocol: "TCP", TargetPort: "8443"}}},
		},
		"an ExternalName Service has no selector": {
			doc: `apiVersion: v1
kind: Service
metadata: {name: payments, namespace: shop}
spec: {type: ExternalName, externalName: api.payments.example.com}
`,
			namespace: "shop",
			ok:        true,
			want:      service.Service{Namespace: "shop", Name: "payments", Type: "ExternalName", ExternalName: "api.payments.example.com"},
		},
		"a port that is no number is left out": {
			doc: `apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {selector: {app: api}, ports: [{port: "{{ .Values.port }}"}, {port: 80}]}
`,
			namespace: "shop",
			ok:        true,
			want: service.Service{Namespace: "shop", Name: "api", Type: "ClusterIP", Selector: map[string]string{"app": "api"},
				Ports: []service.Port{{Port: 80, Protocol: "TCP"}}},
		},
		"not a Service": {
			doc: `apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
`,
		},
		"a Service of another group": {
			doc: `apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: api}
`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			o := object(t, 3, tc.doc)
			got, ok := service.Extract(o, tc.namespace)
			assert.Equal(t, tc.ok, ok)
			if !tc.ok {
				return
			}
			assert.Equal(t, o.Index, got.Object.Index)
			got.Object = manifest.Object{}
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestExtractPrepared: a Service read at read time keeps what it read once
// its node is dropped, and takes the effective namespace given later.
func TestExtractPrepared(t *testing.T) {
	o := object(t, 0, `apiVersion: v1
kind: Service
metadata: {name: api}
spec: {selector: {app: api}, ports: [{port: 80, targetPort: http}]}
`)
	service.Prepare(&o)
	o.Compact()
	require.Nil(t, o.Node)
	got, ok := service.Extract(o, "shop")
	require.True(t, ok)
	assert.Equal(t, "shop", got.Namespace)
	assert.Equal(t, "api", got.Name)
	assert.Equal(t, []service.Port{{Port: 80, Protocol: "TCP", TargetPort: "http"}}, got.Ports)
}

func TestSelects(t *testing.T) {
	w := workload.Workload{Namespace: "shop", Name: "api", PodLabels: map[string]string{"app": "api", "tier": "backend"}}
	tests := map[string]struct {
		svc  service.Service
		want bool
	}{
		"a subset of the pod labels": {
			svc:  service.Service{Namespace: "shop", Selector: map[string]string{"app": "api"}},
			want: true,
		},
		"every label": {
			svc:  service.Service{Namespace: "shop", Selector: map[string]string{"app": "api", "tier": "backend"}},
			want: true,
		},
		"a label the pods lack": {
			svc:  service.Service{Namespace: "shop", Selector: map[string]string{"app": "api", "version": "v2"}},
			want: false,
		},
		"another value": {
			svc:  service.Service{Namespace: "shop", Selector: map[string]string{"app": "web"}},
			want: false,
		},
		"another namespace": {
			svc:  service.Service{Namespace: "blog", Selector: map[string]string{"app": "api"}},
			want: false,
		},
		"no selector selects nothing": {
			svc:  service.Service{Namespace: "shop"},
			want: false,
		},
		"an empty selector selects nothing": {
			svc:  service.Service{Namespace: "shop", Selector: map[string]string{}},
			want: false,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.svc.Selects(w))
		})
	}
}

func TestTarget(t *testing.T) {
	w := workload.Workload{Namespace: "shop", Name: "api", Ports: []workload.Port{
		{Name: "http", Port: 8080, Protocol: "TCP"},
		{Name: "dns", Port: 5353, Protocol: "UDP"},
		{Name: "metrics", Port: 9090, Protocol: "TCP"},
	}}
	s := service.Service{Namespace: "shop", Name: "api"}
	tests := map[string]struct {
		port     service.Port
		want     workload.Port
		declared bool
		ok       bool
	}{
		"a number the pod declares": {
			port: service.Port{Port: 80, Protocol: "TCP", TargetPort: "8080"},
			want: workload.Port{Name: "http", Port: 8080, Protocol: "TCP"}, declared: true, ok: true,
		},
		"no targetPort is the Service port": {
			port: service.Port{Port: 9090, Protocol: "TCP"},
			want: workload.Port{Name: "metrics", Port: 9090, Protocol: "TCP"}, declared: true, ok: true,
		},
		"a number the pod does not declare": {
			port: service.Port{Port: 80, Protocol: "TCP", TargetPort: "8081"},
			want: workload.Port{Port: 8081, Protocol: "TCP"}, declared: false, ok: true,
		},
		"a declared number of another protocol is not declared": {
			port: service.Port{Port: 8080, Protocol: "UDP"},
			want: workload.Port{Port: 8080, Protocol: "UDP"}, declared: false, ok: true,
		},
		"a UDP number": {
			port: service.Port{Port: 53, Protocol: "UDP", TargetPort: "5353"},
			want: workload.Port{Name: "dns", Port: 5353, Protocol: "UDP"}, declared: true, ok: true,
		},
		"a name": {
			port: service.Port{Port: 80, Protocol: "TCP", TargetPort: "http"},
			want: workload.Port{Name: "http", Port: 8080, Protocol: "TCP"}, declared: true, ok: true,
		},
		"a name the pod does not declare": {
			port: service.Port{Port: 80, Protocol: "TCP", TargetPort: "web"},
			want: workload.Port{}, declared: false, ok: false,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, declared, ok := s.Target(tc.port, w)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.declared, declared)
			assert.Equal(t, tc.ok, ok)
		})
	}
}

func TestRef(t *testing.T) {
	assert.Equal(t, "Service shop/api", service.Service{Namespace: "shop", Name: "api"}.Ref())
	assert.Equal(t, "Service (release namespace)/api", service.Service{Name: "api"}.Ref())
}

func TestIndexSelecting(t *testing.T) {
	svc := func(index int, ns, name string, sel map[string]string) service.Service {
		return service.Service{Object: manifest.Object{Index: index}, Namespace: ns, Name: name, Selector: sel}
	}
	services := []service.Service{
		svc(4, "shop", "api-b", map[string]string{"tier": "backend"}),
		svc(1, "shop", "api-a", map[string]string{"app": "api", "tier": "backend"}),
		svc(2, "shop", "web", map[string]string{"app": "web"}),
		svc(3, "blog", "api", map[string]string{"app": "api"}),
		svc(5, "shop", "manual", nil),
	}
	ix := service.NewIndex(services)
	tests := map[string]struct {
		w    workload.Workload
		want []string
	}{
		"every Service selecting the pods, in input order": {
			w:    workload.Workload{Namespace: "shop", PodLabels: map[string]string{"app": "api", "tier": "backend"}},
			want: []string{"api-a", "api-b"},
		},
		"only those whose whole selector matches": {
			w:    workload.Workload{Namespace: "shop", PodLabels: map[string]string{"app": "api"}},
			want: nil,
		},
		"the namespace counts": {
			w:    workload.Workload{Namespace: "blog", PodLabels: map[string]string{"app": "api", "tier": "backend"}},
			want: []string{"api"},
		},
		"no labels, no Service": {
			w: workload.Workload{Namespace: "shop"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, s := range ix.Selecting(tc.w) {
				got = append(got, s.Name)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestPodsSelected(t *testing.T) {
	ws := []*workload.Workload{
		{Namespace: "shop", Name: "api-1", PodLabels: map[string]string{"app": "api", "tier": "backend"}},
		{Namespace: "shop", Name: "web", PodLabels: map[string]string{"app": "web", "tier": "frontend"}},
		{Namespace: "blog", Name: "api", PodLabels: map[string]string{"app": "api", "tier": "backend"}},
		{Namespace: "shop", Name: "api-2", PodLabels: map[string]string{"app": "api", "tier": "backend", "canary": "true"}},
		{Namespace: "shop", Name: "bare"},
	}
	pods := service.NewPods(ws)
	tests := map[string]struct {
		svc  service.Service
		want []string
	}{
		"every workload whose pods match, in index order": {
			svc:  service.Service{Namespace: "shop", Selector: map[string]string{"tier": "backend", "app": "api"}},
			want: []string{"api-1", "api-2"},
		},
		"the whole selector counts": {
			svc:  service.Service{Namespace: "shop", Selector: map[string]string{"app": "api", "canary": "true"}},
			want: []string{"api-2"},
		},
		"the namespace counts": {
			svc:  service.Service{Namespace: "blog", Selector: map[string]string{"app": "api"}},
			want: []string{"api"},
		},
		"a label no pod has": {
			svc: service.Service{Namespace: "shop", Selector: map[string]string{"app": "api", "version": "v2"}},
		},
		"no selector selects nothing": {
			svc: service.Service{Namespace: "shop"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, w := range pods.Selected(&tc.svc) {
				got = append(got, w.Name)
			}
			assert.Equal(t, tc.want, got)
			var every []string
			for _, w := range ws {
				if tc.svc.Selects(*w) {
					every = append(every, w.Name)
				}
			}
			assert.Equal(t, every, got, "what trying every workload finds")
		})
	}
}
