package plumbing_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/plumbing"
)

func objects(t *testing.T, docs string) []manifest.Object {
	t.Helper()
	nodes := testutil.Docs(t, []byte(docs))
	objs := make([]manifest.Object, len(nodes))
	for i, n := range nodes {
		objs[i] = manifest.FromNode(i, n)
	}
	return objs
}

// derive reads docs with a defaulted spec, as the engine does.
func derive(t *testing.T, config func(*v1alpha1.Spec), docs string) plumbing.Output {
	t.Helper()
	spec := &v1alpha1.Spec{}
	if config != nil {
		config(spec)
	}
	spec.Default()
	require.NoError(t, spec.Validate(""))
	in, _ := plumbing.Read(spec, objects(t, docs))
	return plumbing.Derive(in)
}

// edgeLine writes an edge with what Render reads of it.
func edgeLine(e graph.Edge) string {
	var attrs []string
	for _, a := range []struct{ k, v string }{{"source", e.Source}, {"policy", e.Policy}, {"wide", e.Wide}} {
		if a.v != "" {
			attrs = append(attrs, a.k+"="+a.v)
		}
	}
	for _, f := range []struct {
		k string
		v bool
	}{{"api", e.APIServer}, {"skip-ingress", e.SkipIngress}, {"skip-egress", e.SkipEgress}} {
		if f.v {
			attrs = append(attrs, f.k)
		}
	}
	return fmt.Sprintf("%s -> %s %s [%s]", e.From.Describe(), e.To.Describe(), graph.PortsString(e.Ports), strings.Join(attrs, " "))
}

func edgeLines(edges []graph.Edge) []string {
	var out []string
	for _, e := range edges {
		out = append(out, edgeLine(e))
	}
	return out
}

func resultLines(rs framework.Results) []string {
	var out []string
	for _, r := range rs {
		out = append(out, string(r.Severity)+": "+r.Message)
	}
	return out
}

const shopNamespace = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
`

// operator is a Deployment of namespace shop running as ServiceAccount
// operator; podSpec is added to its pod spec.
func operator(podSpec string) string {
	return `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: operator, namespace: shop}
spec:
  selector: {matchLabels: {app: operator}}
  template:
    metadata: {labels: {app: operator}}
    spec:
      serviceAccountName: operator
      containers: [{name: op, image: example/operator:1}]
` + podSpec
}

const operatorSA = `---
apiVersion: v1
kind: ServiceAccount
metadata: {name: operator, namespace: shop}
`

const roleBinding = `---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: operator, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: operator}
subjects: [{kind: ServiceAccount, name: operator}]
`

const (
	apiPorts     = "TCP/443, TCP/6443"
	apiAnywhere  = "Deployment shop/operator -> the API server (any address) " + apiPorts + " [source=rbac policy=kube-api wide=api-egress-unscoped api skip-ingress]"
	unknownCNI   = `at any address, since the API server's addresses are not configured and on CNI "unknown" an ipBlock may not match them (set spec.cluster.apiServer.cidrs to narrow it)`
	apiWideWarn  = "warning: 1 workload(s) need the API server and get egress on " + apiPorts + " " + unknownCNI + ": Deployment shop/operator [api-egress-unscoped]"
	boundReason  = "ServiceAccount operator is a subject of RoleBinding shop/operator"
	operatorDocs = shopNamespace + operatorSA + roleBinding
)

