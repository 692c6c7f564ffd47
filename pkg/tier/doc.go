// Package tier derives who may talk to whom from workload labels and
// configuration: the tier chain (frontend -> api -> database), explicit
// allows from config and workload annotations, external egress, namespace
// isolation and security zones. It returns graph edges, each with its
// reason, that package graph renders into policies.
package tier
