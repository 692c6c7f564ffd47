package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
)

// resourceList wraps documents as the items of a ResourceList, with an
// optional functionConfig.
func resourceList(t *testing.T, items, functionConfig string) string {
	t.Helper()
	var config = testutil.Docs(t, []byte(functionConfig))
	if len(config) == 0 {
		return string(testutil.ResourceList(t, testutil.Docs(t, []byte(items)), nil))
	}
	return string(testutil.ResourceList(t, testutil.Docs(t, []byte(items)), config[0]))
}

// generatedNamespaces lists the namespaces of the policies in a function's
// output ResourceList.
func generatedNamespaces(t *testing.T, out string) []string {
	t.Helper()
	docs := testutil.Docs(t, []byte(out))
	require.Len(t, docs, 1)
	seen := map[string]bool{}
	var nss []string
	for _, it := range manifest.Items(docs[0], "items") {
		o := manifest.FromNode(0, it)
		if o.IsNetworkPolicy() && o.ManagedByTierwall() && !seen[o.Namespace] {
			seen[o.Namespace] = true
			nss = append(nss, o.Namespace)
		}
	}
	return nss
}

// TestFunctionNamespaceFlag: --namespace and -n mean what they mean for
// Helm and kubectl, the namespace of objects without one, in the function
// too; they override the functionConfig's spec.namespace.
func TestFunctionNamespaceFlag(t *testing.T) {
	noNamespace := strings.Replace(deployment, "namespace: shop", "", 1)
	config := "apiVersion: tierwall.io/v1alpha1\nkind: TierWall\nmetadata: {name: tw}\nspec: {namespace: payments}\n"
	tests := map[string]struct {
		config string
		args   []string
		want   []string
		code   int
		stderr string
	}{
		"no flag":                         {want: []string{""}},
		"--namespace":                     {args: []string{"--namespace", "shop"}, want: []string{"shop"}},
		"--namespace=":                    {args: []string{"--namespace=shop"}, want: []string{"shop"}},
		"-n":                              {args: []string{"-n", "shop"}, want: []string{"shop"}},
		"the functionConfig":              {config: config, want: []string{"payments"}},
		"-n wins over the functionConfig": {config: config, args: []string{"-n", "shop"}, want: []string{"shop"}},
		"invalid namespace": {args: []string{"-n", "Shop"}, code: ExitUsage,
			stderr: `spec.namespace: "Shop" is not a valid namespace name`},
		"empty namespace": {args: []string{"--namespace="}, code: ExitUsage, stderr: "--namespace needs a namespace name"},
		"unknown flag": {args: []string{"--config", "x.yaml"}, code: ExitUsage,
			stderr: "tierwall: unknown flag: --config\nUsage: tierwall [flags]\n"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := run(t, resourceList(t, noNamespace, tc.config), tc.args...)
			require.Equal(t, tc.code, code, errOut)
			if tc.code != 0 {
				assert.Contains(t, errOut, tc.stderr)
				return
			}
			assert.Equal(t, tc.want, generatedNamespaces(t, out))
		})
	}
}

// TestFunctionExitCodes: the one table of exit codes, for the function.
func TestFunctionExitCodes(t *testing.T) {
	badAnnotation := strings.Replace(deployment, "metadata: {name: api, namespace: shop}",
		"metadata: {name: api, namespace: shop, annotations: {tierwall.io/allow-from: not a list}}", 1)
	tests := map[string]struct {
		stdin string
		code  int
	}{
		"ok":                   {stdin: resourceList(t, deployment, ""), code: ExitOK},
		"an error result":      {stdin: resourceList(t, badAnnotation, ""), code: ExitFailed},
		"bad functionConfig":   {stdin: resourceList(t, deployment, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {dns.profile: coredns}\n"), code: ExitUsage},
		"empty stdin":          {stdin: "", code: ExitInput},
		"not YAML":             {stdin: "kind: [", code: ExitInput},
		"not a ResourceList":   {stdin: deployment, code: ExitInput},
		"an item with no kind": {stdin: "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  metadata: {name: x}\n", code: ExitInput},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, errOut, code := run(t, tc.stdin)
			assert.Equal(t, tc.code, code, errOut)
			if code != 0 {
				assert.NotEmpty(t, errOut)
			}
		})
	}
}