func TestDeriveRBAC(t *testing.T) {
	tests := map[string]struct {
		config      func(*v1alpha1.Spec)
		docs        string
		wantEdges   []string
		wantResults []string
		wantWhy     []string
	}{
		"a RoleBinding subject without a namespace is of the binding's namespace": {
			docs:        operatorDocs + operator(""),
			wantEdges:   []string{apiAnywhere},
			wantResults: []string{apiWideWarn},
			wantWhy:     []string{boundReason},
		},
		"a RoleBinding of another namespace binds another ServiceAccount": {
			docs: shopNamespace + operator("") + `---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: operator, namespace: other}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: operator}
subjects: [{kind: ServiceAccount, name: operator}]
`,
		},
		"a ClusterRoleBinding names the subject's namespace": {
			docs: shopNamespace + operator("") + `---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: operator}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: operator}
subjects: [{kind: ServiceAccount, name: operator, namespace: shop}, {kind: User, name: alice}]
`,
			wantEdges:   []string{apiAnywhere},
			wantResults: []string{apiWideWarn},
			wantWhy:     []string{"ServiceAccount operator is a subject of ClusterRoleBinding operator"},
		},
		"a ClusterRoleBinding subject of another namespace": {
			docs: shopNamespace + operator("") + `---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: operator}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: operator}
subjects: [{kind: ServiceAccount, name: operator, namespace: ops}]
`,
		},
		"the group of a namespace's ServiceAccounts binds every workload there": {
			docs: shopNamespace + operator("") + `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: web}]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: all, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: view}
subjects: [{kind: Group, name: "system:serviceaccounts:shop"}, {kind: Group, name: "system:authenticated"}]
`,
			wantEdges: []string{
				"Deployment shop/operator -> the API server (any address) " + apiPorts + " [source=rbac policy=kube-api wide=api-egress-unscoped api skip-ingress]",
				"Deployment shop/web -> the API server (any address) " + apiPorts + " [source=rbac policy=kube-api wide=api-egress-unscoped api skip-ingress]",
			},
			wantResults: []string{
				"warning: RoleBinding shop/all binds the group system:serviceaccounts:shop, which holds every ServiceAccount of namespace shop: " +
					"every workload there with a token mounted gets API server egress (Deployment shop/operator, Deployment shop/web); bind the ServiceAccounts that need it instead",
				"warning: 2 workload(s) need the API server and get egress on " + apiPorts + " " + unknownCNI + ": Deployment shop/operator, Deployment shop/web [api-egress-unscoped]",
			},
			wantWhy: []string{
				"group system:serviceaccounts:shop is a subject of RoleBinding shop/all",
				"group system:serviceaccounts:shop is a subject of RoleBinding shop/all",
			},
		},
		"automount false on the pod": {
			docs: operatorDocs + operator("      automountServiceAccountToken: false\n"),
		},
		"automount false on the ServiceAccount": {
			docs: shopNamespace + roleBinding + operator("") + `---
apiVersion: v1
kind: ServiceAccount
metadata: {name: operator, namespace: shop}
automountServiceAccountToken: false
`,
		},
		"the pod's automount true overrides the ServiceAccount's false": {
			docs: shopNamespace + roleBinding + operator("      automountServiceAccountToken: true\n") + `---
apiVersion: v1
kind: ServiceAccount
metadata: {name: operator, namespace: shop}
automountServiceAccountToken: false
`,
			wantEdges:   []string{apiAnywhere},
			wantResults: []string{apiWideWarn},
			wantWhy:     []string{boundReason},
		},
		"a projected token mounts one whatever automount says": {
			docs: operatorDocs + operator(`      automountServiceAccountToken: false
      volumes: [{name: token, projected: {sources: [{serviceAccountToken: {path: token}}]}}]
`),
			wantEdges:   []string{apiAnywhere},
			wantResults: []string{apiWideWarn},
			wantWhy:     []string{boundReason + " and a projected serviceAccountToken volume mounts its token"},
		},
		"needs-api true without a binding": {
			docs: shopNamespace + strings.Replace(operator(""), "namespace: shop}", "namespace: shop, annotations: {tierwall.io/needs-api: \"true\"}}", 1),
			wantEdges: []string{
				"Deployment shop/operator -> the API server (any address) " + apiPorts + " [source=needs-api policy=kube-api wide=api-egress-unscoped api skip-ingress]",
			},
			wantResults: []string{apiWideWarn},
			wantWhy:     []string{`annotation tierwall.io/needs-api: "true" on Deployment operator`},
		},
		"needs-api true on the pod template": {
			docs: shopNamespace + strings.Replace(operator(""), "labels: {app: operator}}", "labels: {app: operator}, annotations: {tierwall.io/needs-api: \"true\"}}", 1),
			wantEdges: []string{
				"Deployment shop/operator -> the API server (any address) " + apiPorts + " [source=needs-api policy=kube-api wide=api-egress-unscoped api skip-ingress]",
			},
			wantResults: []string{apiWideWarn},
			wantWhy:     []string{`annotation tierwall.io/needs-api: "true" on Deployment operator`},
		},
		"needs-api false on a bound workload": {
			docs: operatorDocs + strings.Replace(operator(""), "namespace: shop}", "namespace: shop, annotations: {tierwall.io/needs-api: \"false\"}}", 1),
		},
		"needs-api of another value is an error": {
			docs:        operatorDocs + strings.Replace(operator(""), "namespace: shop}", "namespace: shop, annotations: {tierwall.io/needs-api: \"yes\"}}", 1),
			wantEdges:   []string{apiAnywhere},
			wantResults: []string{`error: tierwall.io/needs-api must be "true" or "false", not "yes"`, apiWideWarn},
			wantWhy:     []string{boundReason},
		},
		"rbac inference off": {
			config: func(s *v1alpha1.Spec) { s.Inference.RBAC = new(bool) },
			docs:   operatorDocs + operator(""),
		},
		"a host-network workload gets no policy": {
			docs: operatorDocs + operator("      hostNetwork: true\n"),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out := derive(t, tc.config, tc.docs)
			assert.Equal(t, tc.wantEdges, edgeLines(out.Edges))
			assert.Equal(t, tc.wantResults, resultLines(out.Results))
			var why []string
			for _, n := range out.Needs {
				assert.Equal(t, plumbing.NeedAPI, n.Kind)
				why = append(why, n.Why)
			}
			assert.Equal(t, tc.wantWhy, why)
		})
	}
}

