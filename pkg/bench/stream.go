package bench

import "fmt"

var tiers = []struct{ name, port string }{{"frontend", "8080"}, {"api", "9090"}, {"database", "5432"}}

// Stream writes namespaces x apps x 3 tiers, each a Deployment, a Service
// and a ConfigMap (9 objects per app), as a plain multi-document stream, or
// as a ResourceList (kyaml's layout) when resourceList is set.
func Stream(namespaces, apps int, resourceList bool) []byte {
	w := newDocWriter(resourceList, namespaces*apps*3*1200)
	doc := func(s string) { w.doc("", s) }
	for n := 0; n < namespaces; n++ {
		ns := fmt.Sprintf("team-%03d", n)
		for a := 0; a < apps; a++ {
			for _, t := range tiers {
				name := fmt.Sprintf("app%02d-%s", a, t.name)
				doc(fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
  namespace: %[2]s
  labels:
    app: %[1]s
spec:
  replicas: 2
  selector:
    matchLabels:
      app: %[1]s
  template:
    metadata:
      labels:
        app: %[1]s
        tier: %[3]s
        part-of: app%02[5]d
    spec:
      containers:
        - name: main
          image: registry.example.com/%[1]s:1.0.0
          ports:
            - name: http
              containerPort: %[4]s
            - name: metrics
              containerPort: 9100
          envFrom:
            - configMapRef:
                name: %[1]s
          resources:
            requests: {cpu: 100m, memory: 128Mi}
`, name, ns, t.name, t.port, a))
				doc(fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: %[1]s
  namespace: %[2]s
spec:
  selector:
    app: %[1]s
  ports:
    - name: http
      port: 80
      targetPort: http
`, name, ns))
				doc(fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: %[1]s
  namespace: %[2]s
data:
  LOG_LEVEL: info
  FEATURE_FLAGS: "a,b,c"
  GREETING: "hello from %[1]s"
`, name, ns))
			}
		}
	}
	return w.bytes()
}
