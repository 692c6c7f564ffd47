package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sigsyaml "sigs.k8s.io/yaml"
)

// pathWithTierwall returns a PATH whose tierwall is this test binary (see
// TestMain), and the environment that makes it one.
func pathWithTierwall(t *testing.T) []string {
	t.Helper()
	bin := t.TempDir()
	self, err := os.Executable()
	require.NoError(t, err)
	require.NoError(t, os.Symlink(self, filepath.Join(bin, "tierwall")))
	return []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "TIERWALL_TEST_MAIN=1"}
}

// workflow is the part of a GitHub Actions workflow the test reads.
type workflow struct {
	Env  map[string]string `json:"env"`
	Jobs map[string]struct {
		Steps []struct {
			Name string            `json:"name"`
			ID   string            `json:"id"`
			Run  string            `json:"run"`
			Env  map[string]string `json:"env"`
			If   string            `json:"if"`
		} `json:"steps"`
	} `json:"jobs"`
}

var expression = regexp.MustCompile(`\$\{\{\s*([^}]*?)\s*\}\}`)

// runSteps runs the named steps of a workflow's job with bash in dir, as
// GitHub would (bash -e), the workflow's and step's env set, their ${{ }}
// expressions replaced from exprs; it returns each step's exit code.
func runSteps(t *testing.T, file, job string, names []string, dir string, env []string, exprs map[string]string) map[string]int {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	var w workflow
	require.NoError(t, sigsyaml.Unmarshal(data, &w))
	expand := func(s string) string {
		return expression.ReplaceAllStringFunc(s, func(m string) string {
			key := expression.FindStringSubmatch(m)[1]
			v, ok := exprs[key]
			require.True(t, ok, "no value for ${{ %s }} in %s", key, file)
			return v
		})
	}
	steps := w.Jobs[job].Steps
	require.NotEmpty(t, steps, "job %s of %s", job, file)
	codes := map[string]int{}
	for _, name := range names {
		found := false
		for _, s := range steps {
			if s.Name != name {
				continue
			}
			found = true
			require.NotEmpty(t, s.Run, "step %q runs nothing", name)
			require.NotContains(t, s.Run, "${{", "step %q: expressions in run scripts are injectable; pass them through env", name)
			cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", s.Run)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), env...)
			for k, v := range w.Env {
				cmd.Env = append(cmd.Env, k+"="+expand(v))
			}
			for k, v := range s.Env {
				cmd.Env = append(cmd.Env, k+"="+expand(v))
			}
			out, err := cmd.CombinedOutput()
			codes[name] = cmd.ProcessState.ExitCode()
			if err != nil && codes[name] <= 0 {
				require.NoError(t, err, "step %q", name)
			}
			t.Logf("step %q exit %d:\n%s", name, codes[name], out)
		}
		require.True(t, found, "no step %q in job %s of %s", name, job, file)
	}
	return codes
}