func TestDeriveAPIEdges(t *testing.T) {
	docs := operatorDocs + operator("")
	tests := map[string]struct {
		config      func(*v1alpha1.Spec)
		wantEdges   []string
		wantResults []string
	}{
		"no addresses and an unknown CNI: any address, wide": {
			wantEdges:   []string{apiAnywhere},
			wantResults: []string{apiWideWarn},
		},
		"calico without addresses: every IPv4 and IPv6 address, wide": {
			config: func(s *v1alpha1.Spec) { s.Cluster.CNI = v1alpha1.CNICalico },
			wantEdges: []string{
				"Deployment shop/operator -> 0.0.0.0/0 " + apiPorts + " [source=rbac policy=kube-api wide=api-egress-unscoped api skip-ingress]",
				"Deployment shop/operator -> ::/0 " + apiPorts + " [source=rbac policy=kube-api wide=api-egress-unscoped api skip-ingress]",
			},
			wantResults: []string{"warning: 1 workload(s) need the API server and get egress on " + apiPorts +
				" at any address, since the API server's addresses are not configured (set spec.cluster.apiServer.cidrs to narrow it): Deployment shop/operator [api-egress-unscoped]"},
		},
		"the API server's addresses: those only, not wide": {
			config: func(s *v1alpha1.Spec) {
				s.Cluster.APIServer.CIDRs = []string{"10.0.0.1/32", "fd00::1/128"}
				s.Cluster.APIServer.Ports = []int32{6443}
			},
			wantEdges: []string{
				"Deployment shop/operator -> 10.0.0.1/32 TCP/6443 [source=rbac policy=kube-api api skip-ingress]",
				"Deployment shop/operator -> fd00::1/128 TCP/6443 [source=rbac policy=kube-api api skip-ingress]",
			},
		},
		"kubeAPI.cidrs fold into the profile": {
			config: func(s *v1alpha1.Spec) { s.KubeAPI.CIDRs = []string{"10.0.0.1/32"} },
			wantEdges: []string{
				"Deployment shop/operator -> 10.0.0.1/32 " + apiPorts + " [source=rbac policy=kube-api api skip-ingress]",
			},
		},
		"the cilium flavour: the kube-apiserver entity, not wide": {
			config: func(s *v1alpha1.Spec) { s.Flavor = v1alpha1.FlavorCilium },
			wantEdges: []string{
				"Deployment shop/operator -> kube-apiserver " + apiPorts + " [source=rbac policy=kube-api api skip-ingress]",
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out := derive(t, tc.config, docs)
			assert.Equal(t, tc.wantEdges, edgeLines(out.Edges))
			assert.Equal(t, tc.wantResults, resultLines(out.Results))
			require.Len(t, out.Needs, 1)
			assert.Equal(t, "operator", out.Needs[0].Workload.Name)
			assert.Equal(t, "RoleBinding", out.Needs[0].Object.Kind)
			assert.Equal(t, "subjects[0]", out.Needs[0].Field)
		})
	}
}

// webhookBackend is a Deployment serving a webhook on container port 9443,
// behind Service hooks port 443 -> targetPort webhook.
const webhookBackend = shopNamespace + `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: hooks, namespace: shop}
spec:
  selector: {matchLabels: {app: hooks}}
  template:
    metadata: {labels: {app: hooks}}
    spec: {automountServiceAccountToken: false, containers: [{name: h, image: h, ports: [{name: webhook, containerPort: 9443}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: hooks, namespace: shop}
spec: {selector: {app: hooks}, ports: [{port: 443, targetPort: webhook}]}
`

func webhookConfig(clientConfig string) string {
	return `---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: hooks}
webhooks:
- name: validate.example.com
  clientConfig: ` + clientConfig + "\n"
}

func TestDeriveWebhooks(t *testing.T) {
	const toHooks = " -> Deployment shop/hooks TCP/9443 [source=webhook policy=webhook"
	tests := map[string]struct {
		config      func(*v1alpha1.Spec)
		docs        string
		wantEdges   []string
		wantResults []string
		wantNeeds   int
	}{
		"a Service reference: the pod port behind the targetPort, open to any source": {
			docs:      webhookBackend + webhookConfig("{service: {namespace: shop, name: hooks, path: /validate}}"),
			wantEdges: []string{"any source" + toHooks + " wide=open-webhook-port skip-egress]"},
			wantResults: []string{"warning: webhook ports are open to every source, since the control plane's addresses are not configured: any pod or host that reaches them may call the webhook directly " +
				"(set spec.cluster.controlPlane.cidrs, and spec.cluster.cloud on GKE or AKS): Deployment shop/hooks port 9443 [open-webhook-port]"},
			wantNeeds: 1,
		},
		"a URL: no edge": {
			docs: webhookBackend + webhookConfig("{url: https://hooks.example.com/validate}"),
			wantResults: []string{"info: webhook validate.example.com of ValidatingWebhookConfiguration hooks calls a URL, not a Service of the input: " +
				"no allow is written for it (the API server calls it from outside the pods' policies)"},
		},
		"control-plane ranges: from those only": {
			config:    func(s *v1alpha1.Spec) { s.Cluster.ControlPlane.CIDRs = []string{"172.16.0.0/28"} },
			docs:      webhookBackend + webhookConfig("{service: {namespace: shop, name: hooks, port: 443}}"),
			wantEdges: []string{"172.16.0.0/28" + toHooks + " skip-egress]"},
			wantNeeds: 1,
		},
		"on GKE, the konnectivity-agent pods too": {
			config: func(s *v1alpha1.Spec) {
				s.Cluster.ControlPlane.CIDRs = []string{"172.16.0.0/28"}
				s.Cluster.Cloud = v1alpha1.CloudGKE
			},
			docs: webhookBackend + webhookConfig("{service: {namespace: shop, name: hooks}}"),
			wantEdges: []string{
				"172.16.0.0/28" + toHooks + " skip-egress]",
				"pods k8s-app=konnectivity-agent in namespace kube-system" + toHooks + " skip-egress]",
			},
			wantNeeds: 1,
		},
		"a conversion webhook of a CRD": {
			config: func(s *v1alpha1.Spec) { s.Cluster.ControlPlane.CIDRs = []string{"172.16.0.0/28"} },
			docs: webhookBackend + `---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  conversion: {strategy: Webhook, webhook: {clientConfig: {service: {namespace: shop, name: hooks}}}}
`,
			wantEdges: []string{"172.16.0.0/28" + toHooks + " skip-egress]"},
			wantNeeds: 1,
		},
		"a Service not in the input": {
			docs: webhookBackend + webhookConfig("{service: {namespace: shop, name: missing}}"),
			wantResults: []string{"info: webhook validate.example.com of ValidatingWebhookConfiguration hooks calls Service shop/missing, which is not in the input: " +
				"no allow is written for it (render it with its Service, or pass it as --context)"},
		},
		"a port the Service lacks": {
			docs: webhookBackend + webhookConfig("{service: {namespace: shop, name: hooks, port: 8443}}"),
			wantResults: []string{"warning: webhook validate.example.com of ValidatingWebhookConfiguration hooks calls Service shop/hooks on port 8443, which the Service does not have: " +
				"no allow is written for it"},
		},
		"webhook inference off": {
			config: func(s *v1alpha1.Spec) { s.Inference.Webhooks = new(bool) },
			docs:   webhookBackend + webhookConfig("{service: {namespace: shop, name: hooks}}"),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out := derive(t, tc.config, tc.docs)
			assert.Equal(t, tc.wantEdges, edgeLines(out.Edges))
			assert.Equal(t, tc.wantResults, resultLines(out.Results))
			require.Len(t, out.Needs, tc.wantNeeds)
			for _, n := range out.Needs {
				assert.Equal(t, plumbing.NeedWebhook, n.Kind)
				assert.Equal(t, "hooks", n.Workload.Name)
				require.Len(t, n.Ports, 1)
				assert.Equal(t, int32(9443), n.Ports[0].Port)
				assert.Equal(t, "webhook", n.Ports[0].Name)
			}
		})
	}
}

