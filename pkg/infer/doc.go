// Package infer reads who talks to whom from the manifests themselves:
// Ingress and Gateway API route backends, LoadBalancer and NodePort
// Services, Service references in env values, consumed ConfigMaps and
// Secrets, args and commands, and ServiceMonitors and PodMonitors. Each
// inference is a graph edge whose reason names its source. Values are never
// copied anywhere: reasons name the object and key only.
package infer
