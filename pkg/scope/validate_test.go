package scope_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/scope"
)

// TestFindRefusesWhatPoliciesWouldCopy: objects whose namespace, name or
// labels tierwall would copy into policies the API server refuses are
// errors naming the document, the object and the field; valid objects,
// unknown kinds and tierwall's own output are not.
func TestFindRefusesWhatPoliciesWouldCopy(t *testing.T) {
	long := strings.Repeat("v", 64)
	tests := map[string]struct {
		stream string
		want   []string // "field: message part"
	}{
		"valid": {stream: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec: {selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web, "1.0": "yes"}}}}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: Not_A_DNS_Name, namespace: shop}
`},
		"invalid namespace": {
			stream: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: Shop_Prod}\n",
			want:   []string{`metadata.namespace: document 0 (ConfigMap Shop_Prod/c): metadata.namespace "Shop_Prod" is not a valid namespace name`},
		},
		"namespace too long": {
			stream: "apiVersion: v1\nkind: Namespace\nmetadata: {name: " + strings.Repeat("n", 64) + "}\n",
			want:   []string{`metadata.name: document 0 (Namespace ` + strings.Repeat("n", 64) + `): "` + strings.Repeat("n", 64) + `" is not a valid namespace name: must be no more than 63 characters`},
		},
		"no name": {
			stream: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {namespace: shop}\n",
			want:   []string{"metadata.name: document 1 (Deployment in namespace shop): no metadata.name"},
		},
		"workload name": {
			stream: "apiVersion: v1\nkind: Pod\nmetadata: {name: Web_1}\n",
			want:   []string{`metadata.name: document 0 (Pod Web_1): "Web_1" is not a valid name`},
		},
		"label value too long in the selector and the pods": {
			stream: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {selector: {matchLabels: {app: " + long + "}}, template: {metadata: {labels: {app: " + long + "}}}}\n",
			want: []string{
				`spec.template.metadata.labels.app: document 0 (Deployment web): label value "` + long + `" is invalid: must be no more than 63`,
				`spec.selector.matchLabels.app: document 0 (Deployment web): label value "` + long + `" is invalid: must be no more than 63`,
			},
		},
		"label key": {
			stream: "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: nightly}\nspec: {jobTemplate: {spec: {template: {metadata: {labels: {team name: x}}}}}}\n",
			want:   []string{`spec.jobTemplate.spec.template.metadata.labels: document 0 (CronJob nightly): label key "team name" is invalid`},
		},
		"List": {
			stream: "apiVersion: v1\nkind: List\nitems: []\n",
			want:   []string{"items: document 0 (List): a v1/List wraps objects that tierwall does not read"},
		},
		"typed list": {
			stream: "apiVersion: apps/v1\nkind: DeploymentList\nitems: [{apiVersion: apps/v1, kind: Deployment, metadata: {name: web}}]\n",
			want:   []string{"items: document 0 (DeploymentList): a apps/v1/DeploymentList wraps objects"},
		},
		"a kind named like a list without items": {
			stream: "apiVersion: example.com/v1\nkind: AllowList\nmetadata: {name: ok, namespace: shop}\nspec: {items: []}\n",
		},
		"tierwall's own output": {
			stream: "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: Bad_Name, namespace: shop, labels: {app.kubernetes.io/managed-by: tierwall}}\n",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, rs := scope.Find(spec(t, "  namespace: \"\"\n"), objects(t, tc.stream))
			var got []string
			for _, r := range rs {
				if r.Severity == result.Error {
					got = append(got, r.Field.Path+": "+r.Message)
				}
			}
			if assert.Len(t, got, len(tc.want), "%v", got) {
				for i, w := range tc.want {
					assert.Contains(t, got[i], w)
				}
			}
		})
	}
}
