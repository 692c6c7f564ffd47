package manifest_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/tierwall/tierwall/pkg/manifest"
)

// TestMergeKeys: labels and fields merged with YAML 1.1 merge keys are read
// as Kubernetes reads them (go-yaml v2): own keys first, then the merged
// mappings in order; a quoted "<<" is a plain key.
func TestMergeKeys(t *testing.T) {
	n := node(t, `
common: &common {app: web, team: shop, tier: backend}
extra: &extra {tier: frontend, zone: a, team: other}
metadata:
  labels:
    <<: [*common, *extra]
    tier: web
    "<<": quoted
spec:
  template: {<<: {metadata: {name: merged}}}
`)
	assert.Equal(t, map[string]string{"app": "web", "team": "shop", "tier": "web", "zone": "a", "<<": "quoted"},
		manifest.StringMap(n, "metadata", "labels"))
	assert.Equal(t, "shop", manifest.String(n, "metadata", "labels", "team"), "the first merged mapping wins")
	assert.Equal(t, "web", manifest.String(n, "metadata", "labels", "tier"), "own keys win")
	assert.Equal(t, "quoted", manifest.String(n, "metadata", "labels", "<<"))
	assert.Equal(t, "merged", manifest.String(n, "spec", "template", "metadata", "name"))
	assert.Empty(t, manifest.String(n, "metadata", "labels", "missing"))
}

// TestMergeKeysLinear: merging the same mappings over and over (a merge-key
// "billion laughs") is read in linear time.
func TestMergeKeysLinear(t *testing.T) {
	var b strings.Builder
	b.WriteString("a: &a {k0: v}\n")
	prev := "a"
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&b, "l%d: &l%d {<<: [%s]}\n", i, i, strings.TrimSuffix(strings.Repeat("*"+prev+", ", 10), ", "))
		prev = fmt.Sprintf("l%d", i)
	}
	fmt.Fprintf(&b, "top: {<<: *%s}\n", prev)
	n := node(t, b.String())
	start := time.Now()
	assert.Empty(t, manifest.String(n, "top", "missing"))
	assert.Equal(t, map[string]string{"k0": "v"}, manifest.StringMap(n, "top"))
	assert.Less(t, time.Since(start), 5*time.Second)
}
