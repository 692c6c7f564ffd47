// Package badinput holds no code, only the bad-input matrix: every case of
// testdata/bad-input/ run through both front ends (the KRM function and the
// Helm post-renderer), in process and through the built binaries, asserting
// that tierwall either writes correct output (every input object unchanged,
// idempotent, YAML 1.1 readers reading the same strings) or fails with a
// message naming the document and the problem and writes no partial output.
package badinput