const ingress = `---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
`

// nginxController is an ingress-nginx controller of the input, named for
// IngressClass nginx by its argument.
const nginxController = `---
apiVersion: v1
kind: Namespace
metadata: {name: ingress-nginx}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: controller, namespace: ingress-nginx}
spec:
  selector: {matchLabels: {app.kubernetes.io/name: ingress-nginx}}
  template:
    metadata: {labels: {app.kubernetes.io/name: ingress-nginx}}
    spec:
      automountServiceAccountToken: false
      containers:
      - name: controller
        image: registry.k8s.io/ingress-nginx/controller:v1.11.0
        args: [--ingress-class=nginx, --publish-service=ingress-nginx/controller]
        ports: [{name: http, containerPort: 80}, {name: webhook, containerPort: 8443}]
---
apiVersion: v1
kind: Service
metadata: {name: controller, namespace: ingress-nginx}
spec: {selector: {app.kubernetes.io/name: ingress-nginx}, ports: [{port: 80, targetPort: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: controller-admission, namespace: ingress-nginx}
spec: {selector: {app.kubernetes.io/name: ingress-nginx}, ports: [{port: 443, targetPort: webhook}]}
`

const nginxClass = `---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}
`

func ingressObject(t *testing.T, objs []manifest.Object) manifest.Object {
	t.Helper()
	for _, o := range objs {
		if o.Kind == "Ingress" {
			return o
		}
	}
	require.FailNow(t, "no Ingress")
	return manifest.Object{}
}

func TestClassOf(t *testing.T) {
	tests := map[string]struct {
		docs      string
		class     string
		wantClass string
		wantHow   string
	}{
		"ingressClassName": {
			docs:      shopNamespace + strings.Replace(ingress, "spec:\n", "spec:\n  ingressClassName: traefik\n", 1),
			wantClass: "traefik", wantHow: "spec.ingressClassName",
		},
		"ingressClassName wins over the annotation": {
			docs: shopNamespace + strings.Replace(strings.Replace(ingress, "spec:\n", "spec:\n  ingressClassName: traefik\n", 1),
				"namespace: shop}", "namespace: shop, annotations: {kubernetes.io/ingress.class: nginx}}", 1),
			wantClass: "traefik", wantHow: "spec.ingressClassName",
		},
		"the legacy annotation": {
			docs:      shopNamespace + strings.Replace(ingress, "namespace: shop}", "namespace: shop, annotations: {kubernetes.io/ingress.class: internal}}", 1),
			wantClass: "internal", wantHow: "annotation kubernetes.io/ingress.class",
		},
		"the input's default class": {
			docs: shopNamespace + ingress + `---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: public, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}
spec: {controller: k8s.io/ingress-nginx}
`,
			wantClass: "public", wantHow: "the input's default IngressClass",
		},
		"no class": {
			docs: shopNamespace + ingress + nginxClass,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			spec := &v1alpha1.Spec{}
			spec.Default()
			objs := objects(t, tc.docs)
			in, _ := plumbing.Read(spec, objs)
			class, how := plumbing.Derive(in).Classes.ClassOf(ingressObject(t, objs))
			assert.Equal(t, tc.wantClass, class)
			assert.Equal(t, tc.wantHow, how)
		})
	}
}

