//go:build e2e

package e2e

// The GitHub Action wrapper (action.yml), run step by step as a runner runs a composite action.

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/manifest"
)

// compositeAction is an action.yml: its inputs' defaults and its steps.
type compositeAction struct {
	defaults map[string]string
	steps    []*yaml.Node
}

func readCompositeAction(t *testing.T, path string) compositeAction {
	t.Helper()
	doc := readDoc(t, path)
	require.Equal(t, "composite", manifest.String(doc, "runs", "using"))
	a := compositeAction{defaults: map[string]string{}}
	inputs := manifest.Lookup(doc, "inputs")
	require.NotNil(t, inputs)
	for i := 0; i+1 < len(inputs.Content); i += 2 {
		a.defaults[inputs.Content[i].Value] = manifest.String(inputs.Content[i+1], "default")
		assert.NotEmpty(t, manifest.String(inputs.Content[i+1], "description"), "input %s", inputs.Content[i].Value)
	}
	a.steps = manifest.Items(doc, "runs", "steps")
	require.NotEmpty(t, a.steps)
	return a
}

// actionRun is one use of the action: its inputs, the ref it is used at, the runner.
type actionRun struct {
	inputs    map[string]string
	actionRef string
	workspace string
	path      string // the runner's PATH before the action
}

// expression evaluates the ${{ }} expressions action.yml uses; any other is a test failure,
// so that the action cannot grow one this runner does not understand.
func (r actionRun) expression(t *testing.T, a compositeAction, expr string) string {
	t.Helper()
	input := func(name string) string {
		if v, ok := r.inputs[name]; ok {
			return v
		}
		def, ok := a.defaults[name]
		require.True(t, ok, "action.yml has no input %s", name)
		return def
	}
	expr = strings.TrimSpace(expr)
	if m := regexp.MustCompile(`^inputs\.([\w-]+) \|\| github\.action_ref$`).FindStringSubmatch(expr); m != nil {
		if v := input(m[1]); v != "" {
			return v
		}
		return r.actionRef
	}
	if m := regexp.MustCompile(`^inputs\.([\w-]+)$`).FindStringSubmatch(expr); m != nil {
		return input(m[1])
	}
	switch expr {
	case "runner.os":
		return map[string]string{"linux": "Linux", "darwin": "macOS"}[runtime.GOOS]
	case "runner.arch":
		return map[string]string{"amd64": "X64", "arm64": "ARM64"}[runtime.GOARCH]
	}
	t.Fatalf("action.yml: no evaluation for ${{ %s }}", expr)
	return ""
}

// run runs the action's steps as a runner runs a composite action's bash steps
// (bash --noprofile --norc -eo pipefail), stopping at the first failure; it returns the
// combined output, the step outputs and the PATH the job's next steps get.
func (r actionRun) run(t *testing.T, a compositeAction) (string, map[string]string, string, error) {
	t.Helper()
	temp := t.TempDir()
	ghPath := filepath.Join(temp, "github_path")
	require.NoError(t, os.WriteFile(ghPath, nil, 0o644))
	outputs := map[string]string{}
	subst := regexp.MustCompile(`\$\{\{(.*?)\}\}`)
	path := func() string {
		data, err := os.ReadFile(ghPath)
		require.NoError(t, err)
		lines := strings.Fields(string(data))
		for i, j := 0, len(lines)-1; i < j; i, j = i+1, j-1 {
			lines[i], lines[j] = lines[j], lines[i]
		}
		return strings.Join(append(lines, r.path), ":")
	}
	var all strings.Builder
	for _, step := range a.steps {
		id := manifest.String(step, "id")
		require.Equal(t, "bash", manifest.String(step, "shell"), "step %s", id)
		if cond := manifest.String(step, "if"); cond != "" {
			m := regexp.MustCompile(`^inputs\.([\w-]+) != ''$`).FindStringSubmatch(cond)
			require.NotNil(t, m, "step %s: no evaluation for if: %s", id, cond)
			if r.expression(t, a, "inputs."+m[1]) == "" {
				continue
			}
		}
		run := manifest.String(step, "run")
		require.False(t, subst.MatchString(run), "step %s pastes an expression into its script: inputs go through env", id)
		outFile := filepath.Join(temp, id+".out")
		require.NoError(t, os.WriteFile(outFile, nil, 0o644))
		env := []string{"PATH=" + path(), "HOME=" + filepath.Join(temp, "home"), "RUNNER_TEMP=" + temp,
			"GITHUB_PATH=" + ghPath, "GITHUB_OUTPUT=" + outFile, "GITHUB_WORKSPACE=" + r.workspace}
		for k, v := range manifest.StringMap(step, "env") {
			env = append(env, k+"="+subst.ReplaceAllStringFunc(v, func(e string) string {
				return r.expression(t, a, subst.FindStringSubmatch(e)[1])
			}))
		}
		script := filepath.Join(temp, id+".sh")
		require.NoError(t, os.WriteFile(script, []byte(run), 0o644))
		out, stderr, err := runEnv(t, r.workspace, env, nil, "bash", "--noprofile", "--norc", "-eo", "pipefail", script)
		all.WriteString(out + stderr)
		if err != nil {
			return all.String(), outputs, path(), err
		}
		data, err := os.ReadFile(outFile)
		require.NoError(t, err)
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				outputs[id+"."+k] = v
			}
		}
	}
	return all.String(), outputs, path(), nil
}

