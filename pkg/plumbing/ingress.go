package plumbing

import (
	"fmt"
	"sort"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/policy"
	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/workload"
)

// Annotations and labels of ingress classes.
const (
	IngressClassAnnotation = "kubernetes.io/ingress.class"
	DefaultClassAnnotation = "ingressclass.kubernetes.io/is-default-class"
)

// KnownController is a well-known ingress controller: the controller
// string of its IngressClass, the class name its charts create, and where
// its pods run by default.
type KnownController struct {
	Controller, Class, Namespace string
	PodLabels                    map[string]string
	// Images are substrings of its container images, for a guess.
	Images []string
}

// KnownControllers are the built-in defaults for common controllers,
// assumed (and said so) when an Ingress names their class and neither the
// input nor spec.inference.ingressClasses says where their pods run.
var KnownControllers = []KnownController{
	{Controller: "k8s.io/ingress-nginx", Class: "nginx", Namespace: "ingress-nginx",
		PodLabels: map[string]string{"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"}, Images: []string{"ingress-nginx/controller"}},
	{Controller: "traefik.io/ingress-controller", Class: "traefik", Namespace: "traefik",
		PodLabels: map[string]string{"app.kubernetes.io/name": "traefik"}, Images: []string{"traefik"}},
	{Controller: "haproxy.org/ingress-controller/haproxy", Class: "haproxy", Namespace: "haproxy-controller",
		PodLabels: map[string]string{"app.kubernetes.io/name": "kubernetes-ingress"}, Images: []string{"haproxytech/kubernetes-ingress"}},
	{Controller: "projectcontour.io/ingress-controller", Class: "contour", Namespace: "projectcontour",
		PodLabels: map[string]string{"app.kubernetes.io/name": "contour", "app.kubernetes.io/component": "envoy"}, Images: []string{"envoyproxy/envoy"}},
	{Controller: "ingress-controllers.konghq.com/kong", Class: "kong", Namespace: "kong",
		PodLabels: map[string]string{"app.kubernetes.io/name": "kong"}, Images: []string{"kong/kubernetes-ingress-controller", "kong:"}},
	{Controller: "nginx.org/ingress-controller", Class: "nginx-inc", Namespace: "nginx-ingress",
		PodLabels: map[string]string{"app.kubernetes.io/name": "nginx-ingress"}, Images: []string{"nginx/nginx-ingress"}},
}

// Classes resolves an Ingress's class to the pods of its controller.
type Classes struct {
	r *reader
	// controller is the controller string of each IngressClass of the input.
	controller map[string]string
	// defaultClass is the input's default IngressClass, if any.
	defaultClass string
	// workloads are the controller workloads of the input, per class name.
	workloads map[string][]*workload.Workload
	// all are every controller workload of the input, with why.
	all map[*workload.Workload]string
	// guessed are the controllers recognised only by their image.
	guessed map[*workload.Workload]bool
	// assumed are the classes already reported as assumed.
	assumed map[string]bool
}

func (r *reader) classes() *Classes {
	c := &Classes{r: r, controller: map[string]string{}, workloads: map[string][]*workload.Workload{},
		all: map[*workload.Workload]string{}, guessed: map[*workload.Workload]bool{}, assumed: map[string]bool{}}
	var classObjs []manifest.Object
	for _, o := range r.in.Objects {
		if o.Kind == "IngressClass" && o.Group() == "networking.k8s.io" && o.Node != nil {
			classObjs = append(classObjs, o)
			c.controller[o.Name] = manifest.String(o.Node, "spec", "controller")
			if o.Annotations[DefaultClassAnnotation] == "true" {
				c.defaultClass = o.Name
			}
		}
	}
	for i := range r.in.Workloads {
		w := &r.in.Workloads[i]
		for _, o := range classObjs {
			if why, ok := c.serves(w, o.Name, c.controller[o.Name]); ok {
				c.workloads[o.Name] = append(c.workloads[o.Name], w)
				c.all[w] = why
			}
		}
		if _, ok := c.all[w]; ok || len(classObjs) > 0 {
			continue
		}
		// No IngressClass in the input: a well-known image is a guess.
		for _, k := range KnownControllers {
			if img := imageMatch(w, k.Images); img != "" {
				c.workloads[k.Class] = append(c.workloads[k.Class], w)
				c.all[w] = fmt.Sprintf("its image %s looks like the %s ingress controller (a guess: no IngressClass of the input names it)", img, k.Controller)
				c.guessed[w] = true
				break
			}
		}
	}
	return c
}

