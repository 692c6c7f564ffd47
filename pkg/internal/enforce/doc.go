// Package enforce proves tierwall's analysis against real NetworkPolicy
// enforcers, packet by packet. A Plan turns a rendered object set into the
// pods, outside hosts, policies and probes of one case, and says what the
// analysis (pkg/analysis) expects of each probe. A Sandbox runs one enforcer
// (kube-network-policies or kube-router's firewall) against its own
// kube-apiserver, with one network namespace per pod and per host inside a
// "node" namespace that has no route out, and returns what the enforcer
// allowed. Linux and root only; the tests that use it are end-to-end tests.
package enforce