// TestGitHubAction runs action.yml as a runner would: it installs the release binaries from a
// local copy of a release (checked against SHA256SUMS) onto the job's PATH, reports the
// version, and runs `tierwall check` and `tierwall policies` with the given arguments.
func TestGitHubAction(t *testing.T) {
	tierwallBin(t, "tierwall")
	root := repoRoot(t)
	a := readCompositeAction(t, filepath.Join(root, "action.yml"))
	doc := readDoc(t, filepath.Join(root, "action.yml"))
	assert.Equal(t, "${{ steps.install.outputs.version }}", manifest.String(doc, "outputs", "version", "value"))
	url := serveRelease(t, buildRelease(t, releaseVersion))

	// A rendered app, and one with a pod left open.
	workspace := t.TempDir()
	rendered, stderr, err := runCmd(t, "", nil, tool(t, "KUSTOMIZE"), "build", "--enable-alpha-plugins", "--enable-exec",
		filepath.Join(root, "examples", "three-tier"))
	require.NoError(t, err, stderr)
	require.NoError(t, os.MkdirAll(filepath.Join(workspace, "rendered"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(workspace, "rendered", "app.yaml"), []byte(rendered), 0o644))
	app, err := os.ReadFile(filepath.Join(root, "examples", "three-tier", "app", "api.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(workspace, "open.yaml"), app, 0o644))

	use := func(inputs map[string]string, ref string) actionRun {
		return actionRun{inputs: inputs, actionRef: ref, workspace: workspace, path: sysPath}
	}

	t.Run("install, then check", func(t *testing.T) {
		out, outputs, path, err := use(map[string]string{"release-url": url, "command": "check",
			"args": "rendered/\n--fail-on=warning\n"}, "main").run(t, a)
		require.NoError(t, err, out)
		assert.Equal(t, releaseVersion, outputs["install.version"])
		assert.Contains(t, out, ": OK", "checked against SHA256SUMS")
		assert.Contains(t, out, "tierwall check passed")
		for _, cmd := range []string{"tierwall", "tierwall-postrender"} {
			p := filepath.Join(strings.Split(path, ":")[0], cmd)
			assert.FileExists(t, p, "the job's next steps have %s on PATH", cmd)
		}
		entries, err := os.ReadDir(filepath.Dir(strings.Split(path, ":")[0]))
		require.NoError(t, err)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		assert.Equal(t, []string{"SHA256SUMS", "bin"}, names, "only the binaries are kept")
	})

	t.Run("check fails the job on findings", func(t *testing.T) {
		out, _, _, err := use(map[string]string{"release-url": url, "command": "check", "args": "open.yaml"}, "").run(t, a)
		require.Error(t, err, out)
		assert.Contains(t, out, "tierwall check failed")
	})

	t.Run("policies, arguments one per line", func(t *testing.T) {
		out, _, _, err := use(map[string]string{"release-url": url, "command": "policies", "args": "--namespace\nproduction\n\nopen.yaml"}, "").run(t, a)
		require.NoError(t, err, out)
		assert.Contains(t, out, "kind: NetworkPolicy")
		assert.NotContains(t, out, "kind: Deployment", "only the generated objects")
	})

	t.Run("install only", func(t *testing.T) {
		out, outputs, _, err := use(map[string]string{"release-url": url}, "").run(t, a)
		require.NoError(t, err, out)
		assert.Equal(t, releaseVersion, outputs["install.version"])
		assert.NotContains(t, out, "tierwall check")
	})

	t.Run("a ref that is no release tag, and no release-url", func(t *testing.T) {
		out, _, _, err := use(nil, "main").run(t, a)
		require.Error(t, err)
		assert.Contains(t, out, "::error::'main' is no release tag")
	})

	t.Run("a command that is not one of tierwall's", func(t *testing.T) {
		out, _, _, err := use(map[string]string{"release-url": url, "command": "version; rm -rf /"}, "").run(t, a)
		require.Error(t, err)
		assert.Contains(t, out, "::error::command: check, report or policies")
	})
}
