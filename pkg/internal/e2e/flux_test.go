//go:build e2e

package e2e

// The Flux recipes of docs/pipelines.md: each option's GitHub workflow steps,
// read from the example files and executed as a runner would.

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/manifest"
)

// ---------------------------------------------------------------------------------------------
// Shared helpers

// workflowStep is a step of a GitHub Actions job.
type workflowStep struct {
	id, run string
	env     map[string]string
}

// readWorkflow returns the steps of the workflow's only job and the environment the
// workflow and the job set.
func readWorkflow(t *testing.T, path string) (map[string]workflowStep, map[string]string) {
	t.Helper()
	wf := readDoc(t, path)
	env := manifest.StringMap(wf, "env")
	jobs := manifest.Lookup(wf, "jobs")
	require.NotNil(t, jobs)
	require.Len(t, jobs.Content, 2, "one job")
	job := jobs.Content[1]
	for k, v := range manifest.StringMap(job, "env") {
		env[k] = v
	}
	steps := map[string]workflowStep{}
	for _, s := range manifest.Items(job, "steps") {
		id := manifest.String(s, "id")
		if id == "" {
			continue
		}
		steps[id] = workflowStep{id: id, run: manifest.String(s, "run"), env: manifest.StringMap(s, "env")}
	}
	return steps, env
}

// runner runs workflow steps the way a GitHub-hosted runner does: bash -eo pipefail in
// the checkout, GITHUB_* and RUNNER_TEMP set, GITHUB_PATH additions on the PATH of the
// following steps.
type runner struct {
	t                        *testing.T
	workspace, temp, ghPath  string
	basePath                 string
	workflowEnv, overrideEnv map[string]string
	lastStdout, lastStderr   string
}

func newRunner(t *testing.T, workspace, basePath string, workflowEnv, override map[string]string) *runner {
	r := &runner{t: t, workspace: workspace, temp: t.TempDir(), basePath: basePath, workflowEnv: workflowEnv, overrideEnv: override}
	r.ghPath = filepath.Join(r.temp, "github_path")
	require.NoError(t, os.WriteFile(r.ghPath, nil, 0o644))
	return r
}

func (r *runner) path() string {
	data, err := os.ReadFile(r.ghPath)
	require.NoError(r.t, err)
	lines := strings.Fields(string(data))
	slices.Reverse(lines) // the last one added comes first
	return strings.Join(append(lines, r.basePath), ":")
}

func (r *runner) run(step workflowStep) error {
	r.t.Helper()
	require.NotEmpty(r.t, step.run, "step %s has no run", step.id)
	script := filepath.Join(r.temp, step.id+".sh")
	require.NoError(r.t, os.WriteFile(script, []byte(step.run), 0o644))
	env := []string{
		"PATH=" + r.path(), "HOME=" + filepath.Join(r.temp, "home"), "RUNNER_TEMP=" + r.temp, "GITHUB_PATH=" + r.ghPath,
		"GITHUB_WORKSPACE=" + r.workspace, "GITHUB_SHA=" + gitHead(r.t, r.workspace), "GITHUB_REF_NAME=main",
		"GITHUB_REPOSITORY=example/shop", "GITHUB_SERVER_URL=https://github.com", "GITHUB_ACTOR=example",
		"GIT_CONFIG_NOSYSTEM=1",
	}
	for _, m := range []map[string]string{r.workflowEnv, step.env, r.overrideEnv} {
		for k, v := range m {
			env = append(env, k+"="+v)
		}
	}
	var err error
	r.lastStdout, r.lastStderr, err = runEnv(r.t, r.workspace, env, nil, "bash", "--noprofile", "--norc", "-eo", "pipefail", script)
	return err
}

func gitHead(t *testing.T, dir string) string {
	out, stderr, err := runCmd(t, dir, nil, "git", "rev-parse", "HEAD")
	require.NoError(t, err, stderr)
	return strings.TrimSpace(out)
}

// git runs git in dir with a private, fixed identity.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	env := append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir, "GIT_AUTHOR_NAME=test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=test", "GIT_COMMITTER_EMAIL=test@example.com")
	out, stderr, err := runEnv(t, dir, env, nil, append([]string{"git"}, args...)...)
	require.NoError(t, err, "git %s: %s", strings.Join(args, " "), stderr)
	return strings.TrimSpace(out)
}

// renderCall is one render.sh line of a workflow's render step.
type renderCall struct {
	env                  map[string]string
	script, src, out, ns string
}

var renderLine = regexp.MustCompile(`^\s*((?:[A-Z_]+=\S*\s+)*)(\S*render\.sh)\s+(\S+)\s+(\S+)\s+(\S+)\s*$`)

