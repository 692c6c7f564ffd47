package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDiffCommand: tierwall diff's inputs, formats, gates and exit codes.
func TestDiffCommand(t *testing.T) {
	cases := filepath.Join("..", "..", "testdata", "diff")
	old, widened := filepath.Join(cases, "widened-port", "old.yaml"), filepath.Join(cases, "widened-port", "new.yaml")
	same := filepath.Join(cases, "no-change", "new.yaml")
	stdin, err := os.ReadFile(old)
	require.NoError(t, err)
	tests := map[string]struct {
		stdin string
		args  []string
		code  int
		has   string // in stdout, or in stderr when code != 0
	}{
		"text":                     {args: []string{"diff", old, widened}, has: "tierwall diff: 0 added, 1 widened, 0 narrowed, 0 removed"},
		"no change":                {args: []string{"diff", old, same}, has: "tierwall diff: no change in connectivity"},
		"stdin as the old side":    {stdin: string(stdin), args: []string{"diff", "-", widened}, has: "+TCP/9100 (was TCP/9090)"},
		"folders":                  {args: []string{"diff", filepath.Join(cases, "no-change"), filepath.Join(cases, "no-change")}, has: "no change"},
		"markdown":                 {args: []string{"diff", "-o", "md", old, widened}, has: "## Connectivity changes"},
		"json":                     {args: []string{"diff", "-o", "json", old, widened}, has: `"kind": "ConnectivityDiff"`},
		"exit 0 by default":        {args: []string{"diff", widened, old}, has: "1 narrowed"},
		"--fail-on widened":        {args: []string{"diff", "--fail-on", "widened", old, widened}, code: ExitFailed, has: "tierwall diff: 1 widened flow (--fail-on widened)"},
		"--fail-on added passes":   {args: []string{"diff", "--fail-on", "added,removed", old, widened}, has: "1 widened"},
		"--fail-on any":            {args: []string{"diff", "--fail-on", "any", widened, old}, code: ExitFailed, has: "1 narrowed flow"},
		"--fail-on any, no change": {args: []string{"diff", "--fail-on", "any", old, same}, has: "no change"},
		"filtered away":            {args: []string{"diff", "--fail-on", "any", "--from", "shop/api", old, widened}, has: "no change in connectivity\nShown: from shop/api (1 changes left out)."},
		"unknown --fail-on":        {args: []string{"diff", "--fail-on", "renamed", old, widened}, code: ExitUsage, has: `--fail-on "renamed": use one of added, widened, narrowed, removed, any`},
		"one render":               {args: []string{"diff", old}, code: ExitUsage, has: "want two renders, OLD and NEW"},
		"stdin twice":              {args: []string{"diff", "-", "-"}, code: ExitUsage, has: "stdin can be one side only"},
		"unknown format":           {args: []string{"diff", "-o", "dot", old, widened}, code: ExitUsage, has: `-o "dot": use one of text, markdown, json`},
		"--in matching nothing":    {args: []string{"diff", "--in", "shopp", old, widened}, code: ExitUsage, has: `--in "shopp": no namespace of the input has that name`},
		"-n that changes nothing":  {args: []string{"diff", "-n", "shop", old, widened}, code: ExitUsage, has: "use --in shop"},
		"missing file":             {args: []string{"diff", old, "/nonexistent.yaml"}, code: ExitInput, has: "no such file"},
		"not YAML":                 {stdin: "kind: [", args: []string{"diff", old, "-"}, code: ExitInput, has: "reading stdin: document 0 (line 1"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := run(t, tc.stdin, tc.args...)
			require.Equal(t, tc.code, code, "stderr: %s", errOut)
			if tc.code == ExitOK {
				assert.Contains(t, out, tc.has)
			} else {
				assert.Contains(t, errOut, tc.has)
			}
		})
	}
	// --json-out: the complete JSON beside any format.
	file := filepath.Join(t.TempDir(), "diff.json")
	_, errOut, code := run(t, "", "diff", "--json-out", file, old, widened)
	require.Equal(t, 0, code, errOut)
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	var doc struct {
		Summary map[string]int `json:"summary"`
	}
	require.NoError(t, json.Unmarshal(data, &doc))
	assert.Equal(t, 1, doc.Summary["widened"])
}

// TestDiffParsesSharedDocumentsOnce: the new side read with the old side's
// documents known gives the same objects, lines and sources as read alone,
// whatever it shares (nothing, everything, documents moved, a stream
// without a first separator).
func TestDiffParsesSharedDocumentsOnce(t *testing.T) {
	a := "# Source: c/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
	b := "---\n# Source: c/templates/b.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"
	c := "---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: c1}}\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: c2}}\n"
	d := "---\n\n# comment\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\n"
	for name, tc := range map[string]struct{ old, new string }{
		"nothing shared":         {a, c + d},
		"everything":             {a + b + c + d, a + b + c + d},
		"moved":                  {a + b + c + d, d + c + "---\n" + a + b},
		"one new, in the middle": {a + b + d, a + c + b + d},
		"empty":                  {a + b, ""},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			oldFile, newFile := filepath.Join(dir, "old.yaml"), filepath.Join(dir, "new.yaml")
			require.NoError(t, os.WriteFile(oldFile, []byte(tc.old), 0o644))
			require.NoError(t, os.WriteFile(newFile, []byte(tc.new), 0o644))
			prev := &inputReader{remember: true}
			_, _, err := prev.read([]string{oldFile})
			require.NoError(t, err)
			objs, origins, err := (&inputReader{known: prev.seen}).read([]string{newFile})
			require.NoError(t, err)
			wantObjs, wantOrigins, err := (&inputReader{}).read([]string{newFile})
			require.NoError(t, err)
			require.Len(t, objs, len(wantObjs))
			for i := range objs {
				assert.Equal(t, wantObjs[i].Name, objs[i].Name)
				assert.Equal(t, wantObjs[i].Index, objs[i].Index)
				assert.Equal(t, wantOrigins[i].line, origins[i].line, objs[i].Name)
				assert.Equal(t, wantOrigins[i].source, origins[i].source, objs[i].Name)
				assert.Equal(t, wantOrigins[i].lineOf("metadata.name"), origins[i].lineOf("metadata.name"), objs[i].Name)
				// And that line is the one that names the object.
				lines := strings.Split(tc.new, "\n")
				line := origins[i].lineOf("metadata.name")
				require.Less(t, line-1, len(lines))
				assert.Contains(t, lines[line-1], "name: "+objs[i].Name, "line %d", line)
			}
		})
	}
}
