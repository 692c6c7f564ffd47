package bench

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Realistic writes a stream modelled on what real Helm charts render, with
// the references between objects that tierwall infers allows from, for
// namespaces x apps, as a plain multi-document stream (each document after
// Helm's "# Source:" comment), or as a ResourceList when resourceList is set.
// The output depends only on the arguments.
//
// Each app (a subchart of release "core", or of a second release "edge" in
// one namespace in four) is three tiers, web (component frontend), api and
// postgresql (component database), each a Deployment and a Service, plus:
//   - a ConfigMap of connection strings, read by the api through envFrom
//     (checksum/config on its pod template);
//   - env references: the web's API_URL (http://appNN-api:9090), the api's
//     DB_HOST/DB_PORT pair, external hosts (https://api.stripe.example.com,
//     smtp.example.org:587) and, in some apps, a URL or a *_HOST/*_PORT pair
//     naming an api of the next namespace;
//   - an Ingress (class nginx) for the web, routing /api to the api in one
//     app in three;
//   - metrics ports, scraped through prometheus.io annotations (even apps)
//     or a ServiceMonitor (apps 1, 5, 9, ...);
//   - a ServiceAccount, Role and RoleBinding for the api of apps 0, 5, 10,
//     ..., and automountServiceAccountToken set on the SA, the pod, or not
//     at all.
//
// Each namespace also holds an admission webhook (its Deployment and
// Service and a cluster-scoped ValidatingWebhookConfiguration, failurePolicy
// Fail, calling that Service), and one namespace in five a pre-install
// migration Job (a Helm hook). The stream starts with one ingress-nginx
// release: IngressClass, controller Deployment, LoadBalancer Service,
// ConfigMap, ServiceAccount, ClusterRole and ClusterRoleBinding.
//
// That is 9 objects per app on average: 50 namespaces x 20 apps give 9,017
// objects (see RealisticCount), 3,061 of them workloads.
func Realistic(namespaces, apps int, resourceList bool) []byte {
	w := newDocWriter(resourceList, namespaces*apps*9*1300)
	ingressNginx(w)
	for n := 0; n < namespaces; n++ {
		ns := namespaceName(n)
		for a := 0; a < apps; a++ {
			realisticApp(w, newApp(n, a, namespaces, apps))
		}
		admissionWebhook(w, ns)
		if n%5 == 0 && apps > 0 {
			migrationHook(w, newApp(n, 0, namespaces, apps))
		}
	}
	return w.bytes()
}

// RealisticCount is the number of objects Realistic writes.
func RealisticCount(namespaces, apps int) int {
	perNS := 3 // the admission webhook
	for a := 0; a < apps; a++ {
		perNS += 8 // ConfigMap, 3 Services, 3 Deployments, Ingress
		if serviceMonitored(a) {
			perNS++
		}
		if ownServiceAccount(a) {
			perNS += 3
		}
	}
	hooks := 0
	if apps > 0 {
		hooks = (namespaces + 4) / 5
	}
	return 7 + namespaces*perNS + hooks
}

func namespaceName(n int) string { return fmt.Sprintf("team-%03d", n) }

// serviceMonitored apps are scraped through a ServiceMonitor; the others
// of even number through prometheus.io pod annotations.
func serviceMonitored(a int) bool { return a%4 == 1 }

// ownServiceAccount apps run their api under a ServiceAccount of their own
// with a Role (leader election, config watching).
func ownServiceAccount(a int) bool { return a%5 == 0 }

// app is one app's subchart as its release installs it.
type app struct {
	ns, name, release, chart, version, appVersion string
	a                                             int
	// remoteNS and remoteAPI name an api of another namespace it calls.
	remoteNS, remoteAPI string
}

func newApp(n, a, namespaces, apps int) app {
	x := app{
		ns:         namespaceName(n),
		name:       fmt.Sprintf("app%02d", a),
		release:    "core",
		chart:      "platform",
		version:    fmt.Sprintf("1.%d.%d", a%7, n%3),
		appVersion: fmt.Sprintf("2.%d.%d", a%5, a%4),
		a:          a,
		remoteNS:   namespaceName((n + 1) % namespaces),
		remoteAPI:  fmt.Sprintf("app%02d-api", (a+1)%apps),
	}
	if n%4 == 1 && a%2 == 1 {
		x.release, x.chart = "edge", "platform-edge"
	}
	return x
}

// source is the "# Source:" path of one of the app's templates.
func (x app) source(tmpl string) string {
	return x.chart + "/charts/" + x.name + "/templates/" + tmpl
}

