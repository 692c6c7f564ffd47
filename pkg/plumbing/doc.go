// Package plumbing reads the platform plumbing that manifests declare and
// that a default-deny would cut: API server access of workloads bound by
// RBAC, the control plane's calls to admission, conversion and
// aggregated-API webhooks, ingress controllers and in-namespace Gateway API
// gateways as proxies, the peers of a StatefulSet, node-local agents, cloud
// workload identity, service-mesh sidecars and Helm hooks.
//
// Each need becomes a graph edge with a reason, a source (the
// tierwall.io/source annotation, and the spec.inference switch that turns it
// off) and, for the deliberately wide defaults written when the cluster
// profile lacks an address, the check id that reports it (the
// tierwall.io/wide annotation). The needs that must hold for an app to work
// (API access, webhooks) are also returned as Needs, which package check
// verifies through the analysis of the final object set.
package plumbing
