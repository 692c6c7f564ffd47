package emit

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/policy"
)

// TestEncoderBlocks: the trees an encoder takes from its blocks have full
// collections (an append to one never writes into the next one's slots),
// and a policy encoded again shares its spec's subtrees, not its metadata.
func TestEncoderBlocks(t *testing.T) {
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
	var trees []*yaml.Node
	for _, g := range []policy.Generated{full, policy.New("", "default-deny-all", nil, "r"), full, full} {
		n := enc.Encode(g)
		assert.Equal(t, String(Encode(g)), String(n), "what an encoder of its own writes")
		WithHash(n)
		var walk func(n *yaml.Node)
		walk = func(n *yaml.Node) {
			assert.Equal(t, len(n.Content), cap(n.Content), n.Value)
			for _, c := range n.Content {
				walk(c)
			}
		}
		walk(n)
		trees = append(trees, n)
	}
	for _, path := range [][]string{{"spec", "podSelector"}, {"spec", "policyTypes"}, {"metadata", "labels"}} {
		assert.Same(t, lookup(trees[0], path...), lookup(trees[2], path...), "%v", path)
	}
	for _, path := range [][]string{{"spec", "ingress"}, {"spec", "egress"}} {
		require.NotEmpty(t, lookup(trees[0], path...).Content)
		for i, rule := range lookup(trees[0], path...).Content {
			assert.Same(t, rule, lookup(trees[2], path...).Content[i], "%v[%d]", path, i)
		}
	}
	for _, path := range [][]string{{"metadata"}, {"metadata", "annotations"}, {"spec"}} {
		assert.NotSame(t, lookup(trees[0], path...), lookup(trees[2], path...), "%v", path)
	}
}

func lookup(n *yaml.Node, path ...string) *yaml.Node {
	for _, key := range path {
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}