// TestHelp: help goes to stdout with exit 0, "help CMD" shows CMD's help.
func TestHelp(t *testing.T) {
	tests := map[string]struct {
		args []string
		want []string
	}{
		"help":           {args: []string{"help"}, want: []string{"With no command, tierwall is a KRM function", "Available Commands:", "check", "completion", "report", "version", "-n, --namespace NAMESPACE"}},
		"--help":         {args: []string{"--help"}, want: []string{"With no command, tierwall is a KRM function"}},
		"-h":             {args: []string{"-h"}, want: []string{"With no command, tierwall is a KRM function"}},
		"help check":     {args: []string{"help", "check"}, want: []string{"Checks the NetworkPolicies", "--allow-empty", "--strict", "-o, --output FORMAT", "-n, --namespace NAMESPACE"}},
		"check --help":   {args: []string{"check", "--help"}, want: []string{"Checks the NetworkPolicies", "--allow-empty"}},
		"help report":    {args: []string{"help", "report"}, want: []string{"Shows who may talk to whom", "text, markdown, json, yaml, dot", "--external"}},
		"report -h":      {args: []string{"report", "-h"}, want: []string{"Shows who may talk to whom"}},
		"help version":   {args: []string{"help", "version"}, want: []string{"0.0.0-dev+<commit>"}},
		"go-style -help": {args: []string{"check", "-help"}, want: []string{"Checks the NetworkPolicies"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := run(t, "", tc.args...)
			assert.Equal(t, 0, code)
			assert.Empty(t, errOut)
			for _, w := range tc.want {
				assert.Contains(t, out, w)
			}
		})
	}
}

// TestUnknownCommand: a mistyped command exits 2 with a suggestion on
// stderr, and nothing on stdout.
func TestUnknownCommand(t *testing.T) {
	out, errOut, code := run(t, "", "reprot")
	assert.Equal(t, ExitUsage, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "tierwall: unknown command \"reprot\" for \"tierwall\"\n\nDid you mean this?\n\treport\n")
	assert.Contains(t, errOut, "Run 'tierwall --help' for more.\n")

	_, errOut, code = run(t, "", "chek", "-o", "json")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, "\tcheck\n")
}

func TestVersion(t *testing.T) {
	out, errOut, code := run(t, "", "version")
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `^tierwall \S+ \(commit \S+, go\S+, \w+/\w+\)\n$`, out)

	same, _, _ := run(t, "", "--version")
	assert.Equal(t, out, same, "--version is tierwall version")

	out, _, code = run(t, "", "version", "-o", "json")
	require.Equal(t, 0, code)
	var info map[string]string
	require.NoError(t, json.Unmarshal([]byte(out), &info))
	assert.ElementsMatch(t, []string{"version", "commit", "goVersion", "platform"}, keys(info))
	assert.NotEmpty(t, info["version"])
	assert.Contains(t, info["platform"], "/")

	out, _, code = run(t, "", "version", "-o", "yaml")
	require.Equal(t, 0, code)
	var fromYAML map[string]string
	require.NoError(t, sigsyaml.Unmarshal([]byte(out), &fromYAML))
	assert.Equal(t, info, fromYAML)

	_, errOut, code = run(t, "", "version", "-o", "dot")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, `-o "dot": use one of text, json, yaml`)
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		t.Run(shell, func(t *testing.T) {
			out, errOut, code := run(t, "", "completion", shell)
			require.Equal(t, 0, code, errOut)
			assert.Contains(t, out, "tierwall")
		})
	}
	_, _, code := run(t, "", "completion", "tcsh")
	assert.Equal(t, ExitUsage, code)

	// The values of -o complete.
	out, _, code := run(t, "", "__complete", "check", "-o", "")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "text\njson\nyaml\n")
}

// terminal is stdin as an interactive terminal: a character device that is
// not the null device.
type terminal struct{ io.Reader }

func (terminal) Stat() (os.FileInfo, error) { return terminalInfo{}, nil }

type terminalInfo struct{}

