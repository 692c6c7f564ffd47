// Package e2e drives the real kustomize, kubectl, Helm 3, Helm 4, kpt, krew,
// podman and kube-apiserver binaries against the examples and the recipes.
// Its tests build only with the e2e build tag (make test and make e2e pass
// it); the binaries' paths come from the environment those targets set, and
// with TIERWALL_E2E=1 a missing binary fails the test instead of skipping it.
package e2e
