// Package policy builds typed networking/v1 NetworkPolicies: peers, ports,
// metadata with the reason each policy exists, and stable names that fit
// Kubernetes' 63-character limit.
package policy
