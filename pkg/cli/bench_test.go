package cli_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/bench"
	"github.com/tierwall/tierwall/pkg/cli"
)

// bigStream is a Helm 3 style stream of about n objects: three-tier apps
// (frontend -> api -> database, a Deployment and a Service each) in their
// own namespaces, the shape of a large platform chart.
func bigStream(n int) []byte {
	tiers := []string{"frontend", "api", "database"}
	var b bytes.Buffer
	for app := 0; app*7 < n; app++ {
		fmt.Fprintf(&b, "---\n# Source: big/templates/namespace.yaml\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: app-%d\n", app)
		for _, tier := range tiers {
			fmt.Fprintf(&b, `---
# Source: big/templates/%[2]s.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[2]s
  namespace: app-%[1]d
  labels:
    tier: %[2]s
spec:
  selector:
    matchLabels:
      app: %[2]s
  template:
    metadata:
      labels:
        app: %[2]s
        tier: %[2]s
    spec:
      containers:
        - name: main
          image: example/%[2]s:1.0
          ports:
            - name: http
              containerPort: 8080
---
# Source: big/templates/%[2]s.yaml
apiVersion: v1
kind: Service
metadata:
  name: %[2]s
  namespace: app-%[1]d
spec:
  selector:
    app: %[2]s
  ports:
    - port: 80
      targetPort: http
`, app, tier)
		}
	}
	return b.Bytes()
}

// BenchmarkRender runs the post-renderer on streams of growing size, up to
// the 9,000 objects of the largest charts; time per object should stay flat.
func BenchmarkRender(b *testing.B) {
	spec, _, err := v1alpha1.Load(nil)
	require.NoError(b, err)
	for _, n := range []int{900, 9000} {
		in := bigStream(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			for i := 0; i < b.N; i++ {
				if _, _, err := cli.RenderStream(in, spec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRenderRealistic runs the post-renderer on the realistic data set
// at 3,010 and 9,017 objects (15 and 50 namespaces); time per object should
// stay flat.
func BenchmarkRenderRealistic(b *testing.B) {
	spec, _, err := v1alpha1.Load(nil)
	require.NoError(b, err)
	for _, size := range [][2]int{{15, 22}, {50, 20}} {
		in := bench.Realistic(size[0], size[1], false)
		b.Run(fmt.Sprint(bench.RealisticCount(size[0], size[1])), func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			for i := 0; i < b.N; i++ {
				if _, _, err := cli.RenderStream(in, spec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
