package policy_test

import (
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"

	"github.com/tierwall/tierwall/pkg/policy"
)

func printYAML(v any) {
	b, err := yaml.Marshal(v)
	if err != nil {
		panic(err)
	}
	fmt.Print(string(b))
}

// A policy selecting every pod of its namespace, with tierwall's label and
// the reason it exists.
func ExampleNew() {
	g := policy.New("shop", "default-deny-all", nil, "zero-trust baseline")
	g.Policy.Spec.PolicyTypes = []networkingv1.PolicyType{policy.Ingress, policy.Egress}
	printYAML(g.Policy)
	// Output:
	// apiVersion: networking.k8s.io/v1
	// kind: NetworkPolicy
	// metadata:
	//   annotations:
	//     tierwall.io/reason: zero-trust baseline
	//   labels:
	//     app.kubernetes.io/managed-by: tierwall
	//   name: default-deny-all
	//   namespace: shop
	// spec:
	//   podSelector: {}
	//   policyTypes:
	//   - Ingress
	//   - Egress
}

// Pods with given labels in a named namespace are ONE peer: both selectors
// in the same element, so they are ANDed (not every pod of the namespace).
func ExamplePodsInNamespace() {
	printYAML([]networkingv1.NetworkPolicyPeer{
		policy.PodsInNamespace("kube-system", map[string]string{"k8s-app": "kube-dns"}),
	})
	// Output:
	// - namespaceSelector:
	//     matchLabels:
	//       kubernetes.io/metadata.name: kube-system
	//   podSelector:
	//     matchLabels:
	//       k8s-app: kube-dns
}

// Every pod of a namespace, every pod with labels in the policy's own
// namespace, and an address range.
func ExampleNamespace() {
	printYAML([]networkingv1.NetworkPolicyPeer{
		policy.Namespace("monitoring"),
		policy.Pods(map[string]string{"app": "web"}),
		policy.Pods(nil),
		policy.CIDR("0.0.0.0/0", "10.0.0.0/8", "169.254.169.254/32"),
	})
	// Output:
	// - namespaceSelector:
	//     matchLabels:
	//       kubernetes.io/metadata.name: monitoring
	// - podSelector:
	//     matchLabels:
	//       app: web
	// - podSelector: {}
	// - ipBlock:
	//     cidr: 0.0.0.0/0
	//     except:
	//     - 10.0.0.0/8
	//     - 169.254.169.254/32
}

// Numbered and named ports; SortPorts orders numbers before names and drops
// duplicates.
func ExampleSortPorts() {
	printYAML(policy.SortPorts([]networkingv1.NetworkPolicyPort{
		policy.NamedPort("TCP", "metrics"),
		policy.Port("UDP", 53),
		policy.Port("TCP", 53),
		policy.NamedPort("TCP", "http-metrics"),
		policy.Port("TCP", 53),
		policy.Port("TCP", 8080),
	}))
	// Output:
	// - port: 53
	//   protocol: TCP
	// - port: 53
	//   protocol: UDP
	// - port: 8080
	//   protocol: TCP
	// - port: http-metrics
	//   protocol: TCP
	// - port: metrics
	//   protocol: TCP
}

// Names up to 63 characters are kept; longer ones become a prefix and a
// stable 8-hex-digit hash of the whole name, so that names sharing a long
// prefix stay distinct.
func ExampleName() {
	for _, n := range []string{
		"allow-monitoring-web",
		"allow-monitoring-customer-order-fulfilment-notification-dispatcher-eu-west-primary",
		"allow-monitoring-customer-order-fulfilment-notification-dispatcher-eu-west-standby",
	} {
		fmt.Printf("%d %s\n", len(policy.Name(n)), policy.Name(n))
	}
	// Output:
	// 20 allow-monitoring-web
	// 63 allow-monitoring-customer-order-fulfilment-notificatio-e915c3be
	// 63 allow-monitoring-customer-order-fulfilment-notificatio-83f93cf3
}