func TestEntry(t *testing.T) {
	withClass := func(class string) string {
		return strings.Replace(ingress, "spec:\n", "spec:\n  ingressClassName: "+class+"\n", 1)
	}
	tests := map[string]struct {
		config func(*v1alpha1.Spec)
		docs   string
		want   []string
		how    string
		// note is the finding of the first call, "" for none; a second call
		// for the same class never repeats a warning.
		note string
	}{
		"the controller of the class is in the input": {
			docs: shopNamespace + withClass("nginx") + nginxClass + nginxController,
			want: []string{"Deployment ingress-nginx/controller"},
			how:  "class nginx (spec.ingressClassName), whose controller is in the input",
		},
		"a class of config spec.inference.ingressClasses": {
			config: func(s *v1alpha1.Spec) {
				s.Inference.IngressClasses = []v1alpha1.IngressClass{{Name: "internal", Namespace: "int-ingress", PodLabels: map[string]string{"app": "proxy"}}}
			},
			docs: shopNamespace + withClass("internal"),
			want: []string{"pods app=proxy in namespace int-ingress"},
			how:  "class internal (spec.ingressClassName), config spec.inference.ingressClasses",
		},
		"a well-known class is assumed, with a warning once": {
			docs: shopNamespace + withClass("traefik"),
			want: []string{"pods app.kubernetes.io/name=traefik in namespace traefik"},
			how:  "class traefik (spec.ingressClassName)",
			note: "warning: Ingresses of class traefik are assumed to be entered by pods app.kubernetes.io/name=traefik in namespace traefik, " +
				"the defaults of traefik.io/ingress-controller: set spec.inference.ingressClasses if its controller runs elsewhere",
		},
		"a class of the input names a well-known controller": {
			docs: shopNamespace + withClass("public") + `---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: public}
spec: {controller: k8s.io/ingress-nginx}
`,
			want: []string{"pods app.kubernetes.io/component=controller,app.kubernetes.io/name=ingress-nginx in namespace ingress-nginx"},
			how:  "class public (spec.ingressClassName)",
			note: "warning: Ingresses of class public are assumed to be entered by pods app.kubernetes.io/component=controller,app.kubernetes.io/name=ingress-nginx in namespace ingress-nginx, " +
				"the defaults of k8s.io/ingress-nginx: set spec.inference.ingressClasses if its controller runs elsewhere",
		},
		"no class at all: nginx is assumed": {
			docs: shopNamespace + ingress,
			want: []string{"pods app.kubernetes.io/component=controller,app.kubernetes.io/name=ingress-nginx in namespace ingress-nginx"},
			how:  "class nginx (no class named and no default IngressClass in the input, so the nginx class is assumed)",
			note: "warning: Ingresses of class nginx are assumed to be entered by pods app.kubernetes.io/component=controller,app.kubernetes.io/name=ingress-nginx in namespace ingress-nginx, " +
				"the defaults of k8s.io/ingress-nginx: set spec.inference.ingressClasses if its controller runs elsewhere",
		},
		"an unknown class": {
			docs: shopNamespace + withClass("partner-lb"),
			note: "warning: Ingress shop/web has class partner-lb (spec.ingressClassName), whose controller tierwall does not know: nothing is inferred for it; " +
				"map the class to its controller's pods in spec.inference.ingressClasses",
		},
		"config spec.inference.ingressControllers for every Ingress": {
			config: func(s *v1alpha1.Spec) {
				s.Inference.IngressControllers = []v1alpha1.Peer{{Namespace: "edge", PodLabels: map[string]string{"app": "envoy"}}}
			},
			docs: shopNamespace + withClass("partner-lb"),
			want: []string{"resolved {edge map[app:envoy]}"},
			how:  "config spec.inference.ingressControllers",
		},
	}
	resolve := func(p v1alpha1.Peer) []graph.Endpoint {
		return []graph.Endpoint{{Kind: graph.Anywhere, Name: fmt.Sprintf("resolved {%s %v}", p.Namespace, p.PodLabels)}}
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			spec := &v1alpha1.Spec{}
			if tc.config != nil {
				tc.config(spec)
			}
			spec.Default()
			objs := objects(t, tc.docs)
			in, _ := plumbing.Read(spec, objs)
			classes := plumbing.Derive(in).Classes
			ing := ingressObject(t, objs)
			eps, how, note := classes.Entry(ing, resolve)
			var got []string
			for _, e := range eps {
				got = append(got, e.Describe())
			}
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.how, how)
			if tc.note == "" {
				assert.Nil(t, note)
			} else if assert.NotNil(t, note) {
				assert.Equal(t, tc.note, string(note.Severity)+": "+note.Message)
			}
			// Asked again: the same pods, and an assumption is not repeated.
			eps2, _, note2 := classes.Entry(ing, resolve)
			assert.Len(t, eps2, len(eps))
			if tc.note != "" && tc.want != nil {
				assert.Nil(t, note2)
			}
		})
	}
}

