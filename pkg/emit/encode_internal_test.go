package emit

import (
	"testing"

	"github.com/stretchr/testify/assert"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/policy"
)

// TestEncodeCountsExactly: Encode's counting pass asks for exactly the
// nodes and content slots the tree takes, none left over and none taken
// one by one, whether its values are new to the encoder, recur within the
// policy or were met in an earlier one.
func TestEncodeCountsExactly(t *testing.T) {
	full := policy.New("shop", "allow-everything", map[string]string{"b": "yes", "app": "1", "c": "x"}, "why")
	full.Policy.Spec.PolicyTypes = []networkingv1.PolicyType{policy.Ingress, policy.Egress}
	end := int32(9000)
	p := policy.Port("TCP", 8000)
	p.EndPort = &end
	full.Policy.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{
		From: []networkingv1.NetworkPolicyPeer{
			policy.PodsInNamespace("monitoring", map[string]string{"app": "prometheus"}),
			{PodSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"web", "api"}},
				{Key: "canary", Operator: metav1.LabelSelectorOpDoesNotExist},
			}}},
		},
		Ports: []networkingv1.NetworkPolicyPort{policy.NamedPort("TCP", "metrics"), p, {}},
	}, {}}
	full.Policy.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{
		{To: []networkingv1.NetworkPolicyPeer{policy.CIDR("0.0.0.0/0", "10.0.0.0/8"), policy.CIDR("::/0")}},
	}
	enc := NewEncoder()
	// full again: its recurring values are known by then.
	for _, g := range []policy.Generated{full, policy.New("", "default-deny-all", nil, "r"), full, full} {
		clear(enc.newValues)
		clear(enc.newInts)
		count := builder{enc: enc, counting: true}
		count.policy(&g.Policy)
		b := builder{enc: enc, nodes: make([]yaml.Node, count.n), ptrs: make([]*yaml.Node, count.p)}
		n := b.policy(&g.Policy)
		assert.Empty(t, b.nodes, g.Policy.Name)
		assert.Empty(t, b.ptrs, g.Policy.Name)
		// With its hash, every collection is full: an append to one never
		// writes into the next one's slots.
		WithHash(n)
		var walk func(n *yaml.Node)
		walk = func(n *yaml.Node) {
			assert.Equal(t, len(n.Content), cap(n.Content), n.Value)
			for _, c := range n.Content {
				walk(c)
			}
		}
		walk(n)
	}
}
