package v1alpha1_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
)

// TestLoadNotAnObjectSaysWhat: a functionConfig that is no mapping says what it
// holds, instead of kyaml's "missing Resource metadata".
func TestLoadNotAnObjectSaysWhat(t *testing.T) {
	for in, want := range map[string]string{
		"tierwall please\n": `reading functionConfig: it holds the scalar "tierwall please", not an object: tierwall takes a tierwall.io/v1alpha1/TierWall or a v1/ConfigMap`,
		"[a, b]\n":          "reading functionConfig: it holds a list, not an object",
	} {
		_, _, err := v1alpha1.Load(parse(t, in))
		require.Error(t, err)
		assert.Contains(t, err.Error(), want)
	}
}

// TestLoadDuplicateKeys: every duplicate key is reported at its path (YAML
// decoding stops at the first, with a line and no path).
func TestLoadDuplicateKeys(t *testing.T) {
	_, src, err := v1alpha1.Load(parse(t, `apiVersion: tierwall.io/v1alpha1
kind: TierWall
metadata: {name: tw}
spec:
  dns: {profile: nodelocal}
  monitoring:
    podLabels: {app: a, app: b}
  allows:
  - {name: x, name: y}
  dns: {profile: kube-dns}
`))
	var fes v1alpha1.Errors
	require.ErrorAs(t, err, &fes)
	assert.Equal(t, "tw", src.Name)
	assert.Equal(t, v1alpha1.Errors{
		{Path: "spec.allows[0].name", Message: "duplicate key (lines 9 and 9): readers disagree on which value wins"},
		{Path: "spec.dns", Message: "duplicate key (lines 5 and 10): readers disagree on which value wins"},
		{Path: "spec.monitoring.podLabels.app", Message: "duplicate key (lines 7 and 7): readers disagree on which value wins"},
	}, fes)

	_, _, err = v1alpha1.Load(parse(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fi}\ndata:\n  dns.profile: a\n  dns.profile: b\n"))
	require.ErrorAs(t, err, &fes)
	assert.Equal(t, "data.dns.profile", fes[0].Path)
}

// TestLoadOddKeys: a null key, which decoding drops without a word, is an
// error; an empty key has a path that says so.
func TestLoadOddKeys(t *testing.T) {
	_, _, err := v1alpha1.Load(parse(t, "{apiVersion: tierwall.io/v1alpha1, kind: TierWall, metadata: {name: tw}, spec: {dns: {~: {profile: x}}, '': 1, monitoring: {podLabels: {a: 'bad value'}}}}\n"))
	var fes v1alpha1.Errors
	require.ErrorAs(t, err, &fes)
	require.Len(t, fes, 1, "%v", err)
	assert.Equal(t, "spec.dns.~", fes[0].Path)
	assert.Contains(t, fes[0].Message, "a key must be a string, got null")

	_, _, err = v1alpha1.Load(parse(t, "{apiVersion: tierwall.io/v1alpha1, kind: TierWall, metadata: {name: tw}, '': 0, spec: {'': 1, monitoring: {podLabels: {'': 'bad value'}}}}\n"))
	require.ErrorAs(t, err, &fes)
	var paths []string
	for _, fe := range fes {
		paths = append(paths, fe.Path)
	}
	assert.Equal(t, []string{`[""]`, "spec.monitoring.podLabels", "spec.monitoring.podLabels", `spec.monitoring.podLabels[""]`, `spec[""]`}, paths, "%v", err)
}