func TestDeriveControllers(t *testing.T) {
	const ctrl = "Deployment ingress-nginx/controller"
	tests := map[string]struct {
		config      func(*v1alpha1.Spec)
		docs        string
		wantEdges   []string
		wantResults []string
	}{
		"a controller of the input: proxy egress, its published Service, the API server": {
			docs: nginxClass + nginxController,
			wantEdges: []string{
				ctrl + " -> all pods in every namespace every port [source=ingress-controller policy=proxy-egress wide=proxy-egress-all-pods skip-ingress]",
				"0.0.0.0/0 -> " + ctrl + " TCP/80 [source=ingress-controller skip-egress]",
				"::/0 -> " + ctrl + " TCP/80 [source=ingress-controller skip-egress]",
				ctrl + " -> the API server (any address) " + apiPorts + " [source=ingress-controller policy=kube-api wide=api-egress-unscoped api skip-ingress]",
			},
			wantResults: []string{
				"warning: ingress controllers get egress to pods in every namespace, on every port (their backends' own policies narrow it): " + ctrl + " [proxy-egress-all-pods]",
				"warning: 1 workload(s) need the API server and get egress on " + apiPorts + " " + unknownCNI + ": " + ctrl + " [api-egress-unscoped]",
			},
		},
		"external sources from config": {
			config: func(s *v1alpha1.Spec) {
				s.Inference.ExternalSources = []string{"203.0.113.0/24"}
				s.Cluster.APIServer.CIDRs = []string{"10.0.0.1/32"}
			},
			docs: nginxClass + nginxController,
			wantEdges: []string{
				ctrl + " -> all pods in every namespace every port [source=ingress-controller policy=proxy-egress wide=proxy-egress-all-pods skip-ingress]",
				"203.0.113.0/24 -> " + ctrl + " TCP/80 [source=ingress-controller skip-egress]",
				ctrl + " -> 10.0.0.1/32 " + apiPorts + " [source=ingress-controller policy=kube-api api skip-ingress]",
			},
			wantResults: []string{
				"warning: ingress controllers get egress to pods in every namespace, on every port (their backends' own policies narrow it): " + ctrl + " [proxy-egress-all-pods]",
			},
		},
		"without --publish-service no Service is an entry point": {
			config: func(s *v1alpha1.Spec) { s.Cluster.APIServer.CIDRs = []string{"10.0.0.1/32"} },
			docs:   nginxClass + strings.Replace(nginxController, ", --publish-service=ingress-nginx/controller", "", 1),
			wantEdges: []string{
				ctrl + " -> all pods in every namespace every port [source=ingress-controller policy=proxy-egress wide=proxy-egress-all-pods skip-ingress]",
				ctrl + " -> 10.0.0.1/32 " + apiPorts + " [source=ingress-controller policy=kube-api api skip-ingress]",
			},
			wantResults: []string{
				"warning: ingress controllers get egress to pods in every namespace, on every port (their backends' own policies narrow it): " + ctrl + " [proxy-egress-all-pods]",
			},
		},
		"no IngressClass in the input: a well-known image is a guess": {
			config: func(s *v1alpha1.Spec) { s.Cluster.APIServer.CIDRs = []string{"10.0.0.1/32"} },
			docs:   strings.Replace(nginxController, ", --publish-service=ingress-nginx/controller", "", 1),
			wantEdges: []string{
				ctrl + " -> all pods in every namespace every port [source=ingress-controller policy=proxy-egress wide=proxy-egress-all-pods skip-ingress]",
				ctrl + " -> 10.0.0.1/32 " + apiPorts + " [source=ingress-controller policy=kube-api api skip-ingress]",
			},
			wantResults: []string{
				"warning: Deployment controller is taken for an ingress controller: its image registry.k8s.io/ingress-nginx/controller:v1.11.0 looks like the k8s.io/ingress-nginx ingress controller " +
					"(a guess: no IngressClass of the input names it); add its IngressClass to the input or map it in spec.inference.ingressClasses",
				"warning: ingress controllers get egress to pods in every namespace, on every port (their backends' own policies narrow it): " + ctrl + " [proxy-egress-all-pods]",
			},
		},
		"proxies off": {
			config: func(s *v1alpha1.Spec) { s.Inference.Proxies = new(bool) },
			docs:   nginxClass + nginxController,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out := derive(t, tc.config, tc.docs)
			assert.Equal(t, tc.wantEdges, edgeLines(out.Edges))
			assert.Equal(t, tc.wantResults, resultLines(out.Results))
		})
	}
}

func TestDeriveStatefulSetPeers(t *testing.T) {
	sts := func(serviceName string) string {
		return `---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: shop}
spec:
  serviceName: ` + serviceName + `
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      automountServiceAccountToken: false
      containers: [{name: db, image: db, ports: [{name: sql, containerPort: 5432}, {name: gossip, containerPort: 7000}, {name: gossip-udp, containerPort: 7000, protocol: UDP}]}]
`
	}
	const headless = `---
apiVersion: v1
kind: Service
metadata: {name: db-headless, namespace: shop}
spec: {clusterIP: None, selector: {app: db}, ports: [{port: 5432, targetPort: sql}, {port: 8080}]}
`
	tests := map[string]struct {
		config      func(*v1alpha1.Spec)
		docs        string
		wantEdges   []string
		wantResults []string
	}{
		"the governing Service's target ports and the declared ports": {
			docs:      shopNamespace + sts("db-headless") + headless,
			wantEdges: []string{"StatefulSet shop/db -> StatefulSet shop/db TCP/5432, TCP/8080, TCP/7000, UDP/7000 [source=statefulset-peers]"},
		},
		"a governing Service not in the input": {
			docs:        shopNamespace + sts("db-missing") + headless,
			wantResults: []string{"info: StatefulSet db names Service db-missing, which is not in the input: its pods get no allow to each other"},
		},
		"peers off": {
			config: func(s *v1alpha1.Spec) { s.Inference.Peers = new(bool) },
			docs:   shopNamespace + sts("db-headless") + headless,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out := derive(t, tc.config, tc.docs)
			assert.Equal(t, tc.wantEdges, edgeLines(out.Edges))
			assert.Equal(t, tc.wantResults, resultLines(out.Results))
		})
	}
}

func TestDeriveNodeAgents(t *testing.T) {
	app := func(env string) string {
		return shopNamespace + `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: shop}
spec:
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      automountServiceAccountToken: false
      containers:
      - name: app
        image: app
        env:
        - {name: HOST_IP, valueFrom: {fieldRef: {fieldPath: status.hostIP}}}
` + env
	}
	const datadog = `        - {name: DD_TRACE_AGENT_PORT, value: "8126"}
        - {name: DD_DOGSTATSD_PORT, value: "8125"}
        - {name: LOG_LEVEL, value: "debug"}
`
	tests := map[string]struct {
		config      func(*v1alpha1.Spec)
		docs        string
		wantEdges   []string
		wantResults []string
	}{
		"a *_PORT variable beside the host address; STATSD is UDP": {
			docs:      app(datadog),
			wantEdges: []string{"Deployment shop/app -> the node (any address) TCP/8126, UDP/8125 [source=node-agent policy=node-agent wide=node-egress-unscoped skip-ingress]"},
		},
		"$(HOST_VAR):port in a value": {
			docs:      app("        - {name: OTEL_EXPORTER_OTLP_ENDPOINT, value: \"http://$(HOST_IP):4317\"}\n"),
			wantEdges: []string{"Deployment shop/app -> the node (any address) TCP/4317 [source=node-agent policy=node-agent wide=node-egress-unscoped skip-ingress]"},
		},
		"the nodes' addresses from the cluster profile": {
			config: func(s *v1alpha1.Spec) { s.Cluster.NodeCIDRs = []string{"192.168.10.0/24"} },
			docs:   app(datadog),
			wantEdges: []string{
				"Deployment shop/app -> 192.168.10.0/24 TCP/8126, UDP/8125 [source=node-agent policy=node-agent skip-ingress]",
			},
		},
		"no port: a warning and no edge": {
			docs: app(""),
			wantResults: []string{"warning: container app of Deployment app takes the node's address (HOST_IP from status.hostIP) but names no port with it: " +
				"no allow to a node-local agent is written; add spec.allows or an env *_PORT with the agent's port"},
		},
		"node agents off": {
			config: func(s *v1alpha1.Spec) { s.Inference.NodeAgents = new(bool) },
			docs:   app(datadog),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out := derive(t, tc.config, tc.docs)
			assert.Equal(t, tc.wantEdges, edgeLines(out.Edges))
			assert.Equal(t, tc.wantResults, resultLines(out.Results))
			for _, r := range out.Results {
				require.NotNil(t, r.Field)
				assert.Equal(t, "spec.template.spec.containers[0].env", r.Field.Path)
			}
		})
	}
}

