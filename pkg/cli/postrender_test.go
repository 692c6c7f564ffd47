package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/stream"
)

// chart is what Helm sends: objects without a namespace, # Source comments.
const chart = `---
# Source: shop/templates/api.yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, ports: [{name: http, containerPort: 8080}]}]}
`

// postRender runs the post-renderer as the binary does, with env as the
// environment and files as the file system.
func postRender(stdin string, env, files map[string]string, args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	code := Command{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut,
		Getenv: func(k string) string { return env[k] },
		ReadFile: func(p string) ([]byte, error) {
			if s, ok := files[p]; ok {
				return []byte(s), nil
			}
			return nil, os.ErrNotExist
		},
	}.PostRender(args)
	return out.String(), errOut.String(), code
}

// pluginArgs reads the args Helm 4 puts before the --post-renderer-args:
// those of plugin.yaml's command for this platform.
func pluginArgs(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "postrender", "plugin", "plugin.yaml"))
	require.NoError(t, err)
	var plugin struct {
		RuntimeConfig struct {
			PlatformCommand []struct {
				OS, Arch string
				Args     []string
			} `yaml:"platformCommand"`
		} `yaml:"runtimeConfig"`
	}
	require.NoError(t, yaml.Unmarshal(data, &plugin))
	for _, c := range plugin.RuntimeConfig.PlatformCommand {
		if c.OS == runtime.GOOS && c.Arch == runtime.GOARCH {
			require.NotEmpty(t, c.Args)
			return c.Args
		}
	}
	t.Skipf("plugin.yaml has no command for %s/%s", runtime.GOOS, runtime.GOARCH)
	return nil
}

// policyNamespaces lists the namespaces of the generated policies ("" for
// none), after checking that the input comes out first, unchanged.
func policyNamespaces(t *testing.T, out string) []string {
	t.Helper()
	require.True(t, strings.HasPrefix(out, chart), "the input comes out first, byte for byte:\n%s", out)
	s, err := stream.Parse([]byte(out[len(chart):]))
	require.NoError(t, err)
	seen := map[string]bool{}
	var nss []string
	for _, o := range s.Objects {
		require.True(t, o.IsNetworkPolicy() && o.ManagedByTierwall(), "only tierwall policies are added: %s", o.Ref())
		if !seen[o.Namespace] {
			seen[o.Namespace] = true
			nss = append(nss, o.Namespace)
		}
	}
	require.NotEmpty(t, nss, "policies are generated")
	return nss
}

