package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
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