// labels are the labels Helm's chart starter puts on every object (and
// app.kubernetes.io/component and part-of, as most public charts add),
// indented by ind.
func (x app) labels(ind, component string) string {
	var b strings.Builder
	b.WriteString(ind + "helm.sh/chart: " + x.name + "-" + x.version + "\n")
	b.WriteString(x.selector(ind, component))
	b.WriteString(ind + "app.kubernetes.io/version: \"" + x.appVersion + "\"\n")
	b.WriteString(ind + "app.kubernetes.io/part-of: " + x.chart + "\n")
	b.WriteString(ind + "app.kubernetes.io/managed-by: Helm\n")
	return b.String()
}

// selector are the labels that select a tier's pods.
func (x app) selector(ind, component string) string {
	s := ind + "app.kubernetes.io/name: " + x.name + "\n" + ind + "app.kubernetes.io/instance: " + x.release + "\n"
	if component != "" {
		s += ind + "app.kubernetes.io/component: " + component + "\n"
	}
	return s
}

func realisticApp(w *docWriter, x app) {
	api, db, web := x.name+"-api", x.name+"-postgresql", x.name+"-web"
	automount := ""
	if ownServiceAccount(x.a) {
		w.doc(x.source("api/serviceaccount.yaml"), fmt.Sprintf(`apiVersion: v1
kind: ServiceAccount
metadata:
  name: %s
  namespace: %s
  labels:
%sautomountServiceAccountToken: false
`, api, x.ns, x.labels("    ", "api")))
		// The SA opts out and the pod opts back in: it needs the token.
		automount = "      serviceAccountName: " + api + "\n      automountServiceAccountToken: true\n"
	} else if x.a%2 == 1 {
		automount = "      automountServiceAccountToken: false\n"
	}
	config := configData(x)
	w.doc(x.source("configmap.yaml"), fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: %s-config
  namespace: %s
  labels:
%sdata:
%s`, x.name, x.ns, x.labels("    ", ""), config))
	if ownServiceAccount(x.a) {
		w.doc(x.source("api/role.yaml"), fmt.Sprintf(`apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: %s
  namespace: %s
  labels:
%srules:
  - apiGroups: [""]
    resources: [configmaps]
    verbs: [get, list, watch]
  - apiGroups: [coordination.k8s.io]
    resources: [leases]
    verbs: [get, create, update]
`, api, x.ns, x.labels("    ", "api")))
		w.doc(x.source("api/rolebinding.yaml"), fmt.Sprintf(`apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: %[1]s
  namespace: %[2]s
  labels:
%[3]sroleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: %[1]s
subjects:
  - kind: ServiceAccount
    name: %[1]s
    namespace: %[2]s
`, api, x.ns, x.labels("    ", "api")))
	}

	grpc := x.a%3 == 0
	w.doc(x.source("web/service.yaml"), x.service(web, "frontend", "    - name: http\n      port: 80\n      targetPort: http\n      protocol: TCP\n"))
	apiPorts := "    - name: http\n      port: 9090\n      targetPort: http\n      protocol: TCP\n"
	if grpc {
		apiPorts += "    - name: grpc\n      port: 9091\n      targetPort: grpc\n      protocol: TCP\n"
	}
	if serviceMonitored(x.a) {
		apiPorts += "    - name: metrics\n      port: 9102\n      targetPort: metrics\n      protocol: TCP\n"
	}
	w.doc(x.source("api/service.yaml"), x.service(api, "api", apiPorts))
	w.doc(x.source("postgresql/service.yaml"), x.service(db, "database", "    - name: tcp-postgresql\n      port: 5432\n      targetPort: postgresql\n      protocol: TCP\n"))

	scrape := func(port string) string {
		if x.a%2 != 0 {
			return ""
		}
		return "        prometheus.io/scrape: \"true\"\n        prometheus.io/port: \"" + port + "\"\n        prometheus.io/path: /metrics\n"
	}
	webAutomount := ""
	if !ownServiceAccount(x.a) {
		webAutomount = automount
	}
	w.doc(x.source("web/deployment.yaml"), x.deployment(web, "frontend", 3, "", webAutomount, fmt.Sprintf(`        - name: web
          image: registry.example.com/%[1]s/%[2]s-web:%[3]s
          imagePullPolicy: IfNotPresent
          ports:
            - name: http
              containerPort: 8080
              protocol: TCP
          env:
            - name: API_URL
              value: http://%[2]s-api:9090
            - name: PUBLIC_URL
              value: https://%[2]s.%[1]s.example.com
          livenessProbe:
            httpGet: {path: /healthz, port: http}
          readinessProbe:
            httpGet: {path: /ready, port: http}
          resources:
            limits: {cpu: 500m, memory: 256Mi}
            requests: {cpu: 50m, memory: 64Mi}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
`, x.ns, x.name, x.appVersion)))

	apiPodPorts := "            - name: http\n              containerPort: 9090\n              protocol: TCP\n"
	if grpc {
		apiPodPorts += "            - name: grpc\n              containerPort: 9091\n              protocol: TCP\n"
	}
	apiPodPorts += "            - name: metrics\n              containerPort: 9102\n              protocol: TCP\n"
	remote := ""
	if x.a%3 == 0 {
		remote = fmt.Sprintf("            - name: INVENTORY_HOST\n              value: %s.%s.svc.cluster.local\n            - name: INVENTORY_PORT\n              value: \"9090\"\n", x.remoteAPI, x.remoteNS)
	}
	sum := sha256.Sum256([]byte(config))
	w.doc(x.source("api/deployment.yaml"), x.deployment(api, "api", 2,
		"        checksum/config: "+hex.EncodeToString(sum[:])+"\n"+scrape("9102"), automount, fmt.Sprintf(`        - name: api
          image: registry.example.com/%[1]s/%[2]s-api:%[3]s
          imagePullPolicy: IfNotPresent
          args: [serve, --listen=:9090, --metrics-listen=:9102]
          ports:
%[4]s          envFrom:
            - configMapRef:
                name: %[2]s-config
          env:
            - name: DB_HOST
              value: %[2]s-postgresql
            - name: DB_PORT
              value: "5432"
            - name: STRIPE_API_BASE
              value: https://api.stripe.example.com
%[5]s            - name: POD_NAMESPACE
              valueFrom:
                fieldRef: {fieldPath: metadata.namespace}
          livenessProbe:
            httpGet: {path: /healthz, port: http}
            initialDelaySeconds: 10
          readinessProbe:
            httpGet: {path: /ready, port: http}
          resources:
            limits: {cpu: "1", memory: 512Mi}
            requests: {cpu: 100m, memory: 128Mi}
          securityContext:
            allowPrivilegeEscalation: false
            runAsNonRoot: true
            capabilities: {drop: [ALL]}
`, x.ns, x.name, x.appVersion, apiPodPorts, remote)))

	dbAutomount := "      automountServiceAccountToken: false\n"
	if x.a%3 == 2 {
		dbAutomount = ""
	}
	w.doc(x.source("postgresql/deployment.yaml"), x.deployment(db, "database", 1, scrape("9187"), dbAutomount, fmt.Sprintf(`        - name: postgresql
          image: docker.io/library/postgres:16.4
          ports:
            - name: postgresql
              containerPort: 5432
              protocol: TCP
          env:
            - name: POSTGRES_DB
              value: %[1]s
            - name: PGDATA
              value: /var/lib/postgresql/data/pgdata
          readinessProbe:
            exec: {command: [pg_isready, -U, postgres]}
          resources:
            requests: {cpu: 250m, memory: 256Mi}
          volumeMounts:
            - {name: data, mountPath: /var/lib/postgresql/data}
        - name: metrics
          image: quay.io/prometheuscommunity/postgres-exporter:v0.15.0
          ports:
            - name: metrics
              containerPort: 9187
              protocol: TCP
          env:
            - name: DATA_SOURCE_URI
              value: localhost:5432/%[1]s?sslmode=disable
      volumes:
        - name: data
          emptyDir: {}
`, x.name)))

	apiPath := ""
	if x.a%3 == 1 {
		apiPath = fmt.Sprintf(`          - path: /api
            pathType: Prefix
            backend:
              service:
                name: %s
                port:
                  name: http
`, api)
	}
	w.doc(x.source("web/ingress.yaml"), fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: %[1]s
  namespace: %[2]s
  labels:
%[3]s  annotations:
    nginx.ingress.kubernetes.io/proxy-body-size: 8m
    cert-manager.io/cluster-issuer: letsencrypt
spec:
  ingressClassName: nginx
  tls:
    - hosts:
        - %[4]s.%[2]s.example.com
      secretName: %[1]s-tls
  rules:
    - host: %[4]s.%[2]s.example.com
      http:
        paths:
%[5]s          - path: /
            pathType: Prefix
            backend:
              service:
                name: %[1]s
                port:
                  name: http
`, web, x.ns, x.labels("    ", "frontend"), x.name, apiPath))

	if serviceMonitored(x.a) {
		w.doc(x.source("api/servicemonitor.yaml"), fmt.Sprintf(`apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: %s
  namespace: %s
  labels:
%s    release: kube-prometheus-stack
spec:
  selector:
    matchLabels:
%s  endpoints:
    - port: metrics
      path: /metrics
      interval: 30s
`, api, x.ns, x.labels("    ", "api"), x.selector("      ", "api")))
	}
}

