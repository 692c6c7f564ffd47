// Package bench holds tierwall's benchmark tooling: two synthetic data sets
// of any size, Realistic (modelled on what real Helm charts render, with the
// references tierwall infers allows from) and Stream (the simple set: a
// Deployment, a Service and a ConfigMap per tier and nothing between them).
// The commands that use them live in scripts/bench: gen writes them, and
// noop, the yardstick, is a do-nothing kyaml function (read the input, write
// it back) that tierwall is measured against by `make bench`.
package bench
