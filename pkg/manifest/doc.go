// Package manifest holds the light model tierwall keeps of each input
// document: its identity (apiVersion, kind, namespace, name), labels and
// annotations, its position in the stream and the parsed node, read without
// changing anything. It also knows which kinds are cluster-scoped.
package manifest
