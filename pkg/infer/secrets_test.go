package infer_test

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/cli"
	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
)

// marker is in every credential and every Secret-only host name of the
// inference golden inputs.
const marker = "s3cr3t"

// userinfoRE finds the password of a URL's credentials.
var userinfoRE = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^/@\s:]*:([^@/\s]+)@`)

// TestNoCredentialCopied runs every inference golden input through the
// function and checks that no Secret value, no credential of a URL and no
// host name only a Secret holds appears in what tierwall writes: generated
// objects, results and stderr. The input objects come out unchanged (the
// Secrets with them), which also shows the check would see a copy.
func TestNoCredentialCopied(t *testing.T) {
	dirs, err := filepath.Glob("../../testdata/fn/infer-*")
	require.NoError(t, err)
	require.NotEmpty(t, dirs)
	withMarker := 0
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join(dir, "input.yaml"))
			require.NoError(t, err)
			items := testutil.Docs(t, in)
			var config *yaml.Node
			if cfg, err := os.ReadFile(filepath.Join(dir, "config.yaml")); err == nil {
				config = testutil.Docs(t, cfg)[0]
			}
			sensitive := secretValues(t, items)
			for _, m := range userinfoRE.FindAllStringSubmatch(string(in), -1) {
				sensitive = append(sensitive, m[1])
			}
			if strings.Contains(string(in), marker) {
				withMarker++
				sensitive = append(sensitive, marker)
			}

			var stdout, stderr bytes.Buffer
			code := cli.Main(nil, bytes.NewReader(testutil.ResourceList(t, items, config)), &stdout, &stderr)
			require.Equal(t, 0, code, stderr.String())
			rl := testutil.Docs(t, stdout.Bytes())
			require.Len(t, rl, 1)
			out := manifest.Items(rl[0], "items")
			require.GreaterOrEqual(t, len(out), len(items))
			written := testutil.Stream(t, out[len(items):]) + "\n" + stderr.String()
			if r := manifest.Lookup(rl[0], "results"); r != nil {
				written += "\n" + testutil.String(t, r)
			}
			passed := testutil.Stream(t, out[:len(items)])
			for _, s := range sensitive {
				if strings.Contains(string(in), s) {
					assert.Contains(t, passed, s, "the input objects come out unchanged")
				}
				assert.NotContains(t, written, s, "a credential or Secret value was copied")
				assert.NotContains(t, written, base64.StdEncoding.EncodeToString([]byte(s)))
			}
		})
	}
	assert.GreaterOrEqual(t, withMarker, 5, "the golden inputs carry credentials marked %q", marker)
}

// secretValues returns the values of the Secrets among items (stringData
// and decoded data) that are long enough to be told apart from names.
func secretValues(t *testing.T, items []*yaml.Node) []string {
	t.Helper()
	var out []string
	add := func(v string) {
		if v = strings.TrimSpace(v); len(v) >= 8 {
			out = append(out, v)
		}
	}
	for _, it := range items {
		if manifest.String(it, "kind") != "Secret" {
			continue
		}
		for _, v := range manifest.StringMap(it, "stringData") {
			add(v)
		}
		for _, v := range manifest.StringMap(it, "data") {
			d, err := base64.StdEncoding.DecodeString(v)
			require.NoError(t, err)
			add(string(d))
		}
	}
	return out
}
