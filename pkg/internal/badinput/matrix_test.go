package badinput_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	goyaml "sigs.k8s.io/yaml/goyaml.v2"

	"github.com/tierwall/tierwall/pkg/cli"
	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
)

// matrixDir holds one folder per case (see README.md there): the input
// (input.yaml, input.bin, or made in memory), optionally config.yaml,
// args.txt, env.txt, fn.input.yaml and equivalent.yaml, and for each front
// end either <fe>.expected.yaml or <fe>.errors.txt, fe being fn or
// postrender.
const matrixDir = "../../../testdata/bad-input"

// frontEnds are the two ways in.
var frontEnds = []string{"fn", "postrender"}

// inMemory makes the inputs too large to commit. Their golden files hold only
// what tierwall adds, not the input copied through.
var inMemory = map[string]func() []byte{
	"several-mb-document": severalMB,
	"deeply-nested-flow":  deeplyNested,
}

// binaryInputs are committed as input.bin and written by TestGoldenBinaryInputs
// under -update, so that nobody edits them by hand.
var binaryInputs = map[string]func() []byte{
	"binary-garbage": binaryGarbage,
}

// runTimeout bounds one run: a hang (alias expansion, deep nesting) fails
// the case instead of the whole test binary.
const runTimeout = 2 * time.Minute

type matrixCase struct {
	name, dir string
	// input is the stream the post-renderer reads.
	input []byte
	// inMemory inputs are not committed; goldens hold the additions only.
	inMemory bool
	config   []byte
	args     []string
	env      map[string]string
	// fnStdin is what the function reads: fn.input.yaml, the input itself
	// when it is a ResourceList or no YAML at all, else the input's
	// documents wrapped as items with config.yaml as functionConfig (what
	// kustomize and kpt send).
	fnStdin []byte
	// fnItems and fnConfig are fnStdin's items and functionConfig when it is
	// a ResourceList with a list of items (fnIsList).
	fnItems  []*yaml.Node
	fnConfig *yaml.Node
	fnIsList bool
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// lines reads the non-empty, non-comment lines of an optional file.
func lines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimRight(l, "\r"); strings.TrimSpace(l) != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// decodeAll parses a stream into its documents' roots (null documents left
// out), as kustomize's and kpt's readers do.
func decodeAll(data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(n.Content) == 0 || (n.Content[0].Kind == yaml.ScalarNode && n.Content[0].Tag == "!!null") {
			continue
		}
		out = append(out, n.Content[0])
	}
}

func isResourceList(n *yaml.Node) bool {
	return n != nil && n.Kind == yaml.MappingNode && manifest.String(n, "kind") == "ResourceList"
}

func loadCase(t *testing.T, name string) matrixCase {
	t.Helper()
	c := matrixCase{name: name, dir: filepath.Join(matrixDir, name), env: map[string]string{}}
	var err error
	switch {
	case exists(filepath.Join(c.dir, "input.yaml")):
		c.input, err = os.ReadFile(filepath.Join(c.dir, "input.yaml"))
	case exists(filepath.Join(c.dir, "input.bin")):
		c.input, err = os.ReadFile(filepath.Join(c.dir, "input.bin"))
	case inMemory[name] != nil:
		c.input, c.inMemory = inMemory[name](), true
	default:
		t.Fatalf("%s has no input.yaml, no input.bin and no generator", c.dir)
	}
	require.NoError(t, err)
	if exists(filepath.Join(c.dir, "config.yaml")) {
		c.config, err = os.ReadFile(filepath.Join(c.dir, "config.yaml"))
		require.NoError(t, err)
		c.args = append(c.args, "--config=config.yaml")
	}
	c.args = append(c.args, lines(t, filepath.Join(c.dir, "args.txt"))...)
	for _, l := range lines(t, filepath.Join(c.dir, "env.txt")) {
		k, v, ok := strings.Cut(l, "=")
		require.True(t, ok, "env.txt: %q is not KEY=VALUE", l)
		c.env[k] = v
	}

	docs, parseErr := decodeAll(c.input)
	switch {
	case exists(filepath.Join(c.dir, "fn.input.yaml")):
		c.fnStdin, err = os.ReadFile(filepath.Join(c.dir, "fn.input.yaml"))
		require.NoError(t, err)
	case parseErr != nil, len(docs) > 0 && isResourceList(docs[0]):
		c.fnStdin = c.input
	default:
		var fc *yaml.Node
		if c.config != nil {
			cfg, err := decodeAll(c.config)
			require.NoError(t, err, "config.yaml must parse to be a functionConfig")
			require.Len(t, cfg, 1, "config.yaml holds one document")
			fc = cfg[0]
		}
		c.fnStdin = testutil.ResourceList(t, docs, fc)
	}
	if in, err := decodeAll(c.fnStdin); err == nil && len(in) > 0 && isResourceList(in[0]) {
		items := manifest.Lookup(in[0], "items")
		if items == nil || items.Kind == yaml.SequenceNode {
			c.fnIsList = true
			c.fnItems = manifest.Items(in[0], "items")
			c.fnConfig = manifest.Lookup(in[0], "functionConfig")
		}
	}
	return c
}