// configData is the app's ConfigMap data: connection strings the api reads
// through envFrom.
func configData(x app) string {
	s := fmt.Sprintf(`  DATABASE_URL: postgres://%[1]s-postgresql.%[2]s.svc.cluster.local:5432/%[1]s?sslmode=disable
  SMTP_ADDR: smtp.example.org:587
  PAYMENTS_WEBHOOK_URL: https://api.stripe.example.com/v1/webhook_endpoints
  LOG_LEVEL: info
  LOG_FORMAT: json
  FEATURE_FLAGS: "checkout-v2,search-suggest"
`, x.name, x.ns)
	if x.a%5 == 1 {
		s += fmt.Sprintf("  AUTH_SERVICE_URL: http://%s.%s.svc.cluster.local:9090\n", x.remoteAPI, x.remoteNS)
	}
	return s
}

func (x app) service(name, component, ports string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: %s
  namespace: %s
  labels:
%sspec:
  type: ClusterIP
  ports:
%s  selector:
%s`, name, x.ns, x.labels("    ", component), ports, x.selector("    ", component))
}

// deployment is a tier's Deployment; annotations and podSpec are indented
// for the pod template (containers first, then any pod field).
func (x app) deployment(name, component string, replicas int, annotations, automount, containers string) string {
	if annotations != "" {
		annotations = "      annotations:\n" + annotations
	}
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
  namespace: %[2]s
  labels:
%[3]sspec:
  replicas: %[4]d
  revisionHistoryLimit: 10
  selector:
    matchLabels:
%[5]s  template:
    metadata:
%[6]s      labels:
%[7]s    spec:
%[8]s      securityContext:
        runAsNonRoot: true
        fsGroup: 1001
      containers:
%[9]s`, name, x.ns, x.labels("    ", component), replicas, x.selector("      ", component),
		annotations, x.labels("        ", component), automount, containers)
}

