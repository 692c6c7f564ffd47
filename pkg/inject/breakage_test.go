package inject_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/check"
	"github.com/tierwall/tierwall/pkg/inject"
	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
)

// TestCheckCatchesBreakage: for every fixture of the plumbing and the
// fallback, tierwall check passes on tierwall's output and fails — with the
// check id of the need — once the policies of that need are taken away, as
// an app would break.
func TestCheckCatchesBreakage(t *testing.T) {
	tests := map[string]struct {
		fixture string
		// source is the tierwall.io/source whose policies are taken away.
		source string
		// want is the check id that must fail.
		want string
	}{
		"a controller loses the API server":               {fixture: "plumbing-rbac-api-access", source: "rbac", want: check.NeedsAPI},
		"a webhook loses the control plane":               {fixture: "plumbing-webhooks", source: "webhook", want: check.WebhookUnreachable},
		"an ingress controller loses the API":             {fixture: "plumbing-ingress-controller", source: "ingress-controller", want: check.NeedsAPI},
		"an app of compiled addresses loses its fallback": {fixture: "release-from-instance-label", source: "fallback", want: check.UnreachablePort},
		"callers in code lose their fallback":             {fixture: "fallback-callers", source: "fallback", want: check.UnreachablePort},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			objs, spec := fixture(t, tc.fixture)
			out, failed, err := inject.Engine{Spec: spec}.Process(objs)
			require.NoError(t, err)
			require.False(t, failed, "%v", out.Results)

			all := withOutput(objs, out, "")
			assert.Empty(t, errors(check.Objects(all, spec, check.Options{Reachability: true})), "tierwall's own output passes")

			broken := withOutput(objs, out, tc.source)
			require.Less(t, len(broken), len(all), "no policy has source %s", tc.source)
			rs := errors(check.Objects(broken, spec, check.Options{Reachability: true}))
			ids := map[string]bool{}
			for _, r := range rs {
				ids[r.Tags["check"]] = true
			}
			assert.True(t, ids[tc.want], "check does not catch the breakage with %s: %v", tc.want, rs)
		})
	}
}

// fixture reads a golden case's input and config.
func fixture(t *testing.T, name string) ([]manifest.Object, *v1alpha1.Spec) {
	t.Helper()
	dir := filepath.Join("..", "..", "testdata", "fn", name)
	in, err := os.ReadFile(filepath.Join(dir, "input.yaml"))
	require.NoError(t, err)
	docs := testutil.Docs(t, in)
	objs := make([]manifest.Object, len(docs))
	for i, d := range docs {
		objs[i] = manifest.FromNode(i, d)
	}
	spec := &v1alpha1.Spec{}
	spec.Default()
	return objs, spec
}

// withOutput is the input plus the generated objects, less those whose
// tierwall.io/source names drop.
func withOutput(objs []manifest.Object, out inject.Output, drop string) []manifest.Object {
	all := append([]manifest.Object{}, objs...)
	for _, obj := range out.Objects {
		n := obj.Node
		o := manifest.FromNode(len(all), n)
		if drop != "" && strings.Contains(","+o.Annotations[manifest.SourceAnnotation]+",", ","+drop+",") {
			continue
		}
		all = append(all, o)
	}
	return all
}

func errors(rs []*framework.Result) []*framework.Result {
	var out []*framework.Result
	for _, r := range rs {
		if r.Severity == "error" {
			out = append(out, r)
		}
	}
	return out
}