// TestPostRenderArgv: the command lines Helm 3 and Helm 4 build keep their
// meaning. Helm 3 passes each --post-renderer-args value as one argv entry;
// Helm 4 passes plugin.yaml's args, then those values.
func TestPostRenderArgv(t *testing.T) {
	plugin := pluginArgs(t)
	files := map[string]string{
		"tw.yaml":        "apiVersion: tierwall.io/v1alpha1\nkind: TierWall\nmetadata: {name: tw}\nspec: {namespace: payments}\n",
		"cm.yaml":        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: function-input}\ndata: {namespace: billing}\n",
		"two.yaml":       "apiVersion: tierwall.io/v1alpha1\nkind: TierWall\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
		"bad-value.yaml": "apiVersion: tierwall.io/v1alpha1\nkind: TierWall\nmetadata: {name: tw}\nspec: {dns: {profile: coredns}}\n",
	}
	helm4 := func(args ...string) []string { return append(append([]string{}, plugin...), args...) }
	tests := map[string]struct {
		args []string
		env  map[string]string
		// namespaces of the generated policies on success ("" is none).
		namespaces []string
		// code and stderr of a failure (stdout then empty, or, as a Helm 4
		// plugin, the error document).
		code   int
		stderr []string
	}{
		"Helm 3, no arguments":                         {namespaces: []string{""}},
		"Helm 3 --post-renderer-args=--namespace=shop": {args: []string{"--namespace=shop"}, namespaces: []string{"shop"}},
		"Helm 3 flag and value as two entries":         {args: []string{"--namespace", "shop"}, namespaces: []string{"shop"}},
		"-n X":                                         {args: []string{"-n", "shop"}, namespaces: []string{"shop"}},
		"-n=X":                                         {args: []string{"-n=shop"}, namespaces: []string{"shop"}},
		"Go-style -namespace=X, as before":             {args: []string{"-namespace=shop"}, namespaces: []string{"shop"}},
		"Go-style -namespace X, as before":             {args: []string{"-namespace", "shop"}, namespaces: []string{"shop"}},
		"--config FILE":                                {args: []string{"--config", "tw.yaml"}, namespaces: []string{"payments"}},
		"--config=FILE, a ConfigMap":                   {args: []string{"--config=cm.yaml"}, namespaces: []string{"billing"}},
		"flags after --config win over the file":       {args: []string{"--config", "tw.yaml", "-n", "shop"}, namespaces: []string{"shop"}},
		"flags before --config win over the file":      {args: []string{"--namespace=shop", "--config=tw.yaml"}, namespaces: []string{"shop"}},
		"HELM_NAMESPACE names the release namespace":   {env: map[string]string{"HELM_NAMESPACE": "shop"}, namespaces: []string{"shop"}},
		"--namespace wins over HELM_NAMESPACE":         {args: []string{"-n", "payments"}, env: map[string]string{"HELM_NAMESPACE": "shop"}, namespaces: []string{"payments"}},
		"Helm 4 plugin, no --post-renderer-args":       {args: helm4(), namespaces: []string{""}},
		"Helm 4 plugin with --namespace=X":             {args: helm4("--namespace=shop"), namespaces: []string{"shop"}},
		"Helm 4 plugin with --config FILE -n X":        {args: helm4("--config", "tw.yaml", "-n", "shop"), namespaces: []string{"shop"}},
		"every override flag": {args: []string{"--dns-profile=nodelocal", "--skip-namespace=legacy", "--skip-namespace", "old",
			"--no-monitoring", "--no-tiers", "--kube-api-cidr=10.0.0.1/32", "-n", "shop"}, namespaces: []string{"shop"}},

		"unknown flag": {args: []string{"--bogus"}, code: 2, stderr: []string{
			"tierwall-postrender: unknown flag: --bogus\n", "Usage: tierwall-postrender [flags]\n", "Run 'tierwall-postrender --help' for more.\n"}},
		"unknown flag after good ones": {args: []string{"--namespace", "shop", "--bogus=1"}, code: 2, stderr: []string{"unknown flag: --bogus"}},
		"flag and value as one entry":  {args: []string{"--namespace shop"}, code: 2, stderr: []string{`unknown flag: --namespace shop`}},
		"missing value":                {args: []string{"--config"}, code: 2, stderr: []string{"flag needs an argument: --config"}},
		"empty --config":               {args: []string{"--config="}, code: 2, stderr: []string{"--config needs a file name"}},
		"empty --namespace":            {args: []string{"--namespace="}, code: 2, stderr: []string{"--namespace needs a namespace name"}},
		"empty -n":                     {args: []string{"-n", ""}, code: 2, stderr: []string{"--namespace needs a namespace name"}},
		"positional argument": {args: []string{"tierwall.yaml"}, code: 2, stderr: []string{
			`unexpected argument "tierwall.yaml": flags only; with Helm, pass each one as --post-renderer-args=FLAG`}},
		"bad bool": {args: []string{"--no-tiers=maybe"}, code: 2, stderr: []string{`invalid argument "maybe" for "--no-tiers"`}},
		"missing --config file": {args: []string{"--config", "none.yaml"}, code: 2, stderr: []string{
			"tierwall-postrender: reading --config: file does not exist\n"}},
		"--config with two objects": {args: []string{"--config", "two.yaml"}, code: 2, stderr: []string{
			"reading --config two.yaml: it holds 2 objects, want one tierwall.io/v1alpha1/TierWall or v1/ConfigMap"}},
		"invalid --config": {args: []string{"--config", "bad-value.yaml"}, code: 2, stderr: []string{
			"tierwall-postrender: invalid configuration in --config bad-value.yaml (tierwall.io/v1alpha1/TierWall tw):\n  spec.dns.profile: unknown DNS profile \"coredns\""}},
		"invalid flag value": {args: []string{"--dns-profile", "coredns"}, code: 2, stderr: []string{
			"invalid configuration in the command-line settings:\n  spec.dns.profile: unknown DNS profile \"coredns\"", "(set by --dns-profile)"}},
		"invalid HELM_NAMESPACE": {env: map[string]string{"HELM_NAMESPACE": "Shop"}, code: 2, stderr: []string{"(set by --namespace or HELM_NAMESPACE)"}},

		"Helm 4 plugin, unknown flag":   {args: helm4("--bogus"), stderr: []string{"tierwall-postrender: unknown flag: --bogus"}},
		"Helm 4 plugin, invalid config": {args: helm4("--config=bad-value.yaml"), stderr: []string{`unknown DNS profile "coredns"`}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := postRender(chart, tc.env, files, tc.args...)
			if tc.stderr == nil {
				require.Equal(t, 0, code, errOut)
				assert.Equal(t, tc.namespaces, policyNamespaces(t, out))
				assert.NotContains(t, errOut, "error")
				return
			}
			assert.Equal(t, tc.code, code)
			for _, s := range tc.stderr {
				assert.Contains(t, errOut, s)
			}
			if !wantsHelm4(tc.args) {
				assert.Empty(t, out, "nothing on stdout")
				return
			}
			// Helm 4 drops stderr: the reason travels in the one document
			// Helm fails to read, and the plugin exits 0.
			s, err := stream.Parse([]byte(out))
			require.NoError(t, err)
			require.Len(t, s.Objects, 1)
			msg := s.Objects[0].Annotations[helmFilenameAnnotation]
			assert.Contains(t, msg, strings.SplitN(tc.stderr[0], "\n", 2)[0])
			assert.NotEqual(t, yaml.ScalarNode, manifest.Lookup(s.Objects[0].Node, "kind").Kind)
		})
	}
}

