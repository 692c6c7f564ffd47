package cli_test

import (
	"bytes"
	"math/rand"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/tierwall/tierwall/pkg/cli"
	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/stream"
)

// postRenderGoldenDir holds one folder per case: input.yaml (the stream Helm sends),
// optionally args.txt (one argument per line), env.txt (KEY=VALUE lines) and
// files the arguments name (config.yaml), then either expected.yaml (stdout
// of a successful run; stderr.txt may add regexes stderr must match) or
// errors.txt (regexes the error must match).
const postRenderGoldenDir = "../../testdata/postrender"

// helm4FilenameAnnotation names, in Helm 4's error, the document it rejects.
const helm4FilenameAnnotation = "postrenderer.helm.sh/postrender-filename"

type postRenderCase struct {
	dir  string
	in   []byte
	args []string
	env  map[string]string
}

func loadPostRenderCase(t *testing.T, name string) postRenderCase {
	t.Helper()
	c := postRenderCase{dir: filepath.Join(postRenderGoldenDir, name), env: map[string]string{}}
	var err error
	c.in, err = os.ReadFile(filepath.Join(c.dir, "input.yaml"))
	require.NoError(t, err)
	c.args = append(c.args, caseLines(t, filepath.Join(c.dir, "args.txt"))...)
	for _, line := range caseLines(t, filepath.Join(c.dir, "env.txt")) {
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, "env.txt: %q is not KEY=VALUE", line)
		c.env[k] = v
	}
	return c
}

// lines reads the non-empty, non-comment lines of an optional file.
func caseLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// run runs the post-renderer (pkg/cli's command) as the binary would, with
// the case's environment only and files read from the case's folder.
func (c postRenderCase) run(t *testing.T, stdin []byte) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := cli.Command{
		Stdin: bytes.NewReader(stdin), Stdout: &stdout, Stderr: &stderr,
		Getenv: func(k string) string { return c.env[k] },
		ReadFile: func(p string) ([]byte, error) {
			if !filepath.IsAbs(p) {
				p = filepath.Join(c.dir, p)
			}
			return os.ReadFile(p)
		},
	}
	code := cmd.PostRender(c.args)
	return stdout.String(), stderr.String(), code
}

func (c postRenderCase) isError() bool {
	_, err := os.Stat(filepath.Join(c.dir, "errors.txt"))
	return err == nil
}

func TestPostRenderGolden(t *testing.T) {
	for _, name := range testutil.Cases(t, postRenderGoldenDir) {
		t.Run(name, func(t *testing.T) {
			c := loadPostRenderCase(t, name)
			stdout, stderr, code := c.run(t, c.in)
			if c.isError() {
				want := caseLines(t, filepath.Join(c.dir, "errors.txt"))
				require.NotEmpty(t, want, "errors.txt lists regexes")
				for _, re := range want {
					assert.Regexp(t, re, stderr)
				}
				if slices.Contains(c.args, "--helm4-plugin") {
					// Helm 4 hides stderr: the reason travels in stdout, exit 0.
					assert.Equal(t, 0, code)
					for _, re := range want {
						assert.Regexp(t, re, stdout)
					}
					assertErrorDocument(t, stdout)
					return
				}
				assert.NotEqual(t, 0, code, "an errors case must fail")
				assert.Empty(t, stdout, "never partial output")
				return
			}
			require.Equal(t, 0, code, "stderr: %s", stderr)
			for _, re := range caseLines(t, filepath.Join(c.dir, "stderr.txt")) {
				assert.Regexp(t, re, stderr)
			}
			testutil.Golden(t, filepath.Join(c.dir, "expected.yaml"), []byte(stdout))
		})
	}
}

