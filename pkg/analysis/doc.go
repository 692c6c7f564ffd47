// Package analysis evaluates Kubernetes NetworkPolicy semantics over a final
// object set, offline: who may talk to whom, on which ports, and which
// policies allow it. Endpoints are the input's workloads, the pods the
// configuration names but the input lacks (cluster DNS, Prometheus, the
// ingress controller), and address ranges (the internet, the API server,
// named CIDRs) and, on request (Options.SelectorPeers), the peers the
// policies name that none of those matches ("pods app=grafana in namespaces
// name=monitoring", "every pod in namespace kube-system"). Pure functions:
// objects in, a Model out, no I/O.
//
// Semantics follow the NetworkPolicy API: a pod no policy selects for a
// direction is not isolated in it; the rules of every policy selecting it
// add up; peers of one from/to element are ANDed and elements are ORed;
// named ports resolve on the destination pod; a flow between two pods needs
// the source's egress and the destination's ingress. ipBlock peers match
// addresses: a pod's known IPs (Pod objects with status.podIPs), else,
// where the cluster's enforcer matches ipBlocks against pods (every CNI
// but Cilium, and unknown, read as the widest), an address of the pod range
// that stands for every pod (PodAddr); under Cilium pods without IPs match
// no ipBlock. hostNetwork pods are outside NetworkPolicy and left out.
//
// Endpoints with the same namespace, labels and addresses form one class;
// selectors are evaluated once per class and rule, so the cost grows with
// distinct label sets and rules, not with the pods squared.
package analysis