// admissionWebhook is a namespace's own validating webhook release: the
// API server calls its Service, and rejects requests when it cannot
// (failurePolicy Fail).
func admissionWebhook(w *docWriter, ns string) {
	x := app{ns: ns, name: "policy-webhook", release: "policy-webhook", chart: "policy-webhook", version: "0.9.1", appVersion: "0.9.1"}
	src := func(t string) string { return "policy-webhook/templates/" + t }
	w.doc(src("service.yaml"), x.service("policy-webhook", "webhook", "    - name: https\n      port: 443\n      targetPort: https\n      protocol: TCP\n"))
	w.doc(src("deployment.yaml"), x.deployment("policy-webhook", "webhook", 2, "", "      automountServiceAccountToken: false\n", `        - name: webhook
          image: registry.example.com/platform/policy-webhook:0.9.1
          args: [--port=8443, --tls-cert-file=/certs/tls.crt, --tls-private-key-file=/certs/tls.key]
          ports:
            - name: https
              containerPort: 8443
              protocol: TCP
          readinessProbe:
            httpGet: {path: /readyz, port: https, scheme: HTTPS}
          volumeMounts:
            - {name: certs, mountPath: /certs, readOnly: true}
      volumes:
        - name: certs
          secret:
            secretName: policy-webhook-tls
`))
	w.doc(src("validatingwebhookconfiguration.yaml"), fmt.Sprintf(`apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: policy-webhook-%[1]s
  labels:
%[2]s  annotations:
    cert-manager.io/inject-ca-from: %[1]s/policy-webhook-tls
webhooks:
  - name: validate.policy-webhook.%[1]s.example.com
    admissionReviewVersions: [v1]
    sideEffects: None
    failurePolicy: Fail
    timeoutSeconds: 10
    clientConfig:
      service:
        name: policy-webhook
        namespace: %[1]s
        path: /validate
        port: 443
    namespaceSelector:
      matchLabels:
        kubernetes.io/metadata.name: %[1]s
    rules:
      - apiGroups: [apps]
        apiVersions: [v1]
        operations: [CREATE, UPDATE]
        resources: [deployments, statefulsets]
        scope: Namespaced
`, ns, x.labels("    ", "webhook")))
}