// TestGoldenProperties checks, on every successful case: nothing lost byte
// for byte, only tierwall policies added, idempotence, and independence from
// the order of the input documents.
func TestPostRenderGoldenProperties(t *testing.T) {
	for _, name := range testutil.Cases(t, postRenderGoldenDir) {
		t.Run(name, func(t *testing.T) {
			c := loadPostRenderCase(t, name)
			if c.isError() {
				t.Skip("errors case: checked by TestGolden")
			}
			stdout, stderr, code := c.run(t, c.in)
			require.Equal(t, 0, code, stderr)

			// Nothing lost: the input comes out first, byte for byte.
			in := string(c.in)
			if strings.TrimSpace(in) == "" {
				if slices.Contains(c.args, "--helm4-plugin") {
					// Helm 4 rejects blank output: a comment, nothing to apply.
					s, err := stream.Parse([]byte(stdout))
					require.NoError(t, err)
					assert.True(t, strings.HasPrefix(stdout, "#"))
					assert.Empty(t, s.Objects)
					return
				}
				assert.Empty(t, stdout, "blank input gives empty output")
				return
			}
			if !strings.HasSuffix(in, "\n") {
				in += "\n"
			}
			require.True(t, strings.HasPrefix(stdout, in), "the input must come out unchanged and first")
			generated := stdout[len(in):]

			// Only tierwall's NetworkPolicies are added.
			added, err := stream.Parse([]byte(generated))
			require.NoError(t, err)
			for _, o := range added.Objects {
				assert.True(t, o.IsNetworkPolicy() && o.ManagedByTierwall(), "%s is not a tierwall policy", o.Ref())
			}

			// Idempotence: the output fed back comes out byte for byte.
			again, stderr2, code := c.run(t, []byte(stdout))
			require.Equal(t, 0, code, stderr2)
			assert.Equal(t, stdout, again, "a second run changed the output")

			// Order independence: shuffled documents, same policies.
			chunks := documents(c.in)
			rng := rand.New(rand.NewSource(1))
			for round := 0; round < 3; round++ {
				rng.Shuffle(len(chunks), func(i, j int) { chunks[i], chunks[j] = chunks[j], chunks[i] })
				shuffled := strings.Join(chunks, "")
				out, stderr3, code := c.run(t, []byte(shuffled))
				require.Equal(t, 0, code, stderr3)
				require.True(t, strings.HasPrefix(out, shuffled))
				assert.Equal(t, policiesOf(t, generated), policiesOf(t, out[len(shuffled):]), "generated policies depend on input order")
			}
		})
	}
}

// documents cuts a stream into documents that each start with a separator
// and end with a newline, so that they can be reordered.
func documents(in []byte) []string {
	var out []string
	for _, ch := range stream.Split(in) {
		s := string(ch.Raw)
		if !strings.HasPrefix(s, "---") {
			s = "---\n" + s
		}
		if !strings.HasSuffix(s, "\n") {
			s += "\n"
		}
		out = append(out, s)
	}
	return out
}

// policiesOf returns the documents of a generated stream without the
// separators that depend on what came before.
func policiesOf(t *testing.T, generated string) []string {
	t.Helper()
	s, err := stream.Parse([]byte(generated))
	require.NoError(t, err)
	var out []string
	for _, o := range s.Objects {
		out = append(out, testutil.String(t, o.Node))
	}
	return out
}

// assertErrorDocument checks the document a Helm 4 failure writes: one
// object whose kind Helm cannot read, carrying the message in the filename
// annotation, whose base name is not a template partial.
func assertErrorDocument(t *testing.T, out string) {
	t.Helper()
	s, err := stream.Parse([]byte(out))
	require.NoError(t, err)
	require.Len(t, s.Objects, 1)
	o := s.Objects[0]
	kind := manifest.Lookup(o.Node, "kind")
	require.NotNil(t, kind)
	assert.NotEqual(t, yaml.ScalarNode, kind.Kind, "kind must not be a string")
	name := o.Annotations[helm4FilenameAnnotation]
	assert.Contains(t, name, "tierwall-postrender: ")
	assert.False(t, strings.HasPrefix(path.Base(name), "_"), "Helm skips files whose base name starts with _")

	// What Helm 4 does with it (pkg/release/v1/util SortManifests): parse
	// the head into this struct and fail, naming the file.
	var head struct {
		Version  string `json:"apiVersion"`
		Kind     string `json:"kind,omitempty"`
		Metadata *struct {
			Name        string            `json:"name"`
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata,omitempty"`
	}
	assert.Error(t, sigsyaml.Unmarshal([]byte(out), &head), "Helm must fail to read the error document")
}
