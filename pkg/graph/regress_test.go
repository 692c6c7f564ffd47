package graph_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/workload"
)

// Found by the unit tests: two workloads of one name and different kinds
// whose only policies are of their own (kube-api) get distinct names.
func TestPoliciesOfTheirOwnAreToldApartByKind(t *testing.T) {
	dep := &workload.Workload{Namespace: "shop", Name: "worker", Kind: "Deployment", Selector: map[string]string{"app": "worker"}}
	cron := &workload.Workload{Namespace: "shop", Name: "worker", Kind: "CronJob", Selector: map[string]string{"app": "worker-cron"}}
	var edges []graph.Edge
	for _, w := range []*workload.Workload{dep, cron} {
		edges = append(edges, graph.Edge{From: graph.FromWorkload(w, ""), To: graph.Endpoint{Kind: graph.Anywhere}, Ports: ports(443), Policy: "kube-api", SkipIngress: true})
	}
	gs, _ := graph.Render(edges, graph.Options{IngressDenied: true, EgressDenied: true, InScope: inScope("shop")})
	assert.ElementsMatch(t, []string{"shop/worker-cronjob-kube-api", "shop/worker-deployment-kube-api"}, policyNames(gs))
}
