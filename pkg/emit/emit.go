package emit

import (
	"sort"

	"github.com/tierwall/tierwall/pkg/policy"
)

// Sort orders generated policies by namespace, then name.
func Sort(gs []policy.Generated) {
	sort.SliceStable(gs, func(i, j int) bool {
		a, b := gs[i].Policy.ObjectMeta, gs[j].Policy.ObjectMeta
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
}