// serves reports whether a workload is the controller of an IngressClass:
// its arguments name the class or its controller string, or it carries the
// well-known labels of the class's controller.
func (c *Classes) serves(w *workload.Workload, class, controller string) (string, bool) {
	for _, ct := range w.Containers {
		for _, a := range append(append([]string{}, ct.Command...), ct.Args...) {
			k, v, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if (controller != "" && v == controller && strings.Contains(k, "controller-class")) ||
				(v == class && (strings.HasSuffix(k, "ingress-class") || strings.HasSuffix(strings.ToLower(k), "ingressclass"))) {
				return fmt.Sprintf("its argument %s names IngressClass %s", a, class), true
			}
		}
	}
	for _, k := range KnownControllers {
		if k.Controller == controller && hasLabels(w.PodLabels, k.PodLabels) && imageMatch(w, k.Images) != "" {
			return fmt.Sprintf("IngressClass %s names controller %s, whose pods these are (labels %s and image)", class, controller, manifest.FormatLabels(k.PodLabels)), true
		}
	}
	return "", false
}

func imageMatch(w *workload.Workload, images []string) string {
	for _, ct := range w.Containers {
		for _, i := range images {
			if strings.Contains(ct.Image, i) {
				return ct.Image
			}
		}
	}
	return ""
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// ClassOf returns the class of an Ingress and where it was read: its
// ingressClassName, the legacy annotation, or the input's default class.
func (c *Classes) ClassOf(o manifest.Object) (class, how string) {
	if n := manifest.String(o.Node, "spec", "ingressClassName"); n != "" {
		return n, "spec.ingressClassName"
	}
	if n := o.Annotations[IngressClassAnnotation]; n != "" {
		return n, "annotation " + IngressClassAnnotation
	}
	if c.defaultClass != "" {
		return c.defaultClass, "the input's default IngressClass"
	}
	return "", ""
}

// Entry returns the pods that forward an Ingress's traffic: the configured
// spec.inference.ingressControllers for every Ingress, else the controller
// of its class (in the input, in spec.inference.ingressClasses, or a
// well-known default, said so), with a finding when it is an assumption or
// unknown.
func (c *Classes) Entry(o manifest.Object, resolve func(p v1alpha1.Peer) []graph.Endpoint) ([]graph.Endpoint, string, *framework.Result) {
	spec := c.r.spec.Inference
	if len(spec.IngressControllers) > 0 {
		var out []graph.Endpoint
		for _, p := range spec.IngressControllers {
			out = append(out, resolve(p)...)
		}
		return out, "config spec.inference.ingressControllers", nil
	}
	class, how := c.ClassOf(o)
	if class == "" {
		class, how = "nginx", "no class named and no default IngressClass in the input, so the nginx class is assumed"
	}
	if ws := c.workloads[class]; len(ws) > 0 {
		var out []graph.Endpoint
		for _, w := range ws {
			if selectable(w) {
				out = append(out, graph.FromWorkload(w, c.r.spec.Zones.Key))
			}
		}
		return out, fmt.Sprintf("class %s (%s), whose controller is in the input", class, how), nil
	}
	for _, ic := range spec.IngressClasses {
		if ic.Name == class {
			return []graph.Endpoint{{Kind: graph.Pods, Namespace: ic.Namespace, Selector: ic.PodLabels, Name: "ingress-" + class}},
				fmt.Sprintf("class %s (%s), config spec.inference.ingressClasses", class, how), nil
		}
	}
	ctrl := c.controller[class]
	for _, k := range KnownControllers {
		if (ctrl != "" && k.Controller == ctrl) || (ctrl == "" && k.Class == class) {
			ep := graph.Endpoint{Kind: graph.Pods, Namespace: k.Namespace, Selector: k.PodLabels, Name: "ingress-" + class}
			// An assumption that breaks the app when wrong: a warning, once
			// per class.
			var note *framework.Result
			if !c.assumed[class] {
				c.assumed[class] = true
				note = result.New(result.Warning, nil, "spec.inference.ingressClasses",
					"Ingresses of class %s are assumed to be entered by %s, the defaults of %s: set spec.inference.ingressClasses if its controller runs elsewhere",
					class, ep.Describe(), k.Controller)
			}
			return []graph.Endpoint{ep}, fmt.Sprintf("class %s (%s)", class, how), note
		}
	}
	return nil, "", result.New(result.Warning, result.RefOf(o), "spec.ingressClassName",
		"%s has class %s (%s), whose controller tierwall does not know: nothing is inferred for it; map the class to its controller's pods in spec.inference.ingressClasses",
		o.Ref(), class, how)
}

// controllers gives every ingress controller of the input what a proxy
// needs: egress to pods in every namespace (its backends are in other
// releases), ingress from outside on its Service ports, and the API server.
func (r *reader) controllers() {
	c := r.out.Classes
	ws := make([]*workload.Workload, 0, len(c.all))
	for w := range c.all {
		ws = append(ws, w)
	}
	sort.Slice(ws, func(i, j int) bool { return nsName(ws[i])+"/"+ws[i].Kind < nsName(ws[j])+"/"+ws[j].Kind })
	for _, w := range ws {
		why := c.all[w]
		if c.guessed[w] {
			r.note(result.Warning, w.Object, "", "%s %s is taken for an ingress controller: %s; add its IngressClass to the input or map it in spec.inference.ingressClasses", w.Kind, w.Name, why)
		}
		if !selectable(w) || !r.inScope(w.Namespace) {
			continue
		}
		r.needAPI(w, SourceController, fmt.Sprintf("%s %s is an ingress controller (%s) and watches Ingresses", w.Kind, w.Name, why), w.Object, "")
		self := graph.FromWorkload(w, r.spec.Zones.Key)
		allPods := graph.Endpoint{Kind: graph.Pods, NamespaceLabels: map[string]string{}, Name: "every pod"}
		r.out.Edges = append(r.out.Edges, graph.Edge{From: self, To: allPods, Source: SourceController, Policy: "proxy-egress", Wide: WideProxyEgress, SkipIngress: true,
			Reason: fmt.Sprintf("ingress-controller: %s %s is an ingress controller (%s): it may reach pods in every namespace, since its backends belong to other releases (their own policies admit it on their ports only)", w.Kind, w.Name, why)})
		// Clients reach a controller through its LoadBalancer or NodePort
		// Service (inferred as such, with its source ranges) or through the
		// Service it publishes (--publish-service); its other Services
		// (admission webhook, metrics) are no entry points.
		published := publishService(w)
		for _, s := range r.services[w.Namespace] {
			if !s.Selects(*w) || s.Type == "LoadBalancer" || s.Type == "NodePort" || !published[s.Name] {
				continue
			}
			for _, p := range s.Ports {
				wp, _, ok := s.Target(p, *w)
				if !ok {
					continue
				}
				for _, cidr := range r.spec.Inference.ExternalSources {
					r.out.Edges = append(r.out.Edges, graph.Edge{From: graph.Endpoint{Kind: graph.CIDR, CIDR: cidr, Except: r.spec.Cluster.Except(cidr), Name: "external"}, To: self,
						Ports: portOf(wp), Source: SourceController, SkipEgress: true,
						Reason: fmt.Sprintf("ingress-controller: %s %s is an ingress controller (%s): clients outside the pods (config spec.inference.externalSources) may reach it through %s port %d -> pod port %d", w.Kind, w.Name, why, s.Ref(), p.Port, wp.Port)})
				}
			}
		}
	}
	if len(ws) > 0 {
		var names []string
		for _, w := range ws {
			if selectable(w) && r.inScope(w.Namespace) {
				names = append(names, w.Kind+" "+nsName(w))
			}
		}
		if len(names) > 0 {
			r.out.Results = append(r.out.Results, result.New(result.Warning, nil, "spec.inference.proxies",
				"ingress controllers get egress to pods in every namespace, on every port (their backends' own policies narrow it): %s [%s]", list(names), WideProxyEgress))
		}
	}
}

func portOf(p workload.Port) []networkingv1.NetworkPolicyPort {
	return []networkingv1.NetworkPolicyPort{policy.Port(p.Protocol, p.Port)}
}

// publishService returns the Services a controller's --publish-service
// argument names (namespace/name or name).
func publishService(w *workload.Workload) map[string]bool {
	out := map[string]bool{}
	for _, ct := range w.Containers {
		for _, a := range ct.Args {
			if v, ok := strings.CutPrefix(a, "--publish-service="); ok {
				_, name, found := strings.Cut(v, "/")
				if !found {
					name = v
				}
				out[name] = true
			}
		}
	}
	return out
}