func TestDeriveCloudIdentity(t *testing.T) {
	app := func(saAnnotation string) string {
		return shopNamespace + `---
apiVersion: v1
kind: ServiceAccount
metadata: {name: app, namespace: shop, annotations: {` + saAnnotation + `}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: shop}
spec:
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec: {serviceAccountName: app, containers: [{name: app, image: app}]}
`
	}
	tests := map[string]struct {
		config    func(*v1alpha1.Spec)
		docs      string
		wantEdges []string
	}{
		"EKS IAM roles: any public address on 443": {
			docs: app("eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/app"),
			wantEdges: []string{"Deployment shop/app -> 0.0.0.0/0 except 10.0.0.0/8,100.64.0.0/10,127.0.0.0/8,169.254.0.0/16,172.16.0.0/12,192.168.0.0/16 TCP/443 " +
				"[source=cloud-identity skip-ingress]",
				"Deployment shop/app -> ::/0 except ::1/128,fc00::/7,fe80::/10 TCP/443 [source=cloud-identity skip-ingress]"},
		},
		"GKE Workload Identity: the metadata servers": {
			docs: app("iam.gke.io/gcp-service-account: app@project.iam.gserviceaccount.com"),
			wantEdges: []string{
				"Deployment shop/app -> 169.254.169.254/32 TCP/80 [source=cloud-identity skip-ingress]",
				"Deployment shop/app -> 169.254.169.252/32 TCP/988 [source=cloud-identity skip-ingress]",
			},
		},
		"Azure Workload Identity": {
			docs: app("azure.workload.identity/client-id: 00000000-0000-0000-0000-000000000000"),
			wantEdges: []string{"Deployment shop/app -> 0.0.0.0/0 except 10.0.0.0/8,100.64.0.0/10,127.0.0.0/8,169.254.0.0/16,172.16.0.0/12,192.168.0.0/16 TCP/443 " +
				"[source=cloud-identity skip-ingress]",
				"Deployment shop/app -> ::/0 except ::1/128,fc00::/7,fe80::/10 TCP/443 [source=cloud-identity skip-ingress]"},
		},
		"another annotation": {
			docs: app("example.com/owner: team-a"),
		},
		"cloud identity off": {
			config: func(s *v1alpha1.Spec) { s.Inference.CloudIdentity = new(bool) },
			docs:   app("eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/app"),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out := derive(t, tc.config, tc.docs)
			assert.Equal(t, tc.wantEdges, edgeLines(out.Edges))
			assert.Empty(t, out.Results)
		})
	}
}

func TestDeriveMesh(t *testing.T) {
	docs := func(nsMeta, podMeta string) string {
		return `apiVersion: v1
kind: Namespace
metadata: {name: shop` + nsMeta + `}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: shop}
spec:
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}` + podMeta + `}
    spec: {automountServiceAccountToken: false, containers: [{name: app, image: app, ports: [{containerPort: 8080}]}]}
`
	}
	const istiod = "Deployment shop/app -> pods app=istiod in namespace istio-system TCP/15012 [source=mesh skip-ingress]"
	tests := map[string]struct {
		config    func(*v1alpha1.Spec)
		docs      string
		wantEdges []string
	}{
		"a namespace labelled istio-injection": {
			docs:      docs(", labels: {istio-injection: enabled}", ""),
			wantEdges: []string{istiod},
		},
		"a namespace labelled with a revision": {
			docs:      docs(", labels: {istio.io/rev: canary}", ""),
			wantEdges: []string{istiod},
		},
		"the pod opts out": {
			docs: docs(", labels: {istio-injection: enabled}", ", annotations: {sidecar.istio.io/inject: \"false\"}"),
		},
		"the pod opts in by label": {
			docs:      docs("", `, labels: {app: app, sidecar.istio.io/inject: "true"}`),
			wantEdges: []string{istiod},
		},
		"ambient mode": {
			docs: docs(", labels: {istio.io/dataplane-mode: ambient}", ""),
			wantEdges: []string{
				"all pods in every namespace -> Deployment shop/app TCP/15008 [source=mesh skip-egress]",
				"Deployment shop/app -> all pods in every namespace TCP/15008 [source=mesh skip-ingress]",
				"169.254.7.127/32 -> Deployment shop/app TCP/8080 [source=mesh skip-egress]",
			},
		},
		"Linkerd by namespace annotation": {
			docs: docs(", annotations: {linkerd.io/inject: enabled}", ""),
			wantEdges: []string{
				"Deployment shop/app -> pods linkerd.io/control-plane-component=destination in namespace linkerd TCP/8086, TCP/8090 [source=mesh skip-ingress]",
				"Deployment shop/app -> pods linkerd.io/control-plane-component=identity in namespace linkerd TCP/8080 [source=mesh skip-ingress]",
			},
		},
		"Linkerd disabled on the pod": {
			docs: docs(", annotations: {linkerd.io/inject: enabled}", ", annotations: {linkerd.io/inject: disabled}"),
		},
		"no mesh": {
			docs: docs("", ""),
		},
		"mesh off": {
			config: func(s *v1alpha1.Spec) { s.Inference.Mesh = new(bool) },
			docs:   docs(", labels: {istio-injection: enabled}", ""),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			// The pod template's labels are replaced when a case sets them.
			d := strings.Replace(tc.docs, "labels: {app: app}, labels:", "labels:", 1)
			out := derive(t, tc.config, d)
			assert.Equal(t, tc.wantEdges, edgeLines(out.Edges))
			assert.Empty(t, out.Results)
		})
	}
}