// TestGitHubActionsExample runs the steps of docs/github-actions that call
// tierwall, as GitHub runs them, on a fixture standing for the rendered
// base and head (the render itself needs helm and the checkout): the diff
// goes to the comment and the job summary, the check to SARIF and
// annotations, the results into the artifact; part 2 reads the pull request
// number and refuses anything else.
func TestGitHubActionsExample(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	env := pathWithTierwall(t)
	work := t.TempDir()
	fixture := filepath.Join("testdata", "pipeline")
	for _, f := range []string{"base.yaml", "head.yaml"} {
		data, err := os.ReadFile(filepath.Join(fixture, f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(work, f), data, 0o644))
	}
	config, err := os.ReadFile(filepath.Join(fixture, "tierwall.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(work, "head", "charts", "shop"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(work, "head", "charts", "shop", "tierwall.yaml"), config, 0o644))
	summary, output := filepath.Join(work, "summary.md"), filepath.Join(work, "output")
	env = append(env, "GITHUB_STEP_SUMMARY="+summary, "GITHUB_OUTPUT="+output, "GITHUB_SERVER_URL=https://github.com",
		"GITHUB_REPOSITORY=acme/shop", "GITHUB_RUN_ID=42")

	part1 := filepath.Join("..", "..", "docs", "github-actions", "connectivity.yml")
	codes := runSteps(t, part1, "connectivity", []string{"Compare the connectivity", "Check the head", "Hand the results on", "Fail on the check's findings"},
		work, env, map[string]string{"github.event.pull_request.number": "7"})
	assert.Equal(t, 0, codes["Compare the connectivity"])
	assert.Equal(t, 0, codes["Check the head"], "the check's code is kept for the last step")
	assert.Equal(t, 1, codes["Fail on the check's findings"], "an open rule fails the job, after the upload")

	comment, err := os.ReadFile(filepath.Join(work, "out", "comment.md"))
	require.NoError(t, err)
	assert.Contains(t, string(comment), "## Connectivity changes")
	assert.Contains(t, string(comment), "| any | shop/web (Deployment) | TCP/8080 |")
	assert.LessOrEqual(t, len(comment), 65536)
	inSummary, err := os.ReadFile(summary)
	require.NoError(t, err)
	assert.Equal(t, string(comment), string(inSummary))
	var diffDoc map[string]any
	data, err := os.ReadFile(filepath.Join(work, "out", "connectivity-diff.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &diffDoc))
	assert.Equal(t, "ConnectivityDiff", diffDoc["kind"])

	sarifLog, err := os.ReadFile(filepath.Join(work, "out", "tierwall.sarif"))
	require.NoError(t, err)
	var doc any
	require.NoError(t, json.Unmarshal(sarifLog, &doc))
	require.NoError(t, sarifSchema(t).Validate(doc))
	assert.Contains(t, string(sarifLog), `"uri": "charts/shop/templates/networkpolicies.yaml"`)
	for _, f := range []string{"check-exit-code", "pr-number"} {
		data, err := os.ReadFile(filepath.Join(work, "out", f))
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"check-exit-code": "1\n", "pr-number": "7\n"}[f], string(data))
	}

	part2 := filepath.Join("..", "..", "docs", "github-actions", "connectivity-comment.yml")
	codes = runSteps(t, part2, "comment", []string{"Read the pull request number"}, work, env, nil)
	assert.Equal(t, 0, codes["Read the pull request number"])
	out, err := os.ReadFile(output)
	require.NoError(t, err)
	assert.Equal(t, "number=7\n", string(out))
	for _, bad := range []string{"", "7; rm -rf /", "../8"} {
		require.NoError(t, os.WriteFile(filepath.Join(work, "out", "pr-number"), []byte(bad+"\n"), 0o644))
		codes = runSteps(t, part2, "comment", []string{"Read the pull request number"}, work, env, nil)
		assert.Equal(t, 1, codes["Read the pull request number"], "%q", bad)
	}
	data, err = os.ReadFile(part1)
	require.NoError(t, err)
	assert.NotContains(t, string(data), "\n  pull_request_target:", "part 1 renders untrusted code")
}

// TestPreCommitHooks runs each hook of .pre-commit-hooks.yaml as
// pre-commit does (entry, then args; no file names), on the fixture.
func TestPreCommitHooks(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	data, err := os.ReadFile(filepath.Join("..", "..", ".pre-commit-hooks.yaml"))
	require.NoError(t, err)
	var hooks []struct {
		ID            string `json:"id"`
		Entry         string `json:"entry"`
		Language      string `json:"language"`
		PassFilenames *bool  `json:"pass_filenames"`
		RequireSerial bool   `json:"require_serial"`
	}
	require.NoError(t, sigsyaml.Unmarshal(data, &hooks))
	require.Len(t, hooks, 3)
	env := pathWithTierwall(t)
	work := t.TempDir()
	fixture, err := filepath.Abs(filepath.Join("testdata", "pipeline"))
	require.NoError(t, err)
	run := func(entry string, args ...string) (string, int) {
		// pre-commit splits entry as a shell would, and appends args.
		words := []string{"-c", entry + ` "$@"`, "hook"}
		cmd := exec.Command("sh", append(words, args...)...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), env...)
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	for _, h := range hooks {
		t.Run(h.ID, func(t *testing.T) {
			require.NotNil(t, h.PassFilenames)
			assert.False(t, *h.PassFilenames, "a render is checked whole, never file by file")
			assert.True(t, h.RequireSerial)
			switch {
			case strings.HasPrefix(h.ID, "tierwall-check"):
				out, code := run(h.Entry, "--config", filepath.Join(fixture, "tierwall.yaml"), filepath.Join(fixture, "base.yaml"))
				assert.Equal(t, 0, code, out)
				assert.Contains(t, out, "tierwall check passed")
				out, code = run(h.Entry, filepath.Join(fixture, "head.yaml"))
				assert.Equal(t, 1, code, out)
				assert.Contains(t, out, "[open-rule]")
				out, code = run(h.Entry) // no args: an empty stdin fails
				assert.Equal(t, 1, code, out)
				assert.Contains(t, out, "empty-input")
			case h.ID == "tierwall-connectivity":
				out, code := run(h.Entry, filepath.Join(fixture, "head.yaml"))
				assert.Equal(t, 0, code, out)
				md, err := os.ReadFile(filepath.Join(work, "CONNECTIVITY.md"))
				require.NoError(t, err)
				assert.Contains(t, string(md), "# Connectivity")
				assert.Contains(t, string(md), "| any | shop/web (Deployment) | TCP/8080 |")
			default:
				t.Fatalf("no test for hook %s", h.ID)
			}
		})
	}
}
