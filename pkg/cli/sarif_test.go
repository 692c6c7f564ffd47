package cli

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sarifSchema is the SARIF 2.1.0 JSON schema (OASIS, errata01), as the
// go-sarif module ships it: read from the module's source, since the
// schema itself cannot be fetched here.
func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/owenrumney/go-sarif/v3").Output()
	require.NoError(t, err, "go list the go-sarif module")
	file := filepath.Join(strings.TrimSpace(string(out)), "pkg", "report", "v210", "sarif", "schema.go")
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	require.NoError(t, err)
	var text string
	ast.Inspect(f, func(n ast.Node) bool {
		if v, ok := n.(*ast.ValueSpec); ok && len(v.Names) == 1 && v.Names[0].Name == "schema" {
			if lit, ok := v.Values[0].(*ast.BasicLit); ok {
				text, err = strconv.Unquote(lit.Value)
				require.NoError(t, err)
			}
		}
		return true
	})
	require.Contains(t, text, "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema")
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("sarif-2.1.0.json", doc))
	s, err := c.Compile("sarif-2.1.0.json")
	require.NoError(t, err)
	return s
}

// checkFixture is a render with findings on objects of every origin: a
// plain file, Helm's # Source:, kpt's config.kubernetes.io/path.
const checkFixture = `apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api}]}
---
# Source: shop/templates/networkpolicy.yaml
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: open, namespace: shop}
spec:
  podSelector: {}
  ingress:
  - {}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: typo
  namespace: shop
  annotations:
    config.kubernetes.io/path: policies.yaml
    config.kubernetes.io/index: "1"
spec:
  podSelector: {matchLabels: {app: apl}}
  policyTypes: [Ingress]
`

// TestCheckSARIF: the SARIF log validates against the SARIF 2.1.0 schema,
// every result has a location, and each points where its object came
// from: the chart template, the kpt file and its document, the input file
// and the field's line.
func TestCheckSARIF(t *testing.T) {
	schema := sarifSchema(t)
	dir := t.TempDir()
	wd, err := os.Getwd()
	require.NoError(t, err)
	require.NoError(t, os.Chdir(dir))
	t.Cleanup(func() { _ = os.Chdir(wd) })
	require.NoError(t, os.MkdirAll("pkg", 0o755))
	require.NoError(t, os.WriteFile(filepath.Join("pkg", "policies.yaml"), []byte("# first\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"), 0o644))
	require.NoError(t, os.WriteFile("rendered.yaml", []byte(checkFixture), 0o644))

	out, errOut, code := run(t, "", "check", "-o", "sarif", "--source-root", "pkg", "rendered.yaml")
	assert.Equal(t, ExitFailed, code, errOut)
	var doc any
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	require.NoError(t, schema.Validate(doc), "the SARIF 2.1.0 schema")
	// go-sarif reads it back (its Validate is not used: the defaults of its
	// own types do not pass the schema).
	rep, err := sarif.FromBytes([]byte(out))
	require.NoError(t, err)
	require.Len(t, rep.Runs, 1)

	var log struct {
		Runs []struct {
			Results []struct {
				RuleID    string `json:"ruleId"`
				Level     string `json:"level"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }    `json:"artifactLocation"`
						Region           struct{ StartLine int } `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &log))
	got := map[string]string{}
	for _, r := range log.Runs[0].Results {
		require.Len(t, r.Locations, 1, r.RuleID)
		p := r.Locations[0].PhysicalLocation
		require.NotEmpty(t, p.ArtifactLocation.URI, r.RuleID)
		require.Positive(t, p.Region.StartLine, r.RuleID)
		got[r.RuleID] = r.Level + " " + p.ArtifactLocation.URI + ":" + strconv.Itoa(p.Region.StartLine)
	}
	assert.Equal(t, map[string]string{
		"not-default-denied": "error rendered.yaml:7",                         // spec.template.metadata.labels
		"open-rule":          "error pkg/shop/templates/networkpolicy.yaml:1", // # Source:
		"selects-no-pod":     "warning pkg/policies.yaml:6",                   // kpt path and index
	}, got)

	// Nothing found: a valid log with no result.
	clean := "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: shop}\nspec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n"
	out, errOut, code = run(t, clean, "check", "-o", "sarif")
	assert.Equal(t, 0, code, errOut)
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	require.NoError(t, schema.Validate(doc))
	assert.Contains(t, out, `"results": []`)

	// Empty input: the finding points at stdin.
	out, _, code = run(t, "", "check", "-o", "sarif")
	assert.Equal(t, ExitFailed, code)
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	require.NoError(t, schema.Validate(doc))
	assert.Contains(t, out, `"uri": "stdin"`)
}

// TestCheckGitHub: workflow commands with the file, line and check id, the
// message escaped, then the summary; exit codes as for text.
func TestCheckGitHub(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "rendered.yaml")
	require.NoError(t, os.WriteFile(file, []byte(checkFixture), 0o644))
	out, errOut, code := run(t, "", "check", "-o", "github", file)
	assert.Equal(t, ExitFailed, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 5, out)
	assert.Regexp(t, `^::error file=[^,]*rendered.yaml,line=7,title=tierwall not-default-denied::Deployment shop/api is not default-denied`, lines[0])
	assert.Equal(t, "::error file=shop/templates/networkpolicy.yaml,line=1,title=tierwall open-rule::", lines[1][:strings.Index(lines[1], "::N")+2])
	assert.True(t, strings.HasPrefix(lines[2], "::warning file=policies.yaml,line=1,title=tierwall selects-no-pod::"), lines[2])
	assert.Equal(t, "tierwall check failed: 2 errors, 1 warning (--fail-on error)", lines[4])
	assert.NotContains(t, out, "tierwall: [error]", "the text lines are not repeated")

	_, _, code = run(t, "", "check", "-o", "github", "--fail-on", "warning", file)
	assert.Equal(t, ExitFailed, code)
	_, _, code = run(t, "", "check", "-o", "github", "--skip", "not-default-denied,open-rule", file)
	assert.Equal(t, ExitOK, code)
	_, errOut, code = run(t, "", "check", "-o", "gitlab", file)
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, `-o "gitlab": use one of text, json, yaml, sarif, github`)
	_, _, code = run(t, "", "check", "-o", "github", filepath.Join(dir, "missing.yaml"))
	assert.Equal(t, ExitInput, code)

	assert.Equal(t, "a%25b%0Ac", ghData("a%b\nc"))
	assert.Equal(t, "a%3Ab%2Cc", ghProperty("a:b,c"))
	var buf bytes.Buffer
	require.NoError(t, writeGitHub(&buf, nil, newLocator(nil, nil, "", nil)))
	assert.Empty(t, buf.String())
}