func TestDeriveGenericPodTemplate(t *testing.T) {
	tests := map[string]struct {
		docs     string
		wantMsg  string
		wantSel  map[string]string
		wantNone bool
	}{
		"an unknown kind with a selector": {
			docs: shopNamespace + `---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, version: v2}}
    spec: {containers: [{name: web, image: web}]}
`,
			wantMsg: "Rollout web is a kind tierwall does not know, read as a workload by its pod template at spec.template (selector from spec.selector): " +
				"add it to spec.workloadKinds to say where its template and selector are",
			wantSel: map[string]string{"app": "web"},
		},
		"an unknown kind without a selector": {
			docs: shopNamespace + `---
apiVersion: apps.kruise.io/v1alpha1
kind: CloneSet
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: web}]}
`,
			wantMsg: "CloneSet web is a kind tierwall does not know, read as a workload by its pod template at spec.template (selector from its pod template's labels): " +
				"add it to spec.workloadKinds to say where its template and selector are",
			wantSel: map[string]string{"app": "web"},
		},
		"a kind of config spec.workloadKinds is no guess": {
			docs: shopNamespace + `---
apiVersion: example.com/v1
kind: Runner
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: web}]}
`,
			wantNone: true,
			wantSel:  map[string]string{"app": "web"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			spec := &v1alpha1.Spec{WorkloadKinds: []v1alpha1.WorkloadKind{{Group: "example.com", Kind: "Runner", Template: "spec.template"}}}
			spec.Default()
			in, _ := plumbing.Read(spec, objects(t, tc.docs))
			require.Len(t, in.Workloads, 1)
			assert.Equal(t, tc.wantSel, in.Workloads[0].Selector)
			out := plumbing.Derive(in)
			if tc.wantNone {
				assert.Empty(t, out.Results)
				return
			}
			require.Len(t, out.Results, 1)
			r := out.Results[0]
			assert.Equal(t, framework.Warning, r.Severity)
			assert.Equal(t, tc.wantMsg, r.Message)
			assert.Equal(t, map[string]string{"check": "unknown-pod-template"}, r.Tags)
			require.NotNil(t, r.Field)
			assert.Equal(t, "spec.template.spec", r.Field.Path)
		})
	}
}

func TestReadForeignNamespace(t *testing.T) {
	docs := shopNamespace + `---
apiVersion: v1
kind: ConfigMap
metadata: {name: dashboard, namespace: grafana}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: blog}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: blog}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: web}]}
`
	spec := &v1alpha1.Spec{}
	spec.Default()
	in, rs := plumbing.Read(spec, objects(t, docs))
	tests := map[string]struct {
		ns      string
		skipped string
	}{
		"no workload and no Namespace object: someone else's": {ns: "grafana", skipped: plumbing.Foreign},
		"a Namespace object of the input":                     {ns: "shop"},
		"a workload of the input":                             {ns: "blog"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ns, ok := in.Set.Get(tc.ns)
			require.True(t, ok)
			assert.Equal(t, tc.skipped, ns.Skipped)
			assert.Equal(t, tc.skipped == "", ns.InScope())
		})
	}
	assert.Contains(t, resultLines(rs), "info: namespace grafana skipped: "+plumbing.Foreign)
	require.Len(t, in.Workloads, 1)
	assert.Equal(t, "blog", in.Workloads[0].Namespace)
}

// TestReadLeavesOut: tierwall's own output and local-config objects are no
// input of the plumbing.
func TestReadLeavesOut(t *testing.T) {
	docs := shopNamespace + `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template: {metadata: {labels: {app: web}}, spec: {containers: [{name: web, image: web}]}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: local, namespace: shop, annotations: {config.kubernetes.io/local-config: "true"}}
spec:
  selector: {matchLabels: {app: local}}
  template: {metadata: {labels: {app: local}}, spec: {containers: [{name: l, image: l}]}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: old, namespace: shop, labels: {app.kubernetes.io/managed-by: tierwall}}
spec: {selector: {app: web}, ports: [{port: 80}]}
`
	spec := &v1alpha1.Spec{}
	spec.Default()
	in, _ := plumbing.Read(spec, objects(t, docs))
	require.Len(t, in.Workloads, 1)
	assert.Equal(t, "web", in.Workloads[0].Name)
	require.Len(t, in.Services, 1)
	assert.Equal(t, "web", in.Services[0].Name)
	assert.Equal(t, "shop", in.Services[0].Namespace)
}
