package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"

	"github.com/tierwall/tierwall/pkg/analysis"
	"github.com/tierwall/tierwall/pkg/check"
	"github.com/tierwall/tierwall/pkg/fallback"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/stream"
	"github.com/tierwall/tierwall/pkg/version"
)

// checkInput reads what tierwall check reads, and where each object was
// read from, for the formats that point at files.
func (r *session) checkInput(cmd *cobra.Command, f *inputFlags, paths []string) (*analysis.Model, []manifest.Object, []stream.Origin, int) {
	opts, code := r.analysisOptions(cmd, f, [][]string{paths})
	if code != ExitOK {
		return nil, nil, nil, code
	}
	objs, origins, err := (&stream.Reader{Stdin: r.Stdin}).Read(paths)
	if err != nil {
		fmt.Fprintf(r.Stderr, "%s: %v\n", cmd.CommandPath(), err)
		return nil, nil, nil, ExitInput
	}
	m := analysis.New(objs, opts)
	return m, objs, origins, ExitOK
}

// location is where a finding points: a file of the repository and a line.
type location struct {
	uri  string
	line int
}

// kpt's annotations naming the file and document an object was read from.
var (
	kptPathAnnotations  = []string{"config.kubernetes.io/path", "internal.config.kubernetes.io/path"}
	kptIndexAnnotations = []string{"config.kubernetes.io/index", "internal.config.kubernetes.io/index"}
)

// locator maps findings back to the files they come from: the chart
// template of Helm's "# Source:", the file of kpt's
// config.kubernetes.io/path, else the input file and line.
type locator struct {
	objs    []manifest.Object
	origins []stream.Origin
	byRef   map[string]int
	// root is what # Source: and config.kubernetes.io/path are relative to
	// (--source-root).
	root string
	// first is the input named first, for findings on no object.
	first string
	lines map[string][]int // document start lines of files read for kpt
}

func newLocator(objs []manifest.Object, origins []stream.Origin, root string, paths []string) *locator {
	l := &locator{objs: objs, origins: origins, byRef: map[string]int{}, root: root, lines: map[string][]int{}}
	for i := len(objs) - 1; i >= 0; i-- {
		o := objs[i]
		l.byRef[refKey(o.APIVersion, o.Kind, o.Namespace, o.Name)] = i
	}
	if len(paths) > 0 && paths[0] != "-" {
		l.first = paths[0]
		if files, err := stream.ManifestFiles(paths[0]); err == nil && len(files) > 0 {
			l.first = files[0]
		}
	}
	return l
}

func refKey(apiVersion, kind, ns, name string) string {
	return apiVersion + "/" + kind + "/" + ns + "/" + name
}

// locate returns where a finding points.
func (l *locator) locate(res *framework.Result) location {
	i, ok := -1, false
	if ref := res.ResourceRef; ref != nil {
		i, ok = l.byRef[refKey(ref.APIVersion, ref.Kind, ref.Namespace, ref.Name)]
	}
	if !ok {
		return location{uri: l.uri(l.first), line: 1}
	}
	o, org := l.objs[i], l.origins[i]
	if org.Source != "" {
		// Lines of the rendered output are not lines of the template.
		return location{uri: l.uri(filepath.Join(l.root, filepath.FromSlash(org.Source))), line: 1}
	}
	for j, a := range kptPathAnnotations {
		if p := o.Annotations[a]; p != "" {
			file := filepath.Join(l.root, filepath.FromSlash(p))
			return location{uri: l.uri(file), line: l.documentLine(file, o.Annotations[kptIndexAnnotations[j]])}
		}
	}
	field := ""
	if res.Field != nil {
		field = res.Field.Path
	}
	return location{uri: l.uri(org.File), line: org.LineOf(field)}
}

