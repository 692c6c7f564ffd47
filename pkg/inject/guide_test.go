package inject_test

import (
	"os"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierwall/tierwall/pkg/analysis"
	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/inject"
	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
)

// TestGuideConnectivity: the guide's three-tier example, with no config,
// comes out with exactly its connectivity: ingress-nginx -> frontend:80,
// frontend -> api:8080, api -> postgres:5432, DNS for every pod, nothing
// else (no flow between the tiers the chain skips, none back).
func TestGuideConnectivity(t *testing.T) {
	in, err := os.ReadFile("../../testdata/fn/guide-three-tier/input.yaml")
	require.NoError(t, err)
	docs := testutil.Docs(t, in)
	objs := make([]manifest.Object, len(docs))
	for i, d := range docs {
		objs[i] = manifest.FromNode(i, d)
	}
	spec := &v1alpha1.Spec{}
	spec.Default()
	out, err := inject.Engine{Spec: spec}.Run(objs)
	require.NoError(t, err)
	all := append([]manifest.Object{}, objs...)
	for i, obj := range out.Objects {
		n := obj.Node
		all = append(all, manifest.FromNode(len(objs)+i, n))
	}
	m := analysis.New(all, analysis.Options{Spec: spec})
	findings := m.Findings
	require.Empty(t, findings)

	var got []string
	for _, f := range m.Flows() {
		got = append(got, f.From.ID+" -> "+f.To.ID+" "+f.Ports.String())
	}
	sort.Strings(got)
	want := []string{
		"production/Deployment/api -> production/StatefulSet/postgres TCP/5432",
		"production/Deployment/api -> virtual/kube-system/kube-dns TCP/53, UDP/53",
		"production/Deployment/frontend -> production/Deployment/api TCP/8080",
		"production/Deployment/frontend -> virtual/kube-system/kube-dns TCP/53, UDP/53",
		"production/StatefulSet/postgres -> virtual/kube-system/kube-dns TCP/53, UDP/53",
		"virtual/ingress-nginx/ingress-controller -> production/Deployment/frontend TCP/80",
	}
	assert.Equal(t, want, got)
}