// outcome is one run of a front end.
type outcome struct {
	stdout, stderr string
	code           int
}

// withTimeout runs f and fails the test when it does not return in time.
func withTimeout(t *testing.T, what string, f func() outcome) outcome {
	t.Helper()
	done := make(chan outcome, 1)
	go func() { done <- f() }()
	select {
	case o := <-done:
		return o
	case <-time.After(runTimeout):
		t.Fatalf("%s did not finish in %s", what, runTimeout)
		return outcome{}
	}
}

func (c matrixCase) function(t *testing.T, stdin []byte) outcome {
	t.Helper()
	return withTimeout(t, "the function", func() outcome {
		var stdout, stderr bytes.Buffer
		code := cli.Main(nil, bytes.NewReader(stdin), &stdout, &stderr)
		return outcome{stdout.String(), stderr.String(), code}
	})
}

func (c matrixCase) postrender(t *testing.T, stdin []byte) outcome {
	t.Helper()
	return withTimeout(t, "the post-renderer", func() outcome {
		var stdout, stderr bytes.Buffer
		code := cli.Command{
			Stdin: bytes.NewReader(stdin), Stdout: &stdout, Stderr: &stderr,
			Getenv: func(k string) string { return c.env[k] },
			ReadFile: func(p string) ([]byte, error) {
				if !filepath.IsAbs(p) {
					p = filepath.Join(c.dir, p)
				}
				return os.ReadFile(p)
			},
		}.PostRender(c.args)
		return outcome{stdout.String(), stderr.String(), code}
	})
}

func (c matrixCase) run(t *testing.T, fe string) outcome {
	if fe == "fn" {
		return c.function(t, c.fnStdin)
	}
	return c.postrender(t, c.input)
}

// cases lists the matrix's cases. Cases under _pending/ state outcomes the
// code does not give yet; BADINPUT_PENDING=1 runs them too.
func cases(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, name := range testutil.Cases(t, matrixDir) {
		if !strings.HasPrefix(name, "_") {
			out = append(out, name)
		}
	}
	if os.Getenv("BADINPUT_PENDING") == "1" {
		for _, name := range testutil.Cases(t, filepath.Join(matrixDir, "_pending")) {
			out = append(out, "_pending/"+name)
		}
	}
	return out
}

// TestGoldenBinaryInputs writes (under -update) or checks the committed binary
// inputs against their generators.
func TestGoldenBinaryInputs(t *testing.T) {
	for name, gen := range binaryInputs {
		testutil.Golden(t, filepath.Join(matrixDir, name, "input.bin"), gen())
	}
}

// TestGoldenMatrix runs every case through both front ends and checks the
// outcome the case's files state.
func TestGoldenMatrix(t *testing.T) {
	for _, name := range cases(t) {
		t.Run(name, func(t *testing.T) {
			c := loadCase(t, name)
			for _, fe := range frontEnds {
				t.Run(fe, func(t *testing.T) {
					o := c.run(t, fe)
					errorsFile := filepath.Join(c.dir, fe+".errors.txt")
					if exists(errorsFile) {
						c.checkFailure(t, fe, o, lines(t, errorsFile))
						return
					}
					require.Equal(t, 0, o.code, "the run failed: write %s with regexes for the message, or fix the bug.\nstderr:\n%s", errorsFile, o.stderr)
					for _, re := range lines(t, filepath.Join(c.dir, fe+".stderr.txt")) {
						assert.Regexp(t, re, o.stderr)
					}
					if fe == "fn" {
						c.checkFunctionOutput(t, o)
					} else {
						c.checkPostrenderOutput(t, o)
					}
				})
			}
		})
	}
}

