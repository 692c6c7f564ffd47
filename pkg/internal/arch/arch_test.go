package arch

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/tierwall/tierwall/"

var row = regexp.MustCompile(`^\| (pkg/[a-z0-9/]+) \| ([0-9]+) \|`)

// layers reads the table of docs/architecture.md.
func layers(t *testing.T) map[string]int {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "..", "docs", "architecture.md"))
	require.NoError(t, err)
	defer f.Close()
	out := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := row.FindStringSubmatch(sc.Text()); m != nil {
			n, err := strconv.Atoi(m[2])
			require.NoError(t, err)
			out[m[1]] = n
		}
	}
	require.NoError(t, sc.Err())
	require.Greater(t, len(out), 20, "the layer table of docs/architecture.md")
	return out
}

// testOnly are the packages that may import anything.
var testOnly = map[string]bool{"pkg/internal/e2e": true, "pkg/internal/badinput": true, "pkg/internal/testutil": true, "pkg/bench": true, "pkg/internal/arch": true}

// TestImportsFlowOneWay: every production package is in the table and
// imports only packages of lower layers.
func TestImportsFlowOneWay(t *testing.T) {
	layer := layers(t)
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}:{{join .Imports \" \"}}", module+"pkg/...").Output()
	require.NoError(t, err)
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ":")
		pkg = strings.TrimPrefix(pkg, module)
		if testOnly[pkg] || strings.HasPrefix(pkg, "pkg/bench/") {
			continue
		}
		l, ok := layer[pkg]
		if !assert.True(t, ok, "%s is in no layer of docs/architecture.md", pkg) {
			continue
		}
		checked++
		for _, imp := range strings.Fields(imports) {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			imp = strings.TrimPrefix(imp, module)
			il, ok := layer[imp]
			if assert.True(t, ok, "%s imports %s, which is in no layer", pkg, imp) {
				assert.Less(t, il, l, "%s (layer %d) imports %s (layer %d): imports flow one way, to lower layers", pkg, l, imp, il)
			}
		}
	}
	assert.Greater(t, checked, 20)
}

// TestMainsAreThin: both mains are at most 15 lines and import only pkg/cli.
func TestMainsAreThin(t *testing.T) {
	for _, main := range []string{"fn/tierwall/main.go", "postrender/tierwall-postrender/main.go"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "..", main))
		require.NoError(t, err)
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		assert.LessOrEqual(t, len(lines), 15, "%s has %d lines", main, len(lines))
		for _, l := range lines {
			if q := strings.Index(l, `"`+module); q >= 0 {
				assert.Contains(t, l, module+"pkg/cli\"", "%s imports more than pkg/cli: %s", main, l)
			}
		}
	}
}