func (terminalInfo) Name() string       { return "tty" }
func (terminalInfo) Size() int64        { return 0 }
func (terminalInfo) Mode() fs.FileMode  { return fs.ModeDevice | fs.ModeCharDevice | 0o620 }
func (terminalInfo) ModTime() time.Time { return time.Time{} }
func (terminalInfo) IsDir() bool        { return false }
func (terminalInfo) Sys() any           { return nil }

// TestTerminalStdin: typed alone, tierwall and tierwall-postrender show
// their help instead of waiting for input; a command that would read stdin
// says why it will not.
func TestTerminalStdin(t *testing.T) {
	tests := map[string]struct {
		post   bool
		args   []string
		code   int
		stdout string
		stderr string
	}{
		"tierwall":               {stdout: "With no command, tierwall is a KRM function"},
		"tierwall -n shop":       {args: []string{"-n", "shop"}, code: ExitUsage, stderr: "tierwall: stdin is a terminal: pipe a ResourceList in"},
		"tierwall check":         {args: []string{"check"}, code: ExitUsage, stderr: "tierwall check: stdin is a terminal: pipe rendered manifests in, or name files or folders"},
		"tierwall report -":      {args: []string{"report", "-"}, code: ExitUsage, stderr: "tierwall report: stdin is a terminal"},
		"tierwall-postrender":    {post: true, stdout: "tierwall-postrender adds zero-trust NetworkPolicies"},
		"tierwall-postrender -n": {post: true, args: []string{"-n", "shop"}, code: ExitUsage, stderr: "tierwall-postrender: stdin is a terminal"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			c := Command{Stdin: terminal{strings.NewReader("")}, Stdout: &out, Stderr: &errOut}
			code := c.Main(tc.args)
			if tc.post {
				code = c.PostRender(tc.args)
			}
			assert.Equal(t, tc.code, code, errOut.String())
			if tc.stdout != "" {
				assert.Contains(t, out.String(), tc.stdout)
				assert.Empty(t, errOut.String())
			} else {
				assert.Contains(t, errOut.String(), tc.stderr)
			}
		})
	}
	// A path to read: stdin does not matter.
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(dir+"/a.yaml", []byte(deployment+"---\n"+denyAll+"---\n"+allowDNS), 0o644))
	var out bytes.Buffer
	code := Command{Stdin: terminal{strings.NewReader("")}, Stdout: &out, Stderr: io.Discard}.Main([]string{"check", dir})
	assert.Equal(t, 0, code, out.String())
}

// TestNullDeviceIsNoTerminal: tools that run a command without input
// connect the null device, a character device too: it reads as empty input.
func TestNullDeviceIsNoTerminal(t *testing.T) {
	null, err := os.Open(os.DevNull)
	require.NoError(t, err)
	defer null.Close()
	assert.False(t, isTerminal(null))
	var out, errOut bytes.Buffer
	code := Command{Stdin: null, Stdout: &out, Stderr: &errOut}.PostRender(nil)
	assert.Equal(t, 0, code, errOut.String())
	assert.Empty(t, out.String(), "empty in, empty out")
}

func TestGoFlagStyle(t *testing.T) {
	var out bytes.Buffer
	cmd := (&session{Command: Command{Stdout: &out, Stderr: &out}}).postRenderCommand()
	cmd.InitDefaultHelpFlag()
	tests := map[string]struct{ in, want []string }{
		"long flags with one dash": {in: []string{"-namespace=shop", "-config", "c.yaml", "-no-tiers"}, want: []string{"--namespace=shop", "--config", "c.yaml", "--no-tiers"}},
		"shorthand untouched":      {in: []string{"-n", "shop", "-nshop", "-n=shop"}, want: []string{"-n", "shop", "-nshop", "-n=shop"}},
		"values untouched":         {in: []string{"--config", "-namespace", "-n", "-config"}, want: []string{"--config", "-namespace", "-n", "-config"}},
		"unknown flags untouched":  {in: []string{"-bogus", "--bogus"}, want: []string{"-bogus", "--bogus"}},
		"after --":                 {in: []string{"--", "-namespace"}, want: []string{"--", "-namespace"}},
		"help":                     {in: []string{"-help"}, want: []string{"--help"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, goFlagStyle(cmd.Flags(), tc.in))
		})
	}
}