// checkFailure: a non-zero exit, a message matching every regex, and no
// partial output (the post-renderer writes nothing; the function writes
// nothing or its input items unchanged with error results).
func (c matrixCase) checkFailure(t *testing.T, fe string, o outcome, want []string) {
	t.Helper()
	require.NotEmpty(t, want, "%s.errors.txt lists regexes", fe)
	assert.NotEqual(t, 0, o.code, "the run must fail; stdout:\n%.2000s", o.stdout)
	for _, re := range want {
		assert.Regexp(t, re, o.stderr)
	}
	if fe == "postrender" {
		assert.Empty(t, o.stdout, "never partial output")
		return
	}
	if o.stdout == "" {
		return
	}
	docs, err := decodeAll([]byte(o.stdout))
	require.NoError(t, err)
	require.Len(t, docs, 1, "one ResourceList")
	require.True(t, isResourceList(docs[0]))
	items := manifest.Items(docs[0], "items")
	if c.fnIsList {
		assert.Equal(t, testutil.Stream(t, c.fnItems), testutil.Stream(t, items), "a failed run writes its input items unchanged, and nothing else")
	} else {
		assert.Empty(t, items, "stdin holds no list of items: a failed run writes none")
	}
	var errs int
	for _, r := range manifest.Items(docs[0], "results") {
		if manifest.String(r, "severity") == "error" {
			errs++
		}
	}
	assert.NotZero(t, errs, "a failed run says why in its results")
}

// checkPostrenderOutput: the input first, byte for byte; then only
// tierwall's policies, which YAML 1.1 readers read as written; the golden
// file; and a second run on the output changes nothing.
func (c matrixCase) checkPostrenderOutput(t *testing.T, o outcome) {
	t.Helper()
	var added string
	if len(bytes.TrimSpace(c.input)) == 0 {
		assert.Empty(t, o.stdout, "blank input gives empty output")
	} else {
		in := string(c.input)
		if !strings.HasSuffix(in, "\n") {
			in += "\n"
		}
		require.True(t, strings.HasPrefix(o.stdout, in), "the input must come out first and unchanged")
		added = o.stdout[len(in):]
	}
	docs, err := decodeAll([]byte(added))
	require.NoError(t, err, "the added documents parse")
	for _, d := range docs {
		assertGenerated(t, d)
	}
	assertYAML11Stream(t, added)
	golden := o.stdout
	if c.inMemory {
		golden = added
	}
	testutil.Golden(t, filepath.Join(c.dir, "postrender.expected.yaml"), []byte(golden))

	again := c.postrender(t, []byte(o.stdout))
	require.Equal(t, 0, again.code, again.stderr)
	assert.Equal(t, o.stdout, again.stdout, "a second run changed the output")

	if eq, ok := c.equivalent(t); ok {
		e := c.postrender(t, eq)
		require.Equal(t, 0, e.code, "equivalent.yaml: %s", e.stderr)
		in := string(eq)
		if in != "" && !strings.HasSuffix(in, "\n") {
			in += "\n"
		}
		require.True(t, strings.HasPrefix(e.stdout, in))
		want, err := decodeAll([]byte(e.stdout[len(in):]))
		require.NoError(t, err)
		assert.Equal(t, testutil.Stream(t, want), testutil.Stream(t, docs), "the policies differ from those of equivalent.yaml")
	}
}

// equivalent returns the case's equivalent.yaml: a clean input that must
// give the same policies (the same objects without a BOM, CRLF, anchors,
// merge keys, JSON, empty documents...).
func (c matrixCase) equivalent(t *testing.T) ([]byte, bool) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(c.dir, "equivalent.yaml"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, false
	}
	require.NoError(t, err)
	return data, true
}

