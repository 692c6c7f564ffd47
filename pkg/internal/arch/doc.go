// Package arch holds the test that keeps tierwall's imports flowing one way:
// the layers written down in docs/architecture.md.
package arch