// TestPostRenderEmptyInput: helm template --output-dir sends nothing: empty
// in, empty out, exit 0; Helm 4 rejects blank output, so the plugin writes a
// comment.
func TestPostRenderEmptyInput(t *testing.T) {
	for _, args := range [][]string{nil, {"--namespace", "shop"}, {"--config=tw.yaml"}} {
		out, errOut, code := postRender("", nil, map[string]string{"tw.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"}, args...)
		assert.Equal(t, 0, code, errOut)
		assert.Empty(t, out, "%q", args)
		assert.Empty(t, errOut, "%q", args)
	}
	out, _, code := postRender("", nil, nil, pluginArgs(t)...)
	assert.Equal(t, 0, code)
	assert.Equal(t, "# tierwall-postrender: no objects in the input, no policies\n", out)
}

// TestPostRenderExitCodes: the one table of exit codes.
func TestPostRenderExitCodes(t *testing.T) {
	badAnnotation, err := os.ReadFile(filepath.Join("..", "..", "testdata", "bad-input", "invalid-allow-from-annotation", "input.yaml"))
	require.NoError(t, err)
	tests := map[string]struct {
		stdin string
		args  []string
		code  int
	}{
		"ok":                          {stdin: chart, code: ExitOK},
		"unreadable input":            {stdin: "apiVersion: v1\nkind: [", code: ExitInput},
		"a document with no kind":     {stdin: "apiVersion: v1\nmetadata: {name: x}\n", code: ExitInput},
		"usage":                       {stdin: chart, args: []string{"--bogus"}, code: ExitUsage},
		"config":                      {stdin: chart, args: []string{"--dns-profile=coredns"}, code: ExitUsage},
		"failed run: an error result": {stdin: string(badAnnotation), code: ExitFailed},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := postRender(tc.stdin, nil, nil, tc.args...)
			assert.Equal(t, tc.code, code, errOut)
			if code != 0 {
				assert.Empty(t, out)
				assert.True(t, strings.HasPrefix(errOut, "tierwall-postrender: "), errOut)
			}
		})
	}
}

func TestPostRenderHelpAndVersion(t *testing.T) {
	out, errOut, code := postRender("", nil, nil, "--help")
	assert.Equal(t, 0, code)
	assert.Empty(t, errOut)
	assert.Contains(t, out, "tierwall-postrender adds zero-trust NetworkPolicies to a Helm release.")
	assert.Contains(t, out, "-n, --namespace NAMESPACE")
	assert.Contains(t, out, "--post-renderer-args=--namespace=shop")

	out, _, code = postRender(chart, nil, nil, "--version")
	assert.Equal(t, 0, code)
	assert.Regexp(t, `^tierwall-postrender \S+ \(commit \S+, go\S+, \w+/\w+\)\n$`, out)
}