// checkFunctionOutput: one ResourceList whose first items are the input's,
// unchanged; then only tierwall's policies, read alike by YAML 1.1 readers;
// no error result; the golden file; and running on the output changes
// nothing.
func (c matrixCase) checkFunctionOutput(t *testing.T, o outcome) {
	t.Helper()
	require.True(t, c.fnIsList, "a successful run needs a ResourceList on stdin")
	docs, err := decodeAll([]byte(o.stdout))
	require.NoError(t, err)
	require.Len(t, docs, 1, "the function writes one ResourceList")
	rl := docs[0]
	require.True(t, isResourceList(rl))
	items := manifest.Items(rl, "items")
	require.GreaterOrEqual(t, len(items), len(c.fnItems), "items were dropped")
	for i, in := range c.fnItems {
		assert.Equal(t, testutil.String(t, in), testutil.String(t, items[i]), "item %d changed", i)
	}
	for _, it := range items[len(c.fnItems):] {
		assertGenerated(t, it)
	}
	for _, r := range manifest.Items(rl, "results") {
		assert.NotEqual(t, "error", manifest.String(r, "severity"), "an error result beside exit 0: %s", testutil.String(t, r))
	}
	assertYAML11ResourceList(t, o.stdout, rl, len(c.fnItems))

	golden := o.stdout
	if c.inMemory {
		golden = withoutInputItems(t, rl, len(c.fnItems))
	}
	testutil.Golden(t, filepath.Join(c.dir, "fn.expected.yaml"), []byte(golden))

	again := c.function(t, testutil.ResourceList(t, items, c.fnConfig))
	require.Equal(t, 0, again.code, again.stderr)
	docs2, err := decodeAll([]byte(again.stdout))
	require.NoError(t, err)
	require.Len(t, docs2, 1)
	assert.Equal(t, testutil.Stream(t, items), testutil.Stream(t, manifest.Items(docs2[0], "items")), "a second run changed the items")

	if eq, ok := c.equivalent(t); ok {
		eqDocs, err := decodeAll(eq)
		require.NoError(t, err)
		e := c.function(t, testutil.ResourceList(t, eqDocs, c.fnConfig))
		require.Equal(t, 0, e.code, "equivalent.yaml: %s", e.stderr)
		out, err := decodeAll([]byte(e.stdout))
		require.NoError(t, err)
		want := manifest.Items(out[0], "items")[len(eqDocs):]
		assert.Equal(t, testutil.Stream(t, want), testutil.Stream(t, items[len(c.fnItems):]), "the policies differ from those of equivalent.yaml")
	}
}

// withoutInputItems encodes the ResourceList with only the items tierwall added.
func withoutInputItems(t *testing.T, rl *yaml.Node, n int) string {
	t.Helper()
	cp := yaml.CopyYNode(rl)
	seq := manifest.Lookup(cp, "items")
	require.NotNil(t, seq)
	seq.Content = seq.Content[n:]
	return "# the input items are left out: this case's input is made by the test\n" + testutil.String(t, cp)
}

// assertGenerated checks that an added object is one of tierwall's policies.
func assertGenerated(t *testing.T, n *yaml.Node) {
	t.Helper()
	o := manifest.FromNode(0, n)
	assert.True(t, strings.HasSuffix(o.Kind, "NetworkPolicy") && o.ManagedByTierwall(), "%s %s is not a tierwall policy", o.Kind, o.Name)
}

// assertYAML11Stream reads a stream with a YAML 1.2 reader (kyaml) and a
// YAML 1.1 reader (go-yaml v2, as in PyYAML, Ruby and older tools): every
// string must be read as the same string by both (y, yes, on, 1.0, 0x1f
// and 1e3 are booleans and numbers to YAML 1.1 unless quoted).
func assertYAML11Stream(t *testing.T, s string) {
	t.Helper()
	v3 := yaml.NewDecoder(strings.NewReader(s))
	v2 := goyaml.NewDecoder(strings.NewReader(s))
	for i := 0; ; i++ {
		var a any
		var b any
		errA := v3.Decode(&a)
		errB := v2.Decode(&b)
		if errors.Is(errA, io.EOF) {
			assert.ErrorIs(t, errB, io.EOF, "the YAML 1.1 reader sees more documents")
			return
		}
		require.NoError(t, errA)
		require.NoError(t, errB, "document %d: the YAML 1.1 reader fails", i)
		sameStrings(t, fmt.Sprintf("document %d", i), a, b)
	}
}

// assertYAML11ResourceList does the same for the items after the first n
// and the results of the ResourceList the function wrote. It reads their
// text only: the input items may hold what a YAML 1.1 reader refuses
// (duplicate keys, alias bombs), which is not tierwall's to fix.
func assertYAML11ResourceList(t *testing.T, out string, rl *yaml.Node, n int) {
	t.Helper()
	lines := strings.SplitAfter(out, "\n")
	// next returns the line of the top-level key after key, or past the end.
	next := func(key string) int {
		for i := 0; i+2 < len(rl.Content); i += 2 {
			if rl.Content[i].Value == key {
				return rl.Content[i+2].Line
			}
		}
		return len(lines) + 1
	}
	items := manifest.Lookup(rl, "items")
	if items != nil && n < len(items.Content) {
		first := items.Content[n]
		start := first.Line
		if col := first.Column; col < 3 || !strings.HasPrefix(lines[start-1][col-3:], "- ") {
			start-- // the item's "-" stands alone on the line before
		}
		assertYAML11Stream(t, strings.Join(lines[start-1:next("items")-1], ""))
	}
	for i := 0; i+1 < len(rl.Content); i += 2 {
		if rl.Content[i].Value == "results" {
			assertYAML11Stream(t, strings.Join(lines[rl.Content[i].Line-1:next("results")-1], ""))
		}
	}
}

