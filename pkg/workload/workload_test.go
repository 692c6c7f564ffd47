package workload_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/workload"
)

func object(t *testing.T, s string) manifest.Object {
	t.Helper()
	var n yaml.Node
	require.NoError(t, yaml.Unmarshal([]byte(s), &n))
	return manifest.FromNode(0, &n)
}

// containers is a pod spec body shared by the table, indented for the template.
const containers = `
      containers:
        - name: app
          image: example/app:1.0
          ports:
            - name: http
              containerPort: 8080
`

func TestExtract(t *testing.T) {
	tests := map[string]struct {
		doc         string
		extra       []workload.Kind
		notWorkload bool
		selector    map[string]string
		podLabels   map[string]string
		annotations map[string]string
		ports       []workload.Port
		hostNetwork bool
		template    string // TemplateField("metadata")
	}{
		"Deployment: matchLabels, not template labels": {
			doc: `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web, version: v2, pod-template-hash: abc123}
      annotations: {prometheus.io/port: "9090"}
    spec:` + containers,
			selector:    map[string]string{"app": "web"},
			podLabels:   map[string]string{"app": "web", "version": "v2", "pod-template-hash": "abc123"},
			annotations: map[string]string{"prometheus.io/port": "9090"},
			ports:       []workload.Port{{Name: "http", Port: 8080, Protocol: "TCP"}},
			template:    "spec.template.metadata",
		},
		"Deployment with matchExpressions only: template labels without volatile ones": {
			doc: `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector:
    matchExpressions: [{key: app, operator: In, values: [web]}]
  template:
    metadata:
      labels: {app: web, pod-template-hash: abc123, controller-revision-hash: x}
    spec:` + containers,
			selector:  map[string]string{"app": "web"},
			podLabels: map[string]string{"app": "web", "pod-template-hash": "abc123", "controller-revision-hash": "x"},
			ports:     []workload.Port{{Name: "http", Port: 8080, Protocol: "TCP"}},
			template:  "spec.template.metadata",
		},
		"StatefulSet": {
			doc: `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db, statefulset.kubernetes.io/pod-name: db-0}}
    spec:
      containers:
        - name: db
          ports:
            - {name: pg, containerPort: 5432}
            - {containerPort: 9187}
`,
			selector:  map[string]string{"app": "db"},
			podLabels: map[string]string{"app": "db", "statefulset.kubernetes.io/pod-name": "db-0"},
			ports:     []workload.Port{{Name: "pg", Port: 5432, Protocol: "TCP"}, {Port: 9187, Protocol: "TCP"}},
			template:  "spec.template.metadata",
		},
		"DaemonSet on the host network": {
			doc: `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      hostNetwork: true
      containers:
        - name: agent
          ports: [{name: metrics, containerPort: 9100}]
`,
			selector:    map[string]string{"app": "agent"},
			podLabels:   map[string]string{"app": "agent"},
			ports:       []workload.Port{{Name: "metrics", Port: 9100, Protocol: "TCP"}},
			hostNetwork: true,
			template:    "spec.template.metadata",
		},
		"ReplicaSet": {
			doc: `apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs}
spec:
  selector: {matchLabels: {app: rs}}
  template:
    metadata: {labels: {app: rs}}
    spec: {containers: [{name: c}]}
`,
			selector:  map[string]string{"app": "rs"},
			podLabels: map[string]string{"app": "rs"},
			template:  "spec.template.metadata",
		},
		"ReplicationController: a plain selector map": {
			doc: `apiVersion: v1
kind: ReplicationController
metadata: {name: rc}
spec:
  selector: {app: rc}
  template:
    metadata: {labels: {app: rc, extra: x}}
    spec: {containers: [{name: c}]}
`,
			selector:  map[string]string{"app": "rc"},
			podLabels: map[string]string{"app": "rc", "extra": "x"},
			template:  "spec.template.metadata",
		},
		"Job: generated selector, template labels without job-name and controller-uid": {
			doc: `apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  template:
    metadata:
      labels: {app: migrate, job-name: migrate, controller-uid: u, batch.kubernetes.io/job-name: migrate, batch.kubernetes.io/controller-uid: u}
    spec:
      restartPolicy: Never
      containers: [{name: m}]
`,
			selector:  map[string]string{"app": "migrate"},
			podLabels: map[string]string{"app": "migrate", "job-name": "migrate", "controller-uid": "u", "batch.kubernetes.io/job-name": "migrate", "batch.kubernetes.io/controller-uid": "u"},
			template:  "spec.template.metadata",
		},
		"CronJob: the template under jobTemplate": {
			doc: `apiVersion: batch/v1
kind: CronJob
metadata: {name: report}
spec:
  schedule: "@daily"
  jobTemplate:
    spec:
      template:
        metadata:
          labels: {app: report}
          annotations: {prometheus.io/port: "9091"}
        spec:
          containers:
            - name: r
              ports: [{name: push, containerPort: 9091}]
`,
			selector:    map[string]string{"app": "report"},
			podLabels:   map[string]string{"app": "report"},
			annotations: map[string]string{"prometheus.io/port": "9091"},
			ports:       []workload.Port{{Name: "push", Port: 9091, Protocol: "TCP"}},
			template:    "spec.jobTemplate.spec.template.metadata",
		},
		"Pod: its own metadata": {
			doc: `apiVersion: v1
kind: Pod
metadata:
  name: debug
  labels: {app: debug, apps.kubernetes.io/pod-index: "0"}
  annotations: {note: x}
spec:
  containers:
    - name: d
      ports: [{name: dns, containerPort: 53, protocol: udp}]
`,
			selector:    map[string]string{"app": "debug"},
			podLabels:   map[string]string{"app": "debug", "apps.kubernetes.io/pod-index": "0"},
			annotations: map[string]string{"note": "x"},
			ports:       []workload.Port{{Name: "dns", Port: 53, Protocol: "UDP"}},
			template:    "metadata",
		},
		"ports of containers and native sidecars only, sorted, deduplicated": {
			doc: `apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      initContainers:
        - name: proxy
          restartPolicy: Always
          ports: [{name: envoy-metrics, containerPort: 15090}, {name: dns, containerPort: 53, protocol: UDP}]
        - name: migrate
          ports: [{name: init-metrics, containerPort: 9999}]
        - name: never
          restartPolicy: Never
          ports: [{name: never, containerPort: 9998}]
      containers:
        - name: api
          ports:
            - {name: metrics, containerPort: 9090}
            - {name: http, containerPort: 8080}
            - {name: dns-tcp, containerPort: 53}
        - name: twin
          ports:
            - {name: metrics, containerPort: 9090}
            - {containerPort: 0}
            - {containerPort: 70000}
            - {containerPort: "$(PORT)"}
`,
			selector:  map[string]string{"app": "api"},
			podLabels: map[string]string{"app": "api"},
			ports: []workload.Port{
				{Name: "dns-tcp", Port: 53, Protocol: "TCP"},
				{Name: "dns", Port: 53, Protocol: "UDP"},
				{Name: "http", Port: 8080, Protocol: "TCP"},
				{Name: "metrics", Port: 9090, Protocol: "TCP"},
				{Name: "envoy-metrics", Port: 15090, Protocol: "TCP"},
			},
			template: "spec.template.metadata",
		},
		"an extra kind from config": {
			doc: `apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, rollouts-pod-template-hash: x}}
    spec:` + containers,
			extra:     []workload.Kind{{Group: "argoproj.io", Kind: "Rollout", Template: []string{"spec", "template"}, Selector: []string{"spec", "selector"}}},
			selector:  map[string]string{"app": "web"},
			podLabels: map[string]string{"app": "web", "rollouts-pod-template-hash": "x"},
			ports:     []workload.Port{{Name: "http", Port: 8080, Protocol: "TCP"}},
			template:  "spec.template.metadata",
		},
		"the same kind in another group is no workload": {
			doc:         "apiVersion: example.com/v1\nkind: Deployment\nmetadata: {name: x}\n",
			notWorkload: true,
		},
		"a Rollout without the extra kind is no workload": {
			doc:         "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: x}\n",
			notWorkload: true,
		},
		"a Service is no workload": {
			doc:         "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {selector: {app: x}}\n",
			notWorkload: true,
		},
		"a template without labels or annotations": {
			doc: `apiVersion: batch/v1
kind: Job
metadata: {name: bare}
spec:
  template:
    spec: {containers: [{name: c}]}
`,
			selector:    map[string]string{},
			podLabels:   map[string]string{},
			annotations: map[string]string{},
			template:    "spec.template.metadata",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			o := object(t, tc.doc)
			w, ok := workload.Extract(o, "shop", tc.extra)
			if tc.notWorkload {
				assert.False(t, ok)
				return
			}
			require.True(t, ok)
			assert.Equal(t, o.Name, w.Name)
			assert.Equal(t, o.Kind, w.Kind)
			assert.Equal(t, "shop", w.Namespace)
			assert.Equal(t, tc.selector, w.Selector)
			assert.Equal(t, tc.podLabels, w.PodLabels)
			if tc.annotations == nil {
				tc.annotations = map[string]string{}
			}
			assert.Equal(t, tc.annotations, w.PodAnnotations)
			assert.Equal(t, tc.ports, w.Ports)
			assert.Equal(t, tc.hostNetwork, w.HostNetwork)
			assert.Equal(t, tc.template, w.TemplateField("metadata"))
		})
	}
}

func TestPortByName(t *testing.T) {
	w := workload.Workload{Ports: []workload.Port{{Name: "http", Port: 8080, Protocol: "TCP"}, {Port: 9000, Protocol: "TCP"}}}
	p, ok := w.PortByName("http")
	assert.True(t, ok)
	assert.Equal(t, int32(8080), p.Port)
	_, ok = w.PortByName("metrics")
	assert.False(t, ok)
}
