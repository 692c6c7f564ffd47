// Package emit writes generated policies as YAML nodes in one canonical
// shape (fixed key order, sorted maps, YAML 1.1 traps quoted), sorts them by
// namespace and name, and leaves out any that already exist in the input.
package emit