// migrationHook is the database migration Job an app's chart runs before
// install and upgrade (a Helm hook: Helm deletes and recreates it).
func migrationHook(w *docWriter, x app) {
	w.doc(x.source("api/migrate-job.yaml"), fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata:
  name: %[1]s-db-migrate
  namespace: %[2]s
  labels:
%[3]s  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "-5"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  backoffLimit: 3
  template:
    metadata:
      labels:
%[4]s    spec:
      restartPolicy: Never
      automountServiceAccountToken: false
      containers:
        - name: migrate
          image: registry.example.com/%[2]s/%[1]s-api:%[5]s
          args: [migrate, up]
          envFrom:
            - configMapRef:
                name: %[1]s-config
          env:
            - name: DB_HOST
              value: %[1]s-postgresql
            - name: DB_PORT
              value: "5432"
`, x.name, x.ns, x.labels("    ", "migration"), x.labels("        ", "migration"), x.appVersion))
}

// ingressNginx is an ingress-nginx controller release, the tier entry the
// apps' Ingresses name through class nginx.
func ingressNginx(w *docWriter) {
	x := app{ns: "ingress-nginx", name: "ingress-nginx", release: "ingress-nginx", chart: "ingress-nginx", version: "4.11.3", appVersion: "1.11.3"}
	src := func(t string) string { return "ingress-nginx/templates/" + t }
	labels := x.labels("    ", "controller")
	w.doc(src("controller-serviceaccount.yaml"), fmt.Sprintf(`apiVersion: v1
kind: ServiceAccount
metadata:
  name: ingress-nginx
  namespace: ingress-nginx
  labels:
%sautomountServiceAccountToken: true
`, labels))
	w.doc(src("controller-configmap.yaml"), fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: ingress-nginx-controller
  namespace: ingress-nginx
  labels:
%sdata:
  allow-snippet-annotations: "false"
  use-forwarded-headers: "true"
  proxy-body-size: 8m
`, labels))
	w.doc(src("clusterrole.yaml"), fmt.Sprintf(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: ingress-nginx
  labels:
%srules:
  - apiGroups: [""]
    resources: [configmaps, endpoints, nodes, pods, secrets, namespaces]
    verbs: [list, watch]
  - apiGroups: [""]
    resources: [services]
    verbs: [get, list, watch]
  - apiGroups: [networking.k8s.io]
    resources: [ingresses, ingressclasses]
    verbs: [get, list, watch]
  - apiGroups: [networking.k8s.io]
    resources: [ingresses/status]
    verbs: [update]
  - apiGroups: [discovery.k8s.io]
    resources: [endpointslices]
    verbs: [list, watch, get]
`, labels))
	w.doc(src("clusterrolebinding.yaml"), fmt.Sprintf(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: ingress-nginx
  labels:
%sroleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: ingress-nginx
subjects:
  - kind: ServiceAccount
    name: ingress-nginx
    namespace: ingress-nginx
`, labels))
	w.doc(src("controller-service.yaml"), fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: ingress-nginx-controller
  namespace: ingress-nginx
  labels:
%sspec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  ipFamilyPolicy: SingleStack
  ports:
    - name: http
      port: 80
      targetPort: http
      protocol: TCP
    - name: https
      port: 443
      targetPort: https
      protocol: TCP
  selector:
%s`, labels, x.selector("    ", "controller")))
	w.doc(src("controller-deployment.yaml"), x.deployment("ingress-nginx-controller", "controller", 2, "", "      serviceAccountName: ingress-nginx\n", `        - name: controller
          image: registry.k8s.io/ingress-nginx/controller:v1.11.3
          args:
            - /nginx-ingress-controller
            - --publish-service=$(POD_NAMESPACE)/ingress-nginx-controller
            - --election-id=ingress-nginx-leader
            - --controller-class=k8s.io/ingress-nginx
            - --ingress-class=nginx
            - --configmap=$(POD_NAMESPACE)/ingress-nginx-controller
          env:
            - name: POD_NAMESPACE
              valueFrom:
                fieldRef: {fieldPath: metadata.namespace}
          ports:
            - name: http
              containerPort: 80
              protocol: TCP
            - name: https
              containerPort: 443
              protocol: TCP
            - name: metrics
              containerPort: 10254
              protocol: TCP
          livenessProbe:
            httpGet: {path: /healthz, port: 10254}
          resources:
            requests: {cpu: 100m, memory: 90Mi}
`))
	w.doc(src("controller-ingressclass.yaml"), fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
  labels:
%sspec:
  controller: k8s.io/ingress-nginx
`, labels))
}
