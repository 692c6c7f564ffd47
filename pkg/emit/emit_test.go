package emit_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	goyaml "sigs.k8s.io/yaml/goyaml.v2"

	"github.com/tierwall/tierwall/pkg/emit"
	"github.com/tierwall/tierwall/pkg/policy"
)

func TestNeedsQuotes(t *testing.T) {
	tests := map[string]struct {
		in   string
		want bool
	}{
		// YAML 1.1 booleans, every spelling.
		"y": {"y", true}, "Y": {"Y", true}, "yes": {"yes", true}, "Yes": {"Yes", true}, "YES": {"YES", true},
		"n": {"n", true}, "N": {"N", true}, "no": {"no", true}, "No": {"No", true}, "NO": {"NO", true},
		"true": {"true", true}, "True": {"True", true}, "TRUE": {"TRUE", true},
		"false": {"false", true}, "False": {"False", true}, "FALSE": {"FALSE", true},
		"on": {"on", true}, "On": {"On", true}, "ON": {"ON", true},
		"off": {"off", true}, "Off": {"Off", true}, "OFF": {"OFF", true},
		// Null and the empty string.
		"null": {"null", true}, "Null": {"Null", true}, "NULL": {"NULL", true}, "tilde": {"~", true}, "empty": {"", true},
		// Merge key and value key of YAML 1.1.
		"merge": {"<<", true}, "value": {"=", true},
		// Numbers of YAML 1.1 and 1.2.
		"int": {"1", true}, "negative": {"-1", true}, "plus": {"+1", true}, "float": {"1.0", true},
		"leading dot": {".5", true}, "exponent": {"1e3", true}, "underscore": {"1_000", true},
		"hex": {"0x1F", true}, "octal 1.2": {"0o17", true}, "binary": {"0b101", true},
		"sexagesimal": {"1:20", true}, "inf": {".inf", true}, "negative inf": {"-.Inf", true}, "nan": {".NaN", true},
		// Anything starting with a digit is quoted: conservative, and harmless.
		"version-like": {"1.0.0", true}, "cidr": {"10.0.0.0/8", true}, "date": {"2024-01-01", true},
		// Plain strings.
		"word":          {"web", false},
		"yesterday":     {"yesterday", false},
		"no-prefix":     {"nope", false},
		"onion":         {"onion", false},
		"label key":     {"app.kubernetes.io/name", false},
		"dashed":        {"kube-dns", false},
		"trailing num":  {"v1", false},
		"named port":    {"http-metrics", false},
		"ipv6":          {"fd00::a/128", false},
		"dot word":      {".hidden", false},
		"mixed case no": {"nO", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, emit.NeedsQuotes(tc.in))
		})
	}
}

// TestEncodeQuotesForYAML11: every string that NeedsQuotes comes out quoted,
// so that a YAML 1.1 reader (go-yaml v2, PyYAML) reads back the same string.
func TestEncodeQuotesForYAML11(t *testing.T) {
	values := []string{"yes", "no", "on", "off", "y", "n", "true", "1.0", "1", "null", "~", "0x10", "1e3", "1_000", "web", "10.0.0.1/32"}
	labels := map[string]string{}
	for _, v := range values {
		labels["k-"+v] = v
	}
	g := policy.New("shop", "allow-x", labels, "reason")
	g.Policy.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{
		From: []networkingv1.NetworkPolicyPeer{policy.PodsInNamespace("yes", labels)},
	}}
	out, err := yaml.String(emit.Encode(g))
	require.NoError(t, err)

	var back struct {
		Spec struct {
			PodSelector struct {
				MatchLabels map[string]any `yaml:"matchLabels"`
			} `yaml:"podSelector"`
		} `yaml:"spec"`
	}
	require.NoError(t, goyaml.Unmarshal([]byte(out), &back), out)
	for _, v := range values {
		assert.Equal(t, v, back.Spec.PodSelector.MatchLabels["k-"+v], "label value %q read back by a YAML 1.1 reader", v)
	}
	assert.Contains(t, out, `kubernetes.io/metadata.name: "yes"`)
}

func TestEncodeKeyOrder(t *testing.T) {
	g := policy.New("shop", "allow-everything", map[string]string{"b": "2", "a": "1"}, "why: because")
	g.Policy.Spec.PolicyTypes = []networkingv1.PolicyType{policy.Ingress, policy.Egress}
	g.Policy.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{
		From: []networkingv1.NetworkPolicyPeer{
			policy.PodsInNamespace("monitoring", map[string]string{"app": "prometheus"}),
			{PodSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"web", "api"}},
				{Key: "canary", Operator: metav1.LabelSelectorOpDoesNotExist},
			}}},
		},
		Ports: []networkingv1.NetworkPolicyPort{policy.NamedPort("TCP", "metrics"), policy.Port("TCP", 8080)},
	}}
	end := int32(9000)
	p := policy.Port("TCP", 8000)
	p.EndPort = &end
	g.Policy.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{
		{To: []networkingv1.NetworkPolicyPeer{policy.CIDR("0.0.0.0/0", "10.0.0.0/8")}, Ports: []networkingv1.NetworkPolicyPort{p}},
		{Ports: []networkingv1.NetworkPolicyPort{{}}},
		{},
	}
	out, err := yaml.String(emit.Encode(g))
	require.NoError(t, err)
	assert.Equal(t, `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-everything
  namespace: shop
  labels:
    app.kubernetes.io/managed-by: tierwall
  annotations:
    tierwall.io/reason: 'why: because'
spec:
  podSelector:
    matchLabels:
      a: "1"
      b: "2"
  policyTypes:
  - Ingress
  - Egress
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: monitoring
      podSelector:
        matchLabels:
          app: prometheus
    - podSelector:
        matchExpressions:
        - key: tier
          operator: In
          values:
          - web
          - api
        - key: canary
          operator: DoesNotExist
    ports:
    - protocol: TCP
      port: metrics
    - protocol: TCP
      port: 8080
  egress:
  - to:
    - ipBlock:
        cidr: "0.0.0.0/0"
        except:
        - "10.0.0.0/8"
    ports:
    - protocol: TCP
      port: 8000
      endPort: 9000
  - ports:
    - {}
  - {}
`, out)
}

func TestEncodeReleaseNamespace(t *testing.T) {
	out, err := yaml.String(emit.Encode(policy.New("", "default-deny-all", nil, "r")))
	require.NoError(t, err)
	assert.NotContains(t, out, "namespace:", "a release-namespace policy lands wherever its objects land")
	assert.Contains(t, out, "podSelector: {}")
}

func TestSortObjects(t *testing.T) {
	objs := []emit.Object{
		{Kind: "NetworkPolicy", Namespace: "shop", Name: "default-deny-all"},
		{Kind: "NetworkPolicy", Namespace: "", Name: "allow-dns"},
		{Kind: "NetworkPolicy", Namespace: "payments", Name: "allow-dns"},
		{Kind: "NetworkPolicy", Namespace: "shop", Name: "allow-kube-api"},
		{Kind: "CiliumNetworkPolicy", Namespace: "shop", Name: "allow-kube-api"},
	}
	emit.SortObjects(objs)
	var got []string
	for _, o := range objs {
		got = append(got, o.Namespace+"/"+o.Name+"/"+o.Kind)
	}
	assert.Equal(t, []string{"/allow-dns/NetworkPolicy", "payments/allow-dns/NetworkPolicy",
		"shop/allow-kube-api/CiliumNetworkPolicy", "shop/allow-kube-api/NetworkPolicy", "shop/default-deny-all/NetworkPolicy"}, got,
		"by namespace, then name, then kind")
}