func renderCalls(t *testing.T, run string) []renderCall {
	t.Helper()
	var calls []renderCall
	for _, line := range strings.Split(run, "\n") {
		m := renderLine.FindStringSubmatch(line)
		if m == nil {
			require.Empty(t, strings.TrimSpace(line), "the render step runs render.sh lines only: %q", line)
			continue
		}
		c := renderCall{env: map[string]string{}, script: m[2], src: m[3], out: m[4], ns: m[5]}
		for _, kv := range strings.Fields(m[1]) {
			k, v, _ := strings.Cut(kv, "=")
			c.env[k] = v
		}
		calls = append(calls, c)
	}
	require.NotEmpty(t, calls)
	return calls
}

// TestFluxRecipes runs each Flux option's workflow steps (install tierwall from a local
// copy of the release, render, and for the commit option the commit to a local origin),
// then checks the rendered folders and that the Flux objects apply exactly them.
func TestFluxRecipes(t *testing.T) {
	kustomize := tool(t, "KUSTOMIZE")
	helm := tool(t, "HELM3")
	tierwallBin(t, "tierwall")
	_, err := exec.LookPath("git")
	require.NoError(t, err, "the commit option needs git")
	root := repoRoot(t)
	rel := buildRelease(t, releaseVersion)
	releaseURL := serveRelease(t, rel)
	// What the workflows' setup steps install.
	setup := binDir(t, map[string]string{"helm": helm, "kustomize": kustomize})

	for _, option := range []string{"commit", "oci"} {
		t.Run(option, func(t *testing.T) {
			steps, wfEnv := readWorkflow(t, filepath.Join(root, "examples", "flux", option, "workflow.yaml"))
			require.Contains(t, wfEnv, "TIERWALL_RELEASE_URL")
			assert.True(t, strings.HasPrefix(wfEnv["TIERWALL_RELEASE_URL"], "https://"), "the release folder (replaced here by a local copy)")

			// The checkout: this repository's examples, committed, with a local origin.
			repo := copyExamples(t)
			origin := filepath.Join(t.TempDir(), "origin.git")
			git(t, filepath.Dir(origin), "init", "--quiet", "--bare", origin)
			git(t, repo, "init", "--quiet", "-b", "main")
			git(t, repo, "add", ".")
			git(t, repo, "commit", "--quiet", "-m", "app")
			git(t, repo, "remote", "add", "origin", "file://"+origin)
			git(t, repo, "push", "--quiet", "origin", "main")

			r := newRunner(t, repo, setup+":"+sysPath, wfEnv, map[string]string{"TIERWALL_RELEASE_URL": releaseURL})
			require.NoError(t, r.run(steps["install-tierwall"]), "install-tierwall: %s%s", r.lastStdout, r.lastStderr)
			for _, cmd := range []string{"tierwall", "tierwall-postrender"} {
				p, err := exec.LookPath(filepath.Join(strings.Split(r.path(), ":")[0], cmd))
				require.NoError(t, err, "install-tierwall puts %s on the PATH", cmd)
				out, stderr, err := runCmd(t, "", nil, p, map[string]string{"tierwall": "version", "tierwall-postrender": "--version"}[cmd])
				require.NoError(t, err, stderr)
				assert.True(t, strings.HasPrefix(out, cmd+" "+releaseVersion+" (commit "), out)
			}

			require.NoError(t, r.run(steps["render"]), "render: %s%s", r.lastStdout, r.lastStderr)
			calls := renderCalls(t, steps["render"].run)
			rendered := map[string]renderCall{} // by output folder
			for _, c := range calls {
				require.Equal(t, "examples/flux/render.sh", c.script, "the render step runs this repository's render.sh")
				data, err := os.ReadFile(filepath.Join(repo, c.out, "manifests.yaml"))
				require.NoError(t, err, "render.sh writes %s/manifests.yaml", c.out)
				src := filepath.Join(repo, c.src)
				var plain, stderr string
				if _, err := os.Stat(filepath.Join(src, "Chart.yaml")); err == nil {
					release := c.env["RELEASE"]
					if release == "" {
						release = filepath.Base(c.src)
					}
					plain, stderr, err = helmRun(t, helmEnv(t), "", nil, helm, "template", release, src, "--namespace", c.ns, "--include-crds")
					require.NoError(t, err, stderr)
				} else {
					plain, stderr, err = runCmd(t, "", nil, kustomize, "build", src)
					require.NoError(t, err, stderr)
				}
				checkRendered(t, string(data), plain, c.ns)
				rendered[filepath.Clean(c.out)] = c
			}

			// The Flux objects apply each rendered folder, with its namespace.
			fluxObjs := readObjects(t, filepath.Join(root, "examples", "flux", option, "flux.yaml"))
			sourceKind := map[string]string{"commit": "GitRepository", "oci": "OCIRepository"}[option]
			var source *yaml.Node
			namespaces := map[string]bool{}
			var kustomizations []*yaml.Node
			for _, o := range fluxObjs {
				n := o.YNode()
				switch manifest.String(n, "kind") {
				case sourceKind:
					require.Nil(t, source, "one source")
					source = n
				case "Kustomization":
					require.Equal(t, "kustomize.toolkit.fluxcd.io/v1", manifest.String(n, "apiVersion"))
					kustomizations = append(kustomizations, n)
				case "Namespace":
					namespaces[manifest.String(n, "metadata", "name")] = true
				default:
					t.Errorf("unexpected %s in flux.yaml", manifest.String(n, "kind"))
				}
			}
			require.NotNil(t, source, "flux.yaml has a %s", sourceKind)
			assert.Equal(t, "source.toolkit.fluxcd.io/v1", manifest.String(source, "apiVersion"))

			// Where the rendered folders are, seen from the source's root.
			artifactRoot := "."
			if option == "oci" {
				push := steps["push"].run
				m := regexp.MustCompile(`--path=(\S+)`).FindStringSubmatch(push)
				require.NotNil(t, m, "the push step names the folder it pushes")
				artifactRoot = m[1]
				assert.Regexp(t, `flux push artifact "\$artifact:`, push)
				url := manifest.String(source, "spec", "url")
				assert.True(t, strings.HasPrefix(url, "oci://ghcr.io/") && strings.HasSuffix(url, "/manifests"), url)
				assert.Contains(t, push, `artifact="oci://ghcr.io/${GITHUB_REPOSITORY,,}/manifests"`)
				assert.Contains(t, push, "--tag "+manifest.String(source, "spec", "ref", "tag"), "the tag the OCIRepository follows")
			} else {
				m := regexp.MustCompile(`refs/heads/(\S+)"`).FindStringSubmatch(steps["commit"].run)
				require.NotNil(t, m)
				assert.Equal(t, m[1], manifest.String(source, "spec", "ref", "branch"), "Flux watches the branch the workflow pushes")
			}
			applied := map[string]bool{}
			for _, k := range kustomizations {
				name := manifest.String(k, "metadata", "name")
				assert.Equal(t, sourceKind, manifest.String(k, "spec", "sourceRef", "kind"), name)
				assert.Equal(t, manifest.String(source, "metadata", "name"), manifest.String(k, "spec", "sourceRef", "name"), name)
				assert.Equal(t, "true", manifest.String(k, "spec", "prune"), name)
				folder := filepath.Join(artifactRoot, manifest.String(k, "spec", "path"))
				c, ok := rendered[folder]
				require.True(t, ok, "Kustomization %s applies %s, which the workflow does not render", name, folder)
				applied[folder] = true
				// Objects without a namespace (a chart's) need the Kustomization to name it.
				target := manifest.String(k, "spec", "targetNamespace")
				if target != "" {
					assert.Equal(t, c.ns, target, name)
					assert.True(t, namespaces[target], "flux.yaml creates namespace %s: the chart does not", target)
				}
				data, err := os.ReadFile(filepath.Join(repo, folder, "manifests.yaml"))
				require.NoError(t, err)
				var objs []manifest.Object
				for i, n := range parseObjects(t, string(data)) {
					objs = append(objs, manifest.FromNode(i, n))
				}
				scopes := manifest.NewScopes(objs)
				for _, o := range objs {
					if ns, _ := scopes.Namespaced(o); ns && o.Namespace == "" {
						assert.Equal(t, c.ns, target, "%s: %s %s has no namespace: the Kustomization needs targetNamespace", name, o.Kind, o.Name)
					}
				}
			}
			assert.Len(t, applied, len(rendered), "every rendered folder is applied")

			if option == "commit" {
				require.NoError(t, r.run(steps["commit"]), "commit: %s%s", r.lastStdout, r.lastStderr)
				first := git(t, origin, "rev-parse", "rendered")
				files := strings.Fields(git(t, origin, "ls-tree", "-r", "--name-only", "rendered"))
				var want []string
				for folder := range rendered {
					want = append(want, filepath.ToSlash(filepath.Join(folder, "manifests.yaml")))
				}
				sort.Strings(want)
				assert.Equal(t, want, files, "the branch holds rendered/ only")
				for _, f := range files {
					data, err := os.ReadFile(filepath.Join(repo, f))
					require.NoError(t, err)
					assert.Equal(t, strings.TrimSpace(string(data)), git(t, origin, "show", "rendered:"+f))
				}
				assert.Empty(t, git(t, repo, "status", "--porcelain", "--untracked-files=no"), "the checkout is left as it is")

				require.NoError(t, r.run(steps["commit"]), "commit again: %s%s", r.lastStdout, r.lastStderr)
				assert.Equal(t, first, git(t, origin, "rev-parse", "rendered"), "nothing to commit when nothing changed")

				f := filepath.Join(repo, want[0])
				require.NoError(t, os.WriteFile(f, []byte("# changed\n"), 0o644))
				require.NoError(t, r.run(steps["commit"]), "commit a change: %s%s", r.lastStdout, r.lastStderr)
				assert.Equal(t, first, git(t, origin, "rev-parse", "rendered^"), "one commit on top of the last")
			}
		})
	}

	t.Run("render.sh fails closed", func(t *testing.T) {
		repo := copyExamples(t)
		script := filepath.Join(repo, "examples", "flux", "render.sh")
		bins := binDir(t, map[string]string{"helm": helm, "kustomize": kustomize,
			"tierwall": tierwallBin(t, "tierwall"), "tierwall-postrender": tierwallBin(t, "tierwall-postrender")})
		env := []string{"PATH=" + bins + ":" + sysPath, "HOME=" + t.TempDir()}

		// A failed render leaves the last good output alone.
		chart := filepath.Join(repo, "examples", "helm", "three-tier")
		out := filepath.Join(repo, "rendered", "shop")
		require.NoError(t, os.MkdirAll(out, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(out, "manifests.yaml"), []byte("# last good render\n"), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(chart, "templates", "broken.yaml"), []byte(`{{ fail "the chart is broken" }}`), 0o644))
		_, stderr, err := runEnv(t, repo, env, nil, script, chart, out, "shop")
		require.Error(t, err)
		assert.Contains(t, stderr, "the chart is broken")
		data, err := os.ReadFile(filepath.Join(out, "manifests.yaml"))
		require.NoError(t, err)
		assert.Equal(t, "# last good render\n", string(data))
		require.NoError(t, os.Remove(filepath.Join(chart, "templates", "broken.yaml")))

		// A chart that renders nothing would prune the application.
		empty := filepath.Join(repo, "empty")
		require.NoError(t, os.MkdirAll(filepath.Join(empty, "templates"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(empty, "Chart.yaml"), []byte("apiVersion: v2\nname: empty\nversion: 0.1.0\n"), 0o644))
		_, stderr, err = runEnv(t, repo, env, nil, script, empty, filepath.Join(repo, "rendered", "empty"), "shop")
		require.Error(t, err)
		assert.Contains(t, stderr, "rendered no object")

		// A folder it did not write is not its to replace.
		require.NoError(t, os.WriteFile(filepath.Join(out, "kustomization.yaml"), []byte("resources: []\n"), 0o644))
		_, stderr, err = runEnv(t, repo, env, nil, script, chart, out, "shop")
		require.Error(t, err)
		assert.Contains(t, stderr, "not touching it")

		// TIERWALL_CONFIG reaches tierwall-postrender and tierwall check.
		cfg := filepath.Join(repo, "no-monitoring.yaml")
		require.NoError(t, os.WriteFile(cfg, []byte("apiVersion: tierwall.io/v1alpha1\nkind: TierWall\nmetadata:\n  name: tierwall\n"+
			"spec:\n  monitoring: {enabled: false}\n"), 0o644))
		configured := filepath.Join(repo, "rendered", "configured")
		_, stderr, err = runEnv(t, repo, append(env, "TIERWALL_CONFIG="+cfg), nil, script, chart, configured, "shop")
		require.NoError(t, err, stderr)
		data, err = os.ReadFile(filepath.Join(configured, "manifests.yaml"))
		require.NoError(t, err)
		_, policies := splitOutput(t, string(data))
		require.NotNil(t, policyNamed(policies, "default-deny-all"))
		assert.Nil(t, policyNamed(policies, "allow-monitoring"))

		// Findings of tierwall check fail the job: here a policy of the chart's own that
		// admits everyone.
		open := filepath.Join(chart, "templates", "allow-everything.yaml")
		require.NoError(t, os.WriteFile(open, []byte("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"+
			"metadata:\n  name: allow-everything\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n  ingress:\n    - {}\n"), 0o644))
		fresh := filepath.Join(repo, "rendered", "open")
		_, stderr, err = runEnv(t, repo, env, nil, script, chart, fresh, "shop")
		require.Error(t, err, "a policy open to every source is a finding: %s", stderr)
		assert.Contains(t, stderr, "tierwall check failed")
		_, statErr := os.Stat(filepath.Join(fresh, "manifests.yaml"))
		assert.True(t, os.IsNotExist(statErr), "nothing written")
	})
}

// ---------------------------------------------------------------------------------------------
// kpt