// documentLine is the first line of document index of a file, 1 when the
// file cannot be read.
func (l *locator) documentLine(file, index string) int {
	n, err := strconv.Atoi(index)
	if err != nil || n < 0 {
		return 1
	}
	starts, ok := l.lines[file]
	if !ok {
		if data, err := os.ReadFile(file); err == nil {
			for _, c := range stream.Split(data) {
				if len(strings.TrimSpace(string(c.Raw))) > 0 {
					starts = append(starts, c.Line+stream.ContentLine(c.Raw))
				}
			}
		}
		l.lines[file] = starts
	}
	if n < len(starts) {
		return starts[n]
	}
	return 1
}

// uri is a path as a relative URI with forward slashes ("stdin" for
// stdin).
func (l *locator) uri(p string) string {
	if p == "" || p == "-" {
		return "stdin"
	}
	if filepath.IsAbs(p) {
		if wd, err := os.Getwd(); err == nil {
			if rel, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(rel, "..") {
				p = rel
			}
		}
	}
	return (&url.URL{Path: path.Clean(filepath.ToSlash(p))}).String()
}

// shown are the findings the file formats report: errors and warnings.
func shown(rs framework.Results) []*framework.Result {
	var out []*framework.Result
	for _, res := range rs {
		if res.Severity == result.Error || res.Severity == result.Warning {
			out = append(out, res)
		}
	}
	return out
}

// ruleOf is a finding's check id ("tierwall" when it has none).
func ruleOf(res *framework.Result) string {
	if id := res.Tags["check"]; id != "" {
		return id
	}
	return "tierwall"
}

// checkDescriptions describe the checks for code scanning.
var checkDescriptions = map[string]string{
	check.InvalidPolicy:      "A policy the API server would refuse",
	check.NotDefaultDenied:   "A workload of a protected namespace not default-denied",
	check.HostNetwork:        "A hostNetwork workload, outside NetworkPolicy",
	check.OpenRule:           "A rule open to every source or destination",
	check.WholeInternet:      "An ipBlock of the whole internet without except",
	check.AllNamespaces:      "Every pod of every namespace on every port",
	check.SplitPeer:          "A namespaceSelector and a podSelector ORed in separate peers",
	check.NoDNS:              "A workload that cannot reach the cluster DNS",
	check.SelectsNoPod:       "A policy whose podSelector matches no workload",
	check.UnknownNamedPort:   "A named port no destination declares",
	check.ServicePort:        "A Service port where the pod port is meant",
	check.InClusterIPBlock:   "An ipBlock aimed at cluster addresses",
	check.NeedsAPI:           "A workload bound by RBAC that cannot reach the API server",
	check.WebhookUnreachable: "A webhook the control plane cannot call",
	check.APIEgressUnscoped:  "API server egress without its addresses",
	check.OpenWebhookPort:    "A webhook port open to every source",
	check.ProxyEgressAllPods: "An ingress controller's egress to every pod",
	check.NodeEgressUnscoped: "Node egress without node addresses",
	check.FallbackCallers:    "A port opened to its namespace for callers the manifests do not name",
	check.UnreachablePort:    "A Service port nothing may reach",
	check.DuplicateObject:    "Two objects of one identity",
	check.UnknownPodTemplate: "A kind read as a workload by its pod template's shape",
	fallback.ExternalCheck:   "An external host reached",
	EmptyInputCheck:          "Input with no workload and no NetworkPolicy",
	"tierwall":               "A tierwall finding",
}

const checksDoc = "https://github.com/tierwall/tierwall/blob/main/docs/report-and-check.md#tierwall-check"

