// Package e2e drives the real kustomize, kubectl and Helm binaries against
// the examples. The binaries' paths come from the environment (make test and
// make e2e set them); with TIERWALL_E2E=1 a missing binary fails the test.
package e2e
