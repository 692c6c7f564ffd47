package policy_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/tierwall/tierwall/pkg/policy"
)

func TestName(t *testing.T) {
	long := strings.Repeat("a", 70)
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:])[:8]
	}
	tests := map[string]struct {
		in, want string
	}{
		"short":         {in: "allow-dns", want: "allow-dns"},
		"exactly 63":    {in: strings.Repeat("b", 63), want: strings.Repeat("b", 63)},
		"64 is cut":     {in: strings.Repeat("c", 64), want: strings.Repeat("c", 54) + "-" + hash(strings.Repeat("c", 64))},
		"long":          {in: long, want: strings.Repeat("a", 54) + "-" + hash(long)},
		"no dash pair":  {in: strings.Repeat("d", 53) + "-" + strings.Repeat("e", 20), want: strings.Repeat("d", 53) + "-" + hash(strings.Repeat("d", 53)+"-"+strings.Repeat("e", 20))},
		"no dot-dash":   {in: strings.Repeat("f", 52) + ".-" + strings.Repeat("g", 20), want: strings.Repeat("f", 52) + "-" + hash(strings.Repeat("f", 52)+".-"+strings.Repeat("g", 20))},
		"empty is kept": {in: "", want: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := policy.Name(tc.in)
			assert.Equal(t, tc.want, got)
			assert.LessOrEqual(t, len(got), policy.MaxNameLength)
			if tc.in != "" {
				assert.Empty(t, validation.IsDNS1123Label(got), "a policy name is a DNS-1123 label")
			}
			assert.Equal(t, got, policy.Name(tc.in), "stable")
			assert.Equal(t, got, policy.Name(got), "a shortened name is kept as it is")
		})
	}
}

// TestNameDistinct: long names that differ only after the cut stay distinct.
func TestNameDistinct(t *testing.T) {
	prefix := "allow-monitoring-" + strings.Repeat("x", 60)
	seen := map[string]string{}
	for i := 0; i < 2000; i++ {
		in := fmt.Sprintf("%s-%d", prefix, i)
		got := policy.Name(in)
		require.Len(t, got, policy.MaxNameLength)
		if prev, ok := seen[got]; ok {
			t.Fatalf("%q and %q both shorten to %q", prev, in, got)
		}
		seen[got] = in
	}
}

func TestNewCopiesSelector(t *testing.T) {
	labels := map[string]string{"app": "web"}
	g := policy.New("shop", "allow-web", labels, "why")
	labels["app"] = "changed"
	assert.Equal(t, map[string]string{"app": "web"}, g.Policy.Spec.PodSelector.MatchLabels, "the selector does not alias the caller's map")
	assert.Equal(t, "why", g.Reason)
	assert.Equal(t, "why", g.Policy.Annotations["tierwall.io/reason"])

	all := policy.New("", "default-deny-all", map[string]string{}, "")
	assert.Nil(t, all.Policy.Spec.PodSelector.MatchLabels, "empty labels select every pod: podSelector {}")
	assert.Empty(t, all.Policy.Namespace, "the release namespace has no name")
}