// writeSARIF writes the findings as a SARIF 2.1.0 log, for code scanning:
// one rule per check id, one result per finding with its file and line.
func writeSARIF(w io.Writer, rs framework.Results, l *locator) error {
	type message struct {
		Text string `json:"text"`
	}
	type rule struct {
		ID                   string            `json:"id"`
		ShortDescription     message           `json:"shortDescription"`
		HelpURI              string            `json:"helpUri"`
		DefaultConfiguration map[string]string `json:"defaultConfiguration"`
	}
	type region struct {
		StartLine int `json:"startLine"`
	}
	type physical struct {
		ArtifactLocation struct {
			URI string `json:"uri"`
		} `json:"artifactLocation"`
		Region region `json:"region"`
	}
	type logical struct {
		FullyQualifiedName string `json:"fullyQualifiedName"`
		Kind               string `json:"kind"`
	}
	type loc struct {
		PhysicalLocation physical  `json:"physicalLocation"`
		LogicalLocations []logical `json:"logicalLocations,omitempty"`
	}
	type res struct {
		RuleID              string            `json:"ruleId"`
		RuleIndex           int               `json:"ruleIndex"`
		Level               string            `json:"level"`
		Message             message           `json:"message"`
		Locations           []loc             `json:"locations"`
		PartialFingerprints map[string]string `json:"partialFingerprints"`
	}
	findings := shown(rs)
	ids := map[string]int{}
	var rules []rule
	levels := map[string]string{}
	for _, f := range findings {
		id := ruleOf(f)
		if f.Severity == result.Error || levels[id] == "" {
			levels[id] = sarifLevel(f.Severity)
		}
		ids[id] = 0
	}
	names := make([]string, 0, len(ids))
	for id := range ids {
		names = append(names, id)
	}
	sort.Strings(names)
	for i, id := range names {
		ids[id] = i
		desc := checkDescriptions[id]
		if desc == "" {
			desc = "tierwall check " + id
		}
		rules = append(rules, rule{ID: id, ShortDescription: message{desc}, HelpURI: checksDoc,
			DefaultConfiguration: map[string]string{"level": levels[id]}})
	}
	results := []res{}
	for _, f := range findings {
		where := l.locate(f)
		var p physical
		p.ArtifactLocation.URI = where.uri
		p.Region.StartLine = max(where.line, 1)
		lc := loc{PhysicalLocation: p}
		if ref := f.ResourceRef; ref != nil {
			name := ref.Kind + " " + ref.Name
			if ref.Namespace != "" {
				name = ref.Kind + " " + ref.Namespace + "/" + ref.Name
			}
			lc.LogicalLocations = []logical{{FullyQualifiedName: name, Kind: "resource"}}
		}
		sum := sha256.Sum256([]byte(ruleOf(f) + "\x00" + f.String()))
		results = append(results, res{RuleID: ruleOf(f), RuleIndex: ids[ruleOf(f)], Level: sarifLevel(f.Severity),
			Message: message{f.Message}, Locations: []loc{lc},
			PartialFingerprints: map[string]string{"tierwallFinding/v1": hex.EncodeToString(sum[:16])}})
	}
	if rules == nil {
		rules = []rule{}
	}
	doc := map[string]any{
		"$schema": "https://json.schemastore.org/sarif-2.1.0.json",
		"version": "2.1.0",
		"runs": []any{map[string]any{
			"tool": map[string]any{"driver": map[string]any{
				"name": "tierwall", "informationUri": "https://github.com/tierwall/tierwall",
				"version": version.Get().Version, "rules": rules,
			}},
			"results": results,
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func sarifLevel(s framework.Severity) string {
	switch s {
	case result.Error:
		return "error"
	case result.Warning:
		return "warning"
	}
	return "note"
}

// writeGitHub writes the findings as GitHub Actions workflow commands
// (::error file=F,line=L,title=T::message), which annotate the files of a
// pull request.
func writeGitHub(w io.Writer, rs framework.Results, l *locator) error {
	ew := &errorWriter{w: w}
	for _, f := range shown(rs) {
		where := l.locate(f)
		cmd := "error"
		if f.Severity == result.Warning {
			cmd = "warning"
		}
		ew.printf("::%s file=%s,line=%d,title=%s::%s\n", cmd, ghProperty(where.uri), max(where.line, 1),
			ghProperty("tierwall "+ruleOf(f)), ghData(f.Message))
	}
	return ew.err
}

// ghData escapes a workflow command's message.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a workflow command's property value.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

type errorWriter struct {
	w   io.Writer
	err error
}

func (e *errorWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