// sameStrings walks a (YAML 1.2) and b (YAML 1.1) together: every string of
// a, key or value, is the same string in b.
func sameStrings(t *testing.T, path string, a, b any) {
	t.Helper()
	switch x := a.(type) {
	case string:
		assert.Equal(t, x, b, "%s: a YAML 1.1 reader reads %#v for the string %q (quote it)", path, b, x)
	case map[string]any:
		m, ok := b.(map[any]any)
		if !assert.True(t, ok, "%s: not a mapping to the YAML 1.1 reader", path) {
			return
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v, ok := m[k]
			if !assert.True(t, ok, "%s: the YAML 1.1 reader reads the key %q as something else (quote it)", path, k) {
				continue
			}
			sameStrings(t, path+"."+k, x[k], v)
		}
	case []any:
		l, ok := b.([]any)
		if !assert.True(t, ok, "%s: not a list to the YAML 1.1 reader", path) || !assert.Len(t, l, len(x), path) {
			return
		}
		for i := range x {
			sameStrings(t, fmt.Sprintf("%s[%d]", path, i), x[i], l[i])
		}
	}
}

// TestMatrixShape: enough cases, each with one outcome per front end and no
// file the test does not read.
func TestMatrixShape(t *testing.T) {
	cases := cases(t)
	assert.GreaterOrEqual(t, len(cases), 40, "issue #10 asks for at least 40 cases")
	known := map[string]bool{"input.yaml": true, "input.bin": true, "config.yaml": true, "args.txt": true, "env.txt": true, "fn.input.yaml": true, "equivalent.yaml": true}
	for _, fe := range frontEnds {
		for _, f := range []string{".expected.yaml", ".errors.txt", ".stderr.txt"} {
			known[fe+f] = true
		}
	}
	for _, name := range cases {
		dir := filepath.Join(matrixDir, name)
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		for _, e := range entries {
			assert.True(t, known[e.Name()], "%s/%s: unknown file", name, e.Name())
		}
		for _, fe := range frontEnds {
			ok := exists(filepath.Join(dir, fe+".expected.yaml"))
			bad := exists(filepath.Join(dir, fe+".errors.txt"))
			assert.True(t, ok != bad || (testutil.Updating() && !bad), "%s: want exactly one of %s.expected.yaml and %s.errors.txt", name, fe, fe)
		}
		hasInput := exists(filepath.Join(dir, "input.yaml")) || exists(filepath.Join(dir, "input.bin")) || inMemory[name] != nil
		assert.True(t, hasInput, "%s has no input", name)
	}
}

// binaryGarbage is random bytes: NULs, invalid UTF-8, control characters.
func binaryGarbage() []byte {
	rng := rand.New(rand.NewSource(10))
	b := make([]byte, 2048)
	rng.Read(b)
	return b
}

// severalMB is a ConfigMap of about 6 MB (a 1 MB line among 5 MB of block
// text), then a Deployment.
func severalMB() []byte {
	var b bytes.Buffer
	b.WriteString("# Source: chart/templates/big.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n  namespace: shop\ndata:\n")
	b.WriteString("  one-line: \"")
	b.WriteString(strings.Repeat("0123456789abcdef", 1<<16))
	b.WriteString("\"\n  block: |\n")
	for i := 0; i < 80000; i++ {
		fmt.Fprintf(&b, "    line %06d of the block: the quick brown fox jumps over it\n", i)
	}
	b.WriteString("---\n# Source: chart/templates/web.yaml\n")
	b.WriteString(webDeployment)
	return b.Bytes()
}

// deeplyNested is a ConfigMap whose data value nests 100,000 flow lists.
func deeplyNested() []byte {
	return []byte(webDeployment + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\n  namespace: shop\ndata:\n  deep: " +
		strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "\n")
}

const webDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
        tier: frontend
    spec:
      containers:
      - name: web
        image: web:1
        ports:
        - name: http
          containerPort: 8080
