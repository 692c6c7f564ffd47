// Package workload turns objects of any kind that runs pods into one shape:
// the pod template's labels, annotations and ports, the labels that select
// the pods stably, and hostNetwork. The kinds live in one table.
package workload
