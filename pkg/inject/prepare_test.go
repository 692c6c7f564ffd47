package inject_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/inject"
	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
)

// TestPreparedInputGivesSameOutput runs every golden case twice: on full
// nodes, and on objects prepared and compacted as large-input readers do.
// The generated objects and the findings must be the same.
func TestPreparedInputGivesSameOutput(t *testing.T) {
	dir := "../../testdata/fn"
	for _, name := range testutil.Cases(t, dir) {
		t.Run(name, func(t *testing.T) {
			if _, err := os.Stat(filepath.Join(dir, name, "errors.txt")); err == nil {
				t.Skip("errors case")
			}
			in, err := os.ReadFile(filepath.Join(dir, name, "input.yaml"))
			require.NoError(t, err)
			var fc *yaml.RNode
			if cfg, err := os.ReadFile(filepath.Join(dir, name, "config.yaml")); err == nil {
				fc = yaml.NewRNode(testutil.Docs(t, cfg)[0])
			}
			spec, _, err := v1alpha1.Load(fc)
			require.NoError(t, err)
			run := func(prepare bool) (string, string) {
				docs := testutil.Docs(t, in)
				objs := make([]manifest.Object, len(docs))
				for i, d := range docs {
					objs[i] = manifest.FromNode(i, d)
					if prepare {
						inject.Prepare(&objs[i], inject.ExtraKinds(spec))
					}
				}
				e := inject.Engine{Spec: spec}
				out, err := e.Run(objs)
				require.NoError(t, err)
				checked, _ := e.Verify(objs, out)
				results, err := yaml.Marshal(append(out.Results, checked...))
				require.NoError(t, err)
				return testutil.Stream(t, nodes(out)), string(results)
			}
			full, fullResults := run(false)
			prepared, preparedResults := run(true)
			assert.Equal(t, full, prepared)
			assert.Equal(t, fullResults, preparedResults)
		})
	}
}
