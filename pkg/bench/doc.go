// Package bench holds tierwall's benchmark tooling: gen writes synthetic
// manifest streams of any size, and noop is the yardstick, a do-nothing
// kyaml function (read the input, write it back) that tierwall is measured
// against by `make bench`.
package bench
