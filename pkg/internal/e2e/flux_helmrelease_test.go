//go:build e2e

package e2e

// Flux, option 3: the chart as a native HelmRelease, tierwall's policies computed in CI from
// the HelmRelease (examples/flux/helmrelease/policies.sh) and shipped as a Kustomization of
// their own, and a check of the live objects after Flux deployed them.

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
)

// policiesLine is the policies.sh line of the workflow's policies step.
var policiesLine = regexp.MustCompile(`(?m)^\s*(\S*policies\.sh)\s+(\S+)\s+(\S+)\s+(\S+)\s*$`)

// TestFluxHelmReleaseRecipe runs the workflow's steps as a runner would, against a chart
// repository serving the example chart and a local copy of a release: the policies are those
// tierwall-postrender would add to the HelmRelease's render (its chart at its version, with
// its values), they pass tierwall check with it, and the up-to-date step fails when the
// HelmRelease changes without them. policies.sh refuses what would make the policies lie.
// Then the check-live workflow's step runs against a real API server holding the release.
func TestFluxHelmReleaseRecipe(t *testing.T) {
	helm := tool(t, "HELM3")
	tierwallBin(t, "tierwall")
	_, err := os.Stat(filepath.Join(repoRoot(t), "examples", "flux", "helmrelease", "policies.sh"))
	require.NoError(t, err)
	root := repoRoot(t)
	recipe := filepath.Join(root, "examples", "flux", "helmrelease")
	releaseURL := serveRelease(t, buildRelease(t, releaseVersion))

	// The chart repository the HelmRepository names: the example chart, packaged and indexed.
	charts := t.TempDir()
	_, stderr, err := helmRun(t, helmEnv(t), "", nil, helm, "package", filepath.Join(root, "examples", "helm", "three-tier"), "-d", charts)
	require.NoError(t, err, stderr)
	_, stderr, err = helmRun(t, helmEnv(t), "", nil, helm, "repo", "index", charts)
	require.NoError(t, err, stderr)
	chartURL := serveRelease(t, charts)

	// The Flux objects: a native HelmRelease (no post-renderer) of a HelmRepository chart.
	hrDoc := readDoc(t, filepath.Join(recipe, "app", "helmrelease.yaml"))
	assert.Equal(t, "helm.toolkit.fluxcd.io/v2", manifest.String(hrDoc, "apiVersion"))
	assert.Nil(t, manifest.Lookup(hrDoc, "spec", "postRenderers"))
	assert.Nil(t, manifest.Lookup(hrDoc, "spec", "valuesFrom"))
	repoDoc := readDoc(t, filepath.Join(recipe, "app", "helmrepository.yaml"))
	assert.Equal(t, "source.toolkit.fluxcd.io/v1", manifest.String(repoDoc, "apiVersion"))
	assert.Equal(t, manifest.String(repoDoc, "metadata", "name"), manifest.String(hrDoc, "spec", "chart", "spec", "sourceRef", "name"))
	namespace := manifest.String(hrDoc, "spec", "targetNamespace")
	release := manifest.String(hrDoc, "spec", "releaseName")
	require.NotEmpty(t, namespace)
	require.NotEmpty(t, release)

	steps, wfEnv := readWorkflow(t, filepath.Join(recipe, "workflow.yaml"))
	m := policiesLine.FindStringSubmatch(steps["policies"].run)
	require.NotNil(t, m, "the policies step runs policies.sh")
	assert.Equal(t, "examples/flux/helmrelease/policies.sh", m[1])
	hrPath, repoPath, outDir := m[2], m[3], m[4]
	assert.Equal(t, "examples/flux/helmrelease/app/helmrelease.yaml", hrPath)
	assert.Equal(t, "examples/flux/helmrelease/app/helmrepository.yaml", repoPath)
	assert.Contains(t, steps["up-to-date"].run, outDir, "the up-to-date step looks at what policies.sh writes")

	// Flux applies the folder the workflow writes, and the HelmRelease's folder.
	paths := map[string]string{}
	for _, o := range readObjects(t, filepath.Join(recipe, "flux.yaml")) {
		if o.GetKind() == "Kustomization" {
			paths[o.GetName()] = manifest.String(o.YNode(), "spec", "path")
			assert.Equal(t, "true", manifest.String(o.YNode(), "spec", "prune"))
		}
	}
	assert.Equal(t, map[string]string{"shop": "./" + filepath.Dir(hrPath), "shop-policies": "./" + outDir}, paths)

	// The checkout: this repository's examples, the HelmRepository pointing at the local chart
	// repository (the one change), committed.
	repo := copyExamples(t)
	repoFile := filepath.Join(repo, repoPath)
	data, err := os.ReadFile(repoFile)
	require.NoError(t, err)
	url := manifest.String(repoDoc, "spec", "url")
	require.Equal(t, 1, strings.Count(string(data), "url: "+url))
	require.NoError(t, os.WriteFile(repoFile, []byte(strings.Replace(string(data), "url: "+url, "url: "+chartURL, 1)), 0o644))
	git(t, repo, "init", "--quiet", "-b", "main")
	git(t, repo, "add", ".")
	git(t, repo, "commit", "--quiet", "-m", "fleet")

	setup := binDir(t, map[string]string{"helm": helm})
	r := newRunner(t, repo, setup+":"+sysPath, wfEnv, map[string]string{"TIERWALL_RELEASE_URL": releaseURL,
		"HELM_CACHE_HOME": filepath.Join(t.TempDir(), "cache"), "HELM_CONFIG_HOME": filepath.Join(t.TempDir(), "config")})
	require.NoError(t, r.run(steps["install-tierwall"]), "install-tierwall: %s%s", r.lastStdout, r.lastStderr)
	require.NoError(t, r.run(steps["policies"]), "policies: %s%s", r.lastStdout, r.lastStderr)
	policiesFile := filepath.Join(repo, outDir, "policies.yaml")
	written, err := os.ReadFile(policiesFile)
	require.NoError(t, err)

	// What tierwall-postrender adds to the same render, and nothing else.
	values := filepath.Join(t.TempDir(), "values.yaml")
	require.NoError(t, os.WriteFile(values, []byte(testutil.String(t, manifest.Lookup(hrDoc, "spec", "values"))), 0o644))
	render, stderr, err := helmRun(t, helmEnv(t), "", nil, helm, "template", release, "three-tier", "--repo", chartURL,
		"--version", manifest.String(hrDoc, "spec", "chart", "spec", "version"), "--namespace", namespace, "-f", values)
	require.NoError(t, err, stderr)
	assert.Contains(t, render, "replicas: 3", "the HelmRelease's values")
	post, stderr, err := runCmd(t, "", []byte(render), tierwallBin(t, "tierwall-postrender"), "--namespace", namespace, "--release", release)
	require.NoError(t, err, stderr)
	_, want := splitOutput(t, post)
	docs, got := splitOutput(t, string(written))
	for _, d := range docs {
		assert.Empty(t, strings.TrimSpace(regexp.MustCompile(`(?m)^(---|#.*)$`).ReplaceAllString(d, "")), "only policies: %s", d)
	}
	// (The stream's first policy carries the run's summary as comments: not compared.)
	comments := regexp.MustCompile(`(?m)^# tierwall: .*\n`)
	policyText := func(objs []manifest.Object) map[string]string {
		out := map[string]string{}
		for _, o := range objs {
			out[o.Name] = comments.ReplaceAllString(testutil.String(t, o.Node), "")
		}
		return out
	}
	require.NotEmpty(t, got)
	assert.Equal(t, policyText(want), policyText(got), "the policies tierwall-postrender adds to the HelmRelease's render")
	assert.Equal(t, []string{namespace}, policyNamespaces(got))
	assert.Equal(t, release+"-default-deny-all", policyNamed(got, "default-deny-all").Name, "named after the release")
	assert.NotNil(t, policyNamed(got, release+"-migrate-egress"), "the migration hook's allow")
	checkPasses(t, render+"---\n"+string(written), namespace)

	// Up to date: fails until the policies are committed, then passes, then fails again when
	// the HelmRelease changes without them.
	require.Error(t, r.run(steps["up-to-date"]), "new policies, not committed")
	assert.Contains(t, r.lastStdout, "policies/ is not what the HelmRelease gives")
	git(t, repo, "add", ".")
	git(t, repo, "commit", "--quiet", "-m", "policies")
	require.NoError(t, r.run(steps["policies"]), "policies again: %s%s", r.lastStdout, r.lastStderr)
	require.NoError(t, r.run(steps["up-to-date"]), "up-to-date: %s%s", r.lastStdout, r.lastStderr)
	hrFile := filepath.Join(repo, hrPath)
	hrText, err := os.ReadFile(hrFile)
	require.NoError(t, err)
	changed := strings.Replace(string(hrText), "    migrations:\n      enabled: true\n", "    migrations:\n      enabled: false\n", 1)
	require.NotEqual(t, string(hrText), changed)
	require.NoError(t, os.WriteFile(hrFile, []byte(changed), 0o644))
	require.NoError(t, r.run(steps["policies"]), "policies after the change: %s%s", r.lastStdout, r.lastStderr)
	require.Error(t, r.run(steps["up-to-date"]), "the values changed, the committed policies did not")
	again, err := os.ReadFile(policiesFile)
	require.NoError(t, err)
	_, now := splitOutput(t, string(again))
	assert.Nil(t, policyNamed(now, release+"-migrate-egress"), "no migration Job, no allow for it")
	require.NoError(t, os.WriteFile(hrFile, hrText, 0o644))

	t.Run("policies.sh refuses what Flux would install differently", func(t *testing.T) {
		script := filepath.Join(repo, m[1])
		env := []string{"PATH=" + filepath.Dir(tierwallBin(t, "tierwall")) + ":" + setup + ":" + sysPath, "HOME=" + t.TempDir()}
		for name, edit := range map[string][3]string{ // the text, its replacement, the message
			"valuesFrom": {"  values:\n", "  valuesFrom:\n    - kind: ConfigMap\n      name: shop-values\n  values:\n",
				"spec.valuesFrom: values from the cluster"},
			"a version range":   {"version: 0.1.0", "version: \">=0.1.0\"", `version ">=0.1.0": an exact version, please`},
			"no version":        {"      version: 0.1.0\n", "", `version "": an exact version, please`},
			"postRenderers":     {"  values:\n", "  postRenderers:\n    - kustomize:\n        patches: []\n  values:\n", "spec.postRenderers"},
			"a Git chart":       {"kind: HelmRepository", "kind: GitRepository", "a HelmRepository, please"},
			"another source":    {"name: tierwall-examples", "name: other", "names HelmRepository flux-system/other"},
			"not a HelmRelease": {"kind: HelmRelease", "kind: Kustomization", "not a helm.toolkit.fluxcd.io HelmRelease"},
		} {
			t.Run(name, func(t *testing.T) {
				require.Contains(t, string(hrText), edit[0])
				bad := filepath.Join(t.TempDir(), "helmrelease.yaml")
				require.NoError(t, os.WriteFile(bad, []byte(strings.Replace(string(hrText), edit[0], edit[1], 1)), 0o644))
				out := filepath.Join(t.TempDir(), "policies")
				_, stderr, err := runEnv(t, repo, env, nil, script, bad, repoFile, out)
				require.Error(t, err, "policies.sh accepted %s", name)
				assert.Contains(t, stderr, edit[2])
				_, statErr := os.Stat(out)
				assert.True(t, os.IsNotExist(statErr), "nothing written")
			})
		}
	})

	t.Run("check-live", func(t *testing.T) {
		kubectl := tool(t, "KUBECTL")
		k := startAPIServer(t, root, tool(t, "KUBE_APISERVER"), tool(t, "ETCD"), kubectl)
		liveSteps, liveEnv := readWorkflow(t, filepath.Join(recipe, "check-live.yaml"))
		assert.Equal(t, namespace, liveEnv["NAMESPACE"])
		_, stderr, err := k.run(nil, "create", "namespace", namespace)
		require.NoError(t, err, stderr)
		// What helm-controller leaves installed (its hooks ran and were deleted) and the
		// policies' Kustomization applied.
		var installed []string
		for _, d := range parseObjects(t, render) {
			if manifest.String(d, "metadata", "annotations", "helm.sh/hook") == "" {
				installed = append(installed, testutil.String(t, d))
			}
		}
		out, stderr, err := k.run([]byte(strings.Join(installed, "---\n")+"---\n"+string(written)), "apply", "--server-side", "-n", namespace, "-f", "-")
		require.NoError(t, err, "%s%s", out, stderr)

		kubeconfig, err := os.ReadFile(k.kubeconfig)
		require.NoError(t, err)
		bins := binDir(t, map[string]string{"kubectl": kubectl})
		lr := newRunner(t, repo, bins+":"+sysPath, liveEnv, map[string]string{"TIERWALL_RELEASE_URL": releaseURL,
			"KUBECONFIG_DATA": string(kubeconfig)})
		require.NoError(t, lr.run(liveSteps["install-tierwall"]), "%s%s", lr.lastStdout, lr.lastStderr)
		require.NoError(t, lr.run(liveSteps["check-live"]), "check-live: %s%s", lr.lastStdout, lr.lastStderr)
		assert.Contains(t, lr.lastStdout, "tierwall check passed")
		assert.Contains(t, lr.lastStdout, "checked 3 workloads and 11 policies", "the live Deployments, StatefulSet and policies")

		// Policies gone from the cluster: the frontend can no longer be reached, a finding.
		_, stderr, err = k.run(nil, "delete", "networkpolicy", "-n", namespace, release+"-default-deny-all", release+"-frontend-ingress")
		require.NoError(t, err, stderr)
		require.Error(t, lr.run(liveSteps["check-live"]), "check-live passed without the frontend's policies: %s", lr.lastStdout)
		assert.Contains(t, lr.lastStdout, "tierwall check failed")
		assert.Contains(t, lr.lastStdout, "shop/shop-frontend")
	})
}
