package cli_test

import (
	"bytes"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/cli"
	"github.com/tierwall/tierwall/pkg/inject"
	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
)

const functionGoldenDir = "../../testdata/fn"

// run feeds a ResourceList to the function and returns stdout, stderr and
// the exit code.
func runFunction(t *testing.T, rl []byte) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Main(nil, bytes.NewReader(rl), &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

type functionCase struct {
	dir    string
	items  []*yaml.Node
	config *yaml.Node
}

func loadFunctionCase(t *testing.T, name string) functionCase {
	dir := filepath.Join(functionGoldenDir, name)
	in, err := os.ReadFile(filepath.Join(dir, "input.yaml"))
	require.NoError(t, err)
	c := functionCase{dir: dir, items: testutil.Docs(t, in)}
	if cfg, err := os.ReadFile(filepath.Join(dir, "config.yaml")); err == nil {
		docs := testutil.Docs(t, cfg)
		require.Len(t, docs, 1, "config.yaml holds one document")
		c.config = docs[0]
	}
	return c
}

// outputItems parses a ResourceList written by the function.
func outputItems(t *testing.T, out string) ([]*yaml.Node, string) {
	t.Helper()
	docs := testutil.Docs(t, []byte(out))
	require.Len(t, docs, 1, "the function writes one ResourceList")
	results := ""
	if r := manifest.Lookup(docs[0], "results"); r != nil {
		results = testutil.String(t, r)
	}
	return manifest.Items(docs[0], "items"), results
}

func TestFunctionGolden(t *testing.T) {
	for _, name := range testutil.Cases(t, functionGoldenDir) {
		t.Run(name, func(t *testing.T) {
			c := loadFunctionCase(t, name)
			stdout, stderr, code := runFunction(t, testutil.ResourceList(t, c.items, c.config))
			errorsFile := filepath.Join(c.dir, "errors.txt")
			if want, err := os.ReadFile(errorsFile); err == nil {
				assert.NotEqual(t, 0, code, "an errors case must fail")
				for _, line := range strings.Split(strings.TrimSpace(string(want)), "\n") {
					if line = strings.TrimSpace(line); line != "" {
						assert.Regexp(t, line, stderr)
					}
				}
				// No half-written output: the items come back as they went in.
				items, results := outputItems(t, stdout)
				assert.Equal(t, testutil.Stream(t, c.items), testutil.Stream(t, items))
				assert.Contains(t, results, "severity: error")
				// The results themselves (severity, resourceRef, field) are golden too.
				testutil.Golden(t, filepath.Join(c.dir, "expected.yaml"), []byte(stdout))
				return
			}
			require.Equal(t, 0, code, "stderr: %s", stderr)
			testutil.Golden(t, filepath.Join(c.dir, "expected.yaml"), []byte(stdout))
		})
	}
}

// TestGoldenProperties checks, on every successful case: nothing lost,
// idempotence, and independence from input order.
func TestFunctionGoldenProperties(t *testing.T) {
	for _, name := range testutil.Cases(t, functionGoldenDir) {
		t.Run(name, func(t *testing.T) {
			c := loadFunctionCase(t, name)
			if _, err := os.Stat(filepath.Join(c.dir, "errors.txt")); err == nil {
				t.Skip("errors case: checked by TestGolden")
			}
			stdout, stderr, code := runFunction(t, testutil.ResourceList(t, c.items, c.config))
			require.Equal(t, 0, code, stderr)
			items, results := outputItems(t, stdout)
			// tierwall's own unedited earlier output is the one input that
			// goes: it is regenerated from the current input and config.
			var kept []*yaml.Node
			for i, in := range c.items {
				if !inject.Unedited(manifest.FromNode(i, in)) {
					kept = append(kept, in)
				}
			}
			require.GreaterOrEqual(t, len(items), len(kept))

			// Nothing lost: every other input item comes out, in order, unchanged.
			for i, in := range kept {
				assert.Equal(t, testutil.String(t, in), testutil.String(t, items[i]), "item %d changed", i)
			}
			generated := testutil.Stream(t, items[len(kept):])
			// Every generated object is tierwall's and says why it exists.
			for _, g := range items[len(kept):] {
				o := manifest.FromNode(0, g)
				assert.True(t, o.ManagedByTierwall(), "%s lacks tierwall's label", o.Ref())
				assert.NotEmpty(t, o.Annotations[manifest.ReasonAnnotation], "%s has no reason", o.Ref())
			}

			// Idempotence: the output fed back in comes out unchanged.
			again, stderr2, code := runFunction(t, testutil.ResourceList(t, items, c.config))
			require.Equal(t, 0, code, stderr2)
			items2, _ := outputItems(t, again)
			assert.Equal(t, testutil.Stream(t, items), testutil.Stream(t, items2), "second run changed the output")

			// Order independence: shuffled input, same generated objects and results.
			rng := rand.New(rand.NewSource(1))
			for round := 0; round < 3; round++ {
				shuffled := append([]*yaml.Node{}, c.items...)
				rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
				out, stderr3, code := runFunction(t, testutil.ResourceList(t, shuffled, c.config))
				require.Equal(t, 0, code, stderr3)
				items3, results3 := outputItems(t, out)
				var keptShuffled []*yaml.Node
				for i, in := range shuffled {
					if !inject.Unedited(manifest.FromNode(i, in)) {
						keptShuffled = append(keptShuffled, in)
					}
				}
				assert.Equal(t, testutil.Stream(t, keptShuffled), testutil.Stream(t, items3[:len(keptShuffled)]))
				assert.Equal(t, generated, testutil.Stream(t, items3[len(keptShuffled):]), "generated objects depend on input order")
				assert.Equal(t, results, results3, "results depend on input order")
			}
		})
	}
}