`

// TestYAML11TrapsQuoted: the label values YAML 1.1 reads as booleans or
// numbers reach the output (from the workloads and from the configuration)
// and a YAML 1.1 reader reads them back as strings, through both front ends.
func TestYAML11TrapsQuoted(t *testing.T) {
	traps := []string{"y", "n", "yes", "no", "on", "off", "1.0", "0x1f", "1e3"}
	c := loadCase(t, "yaml11-label-values-quoted")
	for _, fe := range frontEnds {
		t.Run(fe, func(t *testing.T) {
			o := c.run(t, fe)
			require.Equal(t, 0, o.code, o.stderr)
			var docs []any
			if fe == "postrender" {
				dec := goyaml.NewDecoder(strings.NewReader(o.stdout))
				for {
					var d any
					if err := dec.Decode(&d); errors.Is(err, io.EOF) {
						break
					} else {
						require.NoError(t, err)
					}
					docs = append(docs, d)
				}
			} else {
				var rl map[any]any
				require.NoError(t, goyaml.Unmarshal([]byte(o.stdout), &rl))
				docs, _ = rl["items"].([]any)
			}
			seen := map[string]bool{}
			for _, d := range docs {
				m, _ := d.(map[any]any)
				if m["kind"] != "NetworkPolicy" {
					continue
				}
				collectMatchLabels(m, seen)
			}
			for _, v := range traps {
				assert.True(t, seen[v], "label value %q is not in the generated selectors as a string (seen: %v)", v, seen)
			}
		})
	}
}

// collectMatchLabels records the string values of every matchLabels below v.
func collectMatchLabels(v any, seen map[string]bool) {
	switch x := v.(type) {
	case map[any]any:
		for k, val := range x {
			if k == "matchLabels" {
				if ml, ok := val.(map[any]any); ok {
					for _, lv := range ml {
						if s, ok := lv.(string); ok {
							seen[s] = true
						}
					}
				}
			}
			collectMatchLabels(val, seen)
		}
	case []any:
		for _, e := range x {
			collectMatchLabels(e, seen)
		}
	}
}

// binaryCases also run through the built binaries, whose outcome must be
// the in-process one.
var binaryCases = []string{
	"binary-garbage",
	"crlf-line-endings",
	"empty-input",
	"several-mb-document",
	"config-invalid-label-values",
	"yaml11-label-values-quoted",
}

var buildOnce struct {
	sync.Once
	dir string
	err error
}

// binDir returns the folder of bin/tierwall and bin/tierwall-postrender:
// TIERWALL_BIN (make test builds them there), or a build of this tree.
func binDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("TIERWALL_BIN"); dir != "" {
		return dir
	}
	if testing.Short() {
		t.Skip("-short: no binary build (set TIERWALL_BIN to use built binaries)")
	}
	buildOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..", "..")
		dir, err := os.MkdirTemp("", "tierwall-badinput-")
		if err != nil {
			buildOnce.err = err
			return
		}
		for bin, pkg := range map[string]string{"tierwall": "./fn/tierwall", "tierwall-postrender": "./postrender/tierwall-postrender"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(dir, bin), pkg)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				buildOnce.err = fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
				return
			}
		}
		buildOnce.dir = dir
	})
	require.NoError(t, buildOnce.err)
	return buildOnce.dir
}

func TestMatrixBinaries(t *testing.T) {
	dir := binDir(t)
	for _, name := range binaryCases {
		t.Run(name, func(t *testing.T) {
			c := loadCase(t, name)
			for _, fe := range frontEnds {
				t.Run(fe, func(t *testing.T) {
					want := c.run(t, fe)
					bin, args, stdin := filepath.Join(dir, "tierwall"), []string(nil), c.fnStdin
					if fe == "postrender" {
						bin, args, stdin = filepath.Join(dir, "tierwall-postrender"), c.args, c.input
					}
					ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
					defer cancel()
					cmd := exec.CommandContext(ctx, bin, args...)
					cmd.Dir = c.dir // --config=config.yaml is relative to the case
					cmd.Env = []string{}
					for k, v := range c.env {
						cmd.Env = append(cmd.Env, k+"="+v)
					}
					cmd.Stdin = bytes.NewReader(stdin)
					var stdout, stderr bytes.Buffer
					cmd.Stdout, cmd.Stderr = &stdout, &stderr
					err := cmd.Run()
					code := 0
					var exit *exec.ExitError
					if errors.As(err, &exit) {
						code = exit.ExitCode()
					} else {
						require.NoError(t, err)
					}
					assert.Equal(t, want.code, code, "exit code")
					assert.Equal(t, want.stderr, stderr.String(), "stderr")
					assert.Equal(t, want.stdout, stdout.String(), "stdout differs from the in-process run")
				})
			}
		})
	}
}
