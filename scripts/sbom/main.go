// Command sbom writes the software bill of materials of tierwall's release: an SPDX 2.3 JSON
// document describing each released binary, with every Go module the binary was built from
// (what `go version -m BINARY` lists: the main module, its dependencies, replacements
// resolved) and the Go standard library.
//
// Usage (scripts/release.sh runs it):
//
//	go run ./scripts/sbom -version v1.2.3 [-created 2026-12-01T00:00:00Z] BINARY... > tierwall.spdx.json
//
// The document is deterministic: the same binaries, version and creation time give the same
// bytes (the release script passes the last commit's time, or SOURCE_DATE_EPOCH).
package main

import (
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"sort"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sbom:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("sbom", flag.ContinueOnError)
	version := fs.String("version", "", "the release version (required)")
	created := fs.String("created", "", "the document's creation time, RFC 3339 (default: now)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *version == "" || fs.NArg() == 0 {
		return errors.New("usage: sbom -version VERSION [-created TIME] BINARY [BINARY ...]")
	}
	when := time.Now().UTC()
	if *created != "" {
		t, err := time.Parse(time.RFC3339, *created)
		if err != nil {
			return fmt.Errorf("-created: %w", err)
		}
		when = t.UTC()
	}
	var bins []binary
	for _, path := range fs.Args() {
		b, err := readBinary(path)
		if err != nil {
			return err
		}
		bins = append(bins, b)
	}
	doc := document(*version, when, bins)
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// binary is a released file and what it was built from.
type binary struct {
	name, sha256 string
	info         *debug.BuildInfo
}

func readBinary(path string) (binary, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return binary{}, err
	}
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return binary{}, fmt.Errorf("reading the Go build information of %s: %w", path, err)
	}
	sum := sha256.Sum256(data)
	return binary{name: filepath.Base(path), sha256: hex.EncodeToString(sum[:]), info: info}, nil
}

// The SPDX 2.3 JSON shapes this document uses (https://spdx.github.io/spdx-spec/v2.3/).
type (
	spdxDocument struct {
		SPDXVersion       string             `json:"spdxVersion"`
		DataLicense       string             `json:"dataLicense"`
		SPDXID            string             `json:"SPDXID"`
		Name              string             `json:"name"`
		DocumentNamespace string             `json:"documentNamespace"`
		CreationInfo      spdxCreationInfo   `json:"creationInfo"`
		DocumentDescribes []string           `json:"documentDescribes"`
		Packages          []spdxPackage      `json:"packages"`
		Relationships     []spdxRelationship `json:"relationships"`
	}
	spdxCreationInfo struct {
		Created  string   `json:"created"`
		Creators []string `json:"creators"`
	}
	spdxPackage struct {
		Name                  string            `json:"name"`
		SPDXID                string            `json:"SPDXID"`
		VersionInfo           string            `json:"versionInfo,omitempty"`
		PackageFileName       string            `json:"packageFileName,omitempty"`
		Supplier              string            `json:"supplier,omitempty"`
		DownloadLocation      string            `json:"downloadLocation"`
		FilesAnalyzed         bool              `json:"filesAnalyzed"`
		Checksums             []spdxChecksum    `json:"checksums,omitempty"`
		LicenseConcluded      string            `json:"licenseConcluded"`
		LicenseDeclared       string            `json:"licenseDeclared"`
		CopyrightText         string            `json:"copyrightText"`
		PrimaryPackagePurpose string            `json:"primaryPackagePurpose,omitempty"`
		Comment               string            `json:"comment,omitempty"`
		ExternalRefs          []spdxExternalRef `json:"externalRefs,omitempty"`
	}
	spdxChecksum struct {
		Algorithm     string `json:"algorithm"`
		ChecksumValue string `json:"checksumValue"`
	}
	spdxExternalRef struct {
		ReferenceCategory string `json:"referenceCategory"`
		ReferenceType     string `json:"referenceType"`
		ReferenceLocator  string `json:"referenceLocator"`
	}
	spdxRelationship struct {
		SPDXElementID      string `json:"spdxElementId"`
		RelationshipType   string `json:"relationshipType"`
		RelatedSPDXElement string `json:"relatedSpdxElement"`
	}
)

// module is one Go module of a binary's build, as `go version -m` lists it ("mod" for the main
// module, "dep" for the others, "=>" for a replacement, which is the module built).
type module struct {
	path, version, sum string
	main               bool
	// replacedBy names the module built instead of this one ("path@version").
	replacedBy string
}

// modules returns the modules of a build, the main module first, then the dependencies as
// listed, each replaced one followed by its replacement.
func modules(info *debug.BuildInfo) []module {
	out := []module{{path: info.Main.Path, version: info.Main.Version, sum: info.Main.Sum, main: true}}
	for _, d := range info.Deps {
		m := module{path: d.Path, version: d.Version, sum: d.Sum}
		if r := d.Replace; r != nil {
			m.replacedBy = r.Path + "@" + r.Version
			out = append(out, m, module{path: r.Path, version: r.Version, sum: r.Sum})
			continue
		}
		out = append(out, m)
	}
	return out
}

var idUnsafe = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

// spdxID makes an SPDX element id (letters, digits, "." and "-" only) of its parts.
func spdxID(kind string, parts ...string) string {
	return "SPDXRef-" + kind + "-" + strings.Trim(idUnsafe.ReplaceAllString(strings.Join(parts, "-"), "-"), "-")
}

// purl is a Go module's package URL (github.com/package-url/purl-spec, type golang).
func purl(path, version string) string {
	if version == "" || version == "(devel)" {
		return "pkg:golang/" + path
	}
	return "pkg:golang/" + path + "@" + version
}

func document(version string, created time.Time, bins []binary) spdxDocument {
	sort.Slice(bins, func(i, j int) bool { return bins[i].name < bins[j].name })
	doc := spdxDocument{
		SPDXVersion: "SPDX-2.3",
		DataLicense: "CC0-1.0",
		SPDXID:      "SPDXRef-DOCUMENT",
		Name:        "tierwall-" + version,
		CreationInfo: spdxCreationInfo{
			Created:  created.Format(time.RFC3339),
			Creators: []string{"Tool: tierwall-scripts-sbom", "Organization: tierwall"},
		},
	}
	// The namespace must be unique per document: the version and the binaries' sums.
	h := sha256.New()
	fmt.Fprintln(h, version)
	seen := map[string]bool{}
	var modulePkgs []spdxPackage
	for _, b := range bins {
		fmt.Fprintln(h, b.name, b.sha256)
		id := spdxID("Binary", b.name)
		doc.DocumentDescribes = append(doc.DocumentDescribes, id)
		doc.Packages = append(doc.Packages, spdxPackage{
			Name:                  b.name,
			SPDXID:                id,
			VersionInfo:           version,
			PackageFileName:       b.name,
			Supplier:              "Organization: tierwall",
			DownloadLocation:      "NOASSERTION",
			Checksums:             []spdxChecksum{{Algorithm: "SHA256", ChecksumValue: b.sha256}},
			LicenseConcluded:      "NOASSERTION",
			LicenseDeclared:       "Apache-2.0",
			CopyrightText:         "NOASSERTION",
			PrimaryPackagePurpose: "APPLICATION",
			Comment:               fmt.Sprintf("package %s, built with %s", b.info.Path, b.info.GoVersion),
		})
		// The Go standard library, as the toolchain that built the binary.
		std := module{path: "stdlib", version: b.info.GoVersion}
		for _, m := range append(modules(b.info), std) {
			if m.main && (m.version == "" || m.version == "(devel)") {
				m.version = version // built from the release's checkout
			}
			mid := spdxID("Module", m.path, m.version)
			switch {
			case m.main:
				doc.Relationships = append(doc.Relationships, spdxRelationship{SPDXElementID: id, RelationshipType: "GENERATED_FROM", RelatedSPDXElement: mid})
			case m.replacedBy == "":
				doc.Relationships = append(doc.Relationships, spdxRelationship{SPDXElementID: id, RelationshipType: "DEPENDS_ON", RelatedSPDXElement: mid})
			}
			if seen[mid] {
				continue
			}
			seen[mid] = true
			p := spdxPackage{
				Name:                  m.path,
				SPDXID:                mid,
				VersionInfo:           m.version,
				DownloadLocation:      "NOASSERTION",
				LicenseConcluded:      "NOASSERTION",
				LicenseDeclared:       "NOASSERTION",
				CopyrightText:         "NOASSERTION",
				PrimaryPackagePurpose: "LIBRARY",
				ExternalRefs: []spdxExternalRef{{
					ReferenceCategory: "PACKAGE-MANAGER", ReferenceType: "purl", ReferenceLocator: purl(m.path, m.version),
				}},
			}
			switch {
			case m.path == "stdlib":
				p.ExternalRefs[0].ReferenceLocator = "pkg:golang/stdlib@" + strings.TrimPrefix(m.version, "go")
				p.Comment = "the Go standard library of the toolchain"
			case m.main:
				p.LicenseDeclared = "Apache-2.0"
				p.PrimaryPackagePurpose = "SOURCE"
			case m.version != "" && m.version != "(devel)":
				p.DownloadLocation = "https://proxy.golang.org/" + escapePath(m.path) + "/@v/" + m.version + ".zip"
			}
			if m.sum != "" {
				p.Comment = "go.sum " + m.sum
			}
			if m.replacedBy != "" {
				p.Comment = "replaced by " + m.replacedBy + " (go.mod replace): not built"
			}
			modulePkgs = append(modulePkgs, p)
		}
	}
	sort.Slice(modulePkgs, func(i, j int) bool { return modulePkgs[i].SPDXID < modulePkgs[j].SPDXID })
	doc.Packages = append(doc.Packages, modulePkgs...)
	for _, id := range doc.DocumentDescribes {
		doc.Relationships = append([]spdxRelationship{{SPDXElementID: "SPDXRef-DOCUMENT", RelationshipType: "DESCRIBES", RelatedSPDXElement: id}}, doc.Relationships...)
	}
	sort.SliceStable(doc.Relationships, func(i, j int) bool {
		a, b := doc.Relationships[i], doc.Relationships[j]
		if a.SPDXElementID != b.SPDXElementID {
			return a.SPDXElementID < b.SPDXElementID
		}
		return a.RelatedSPDXElement < b.RelatedSPDXElement
	})
	doc.DocumentNamespace = "https://github.com/tierwall/tierwall/spdx/" + version + "-" + hex.EncodeToString(h.Sum(nil))[:16]
	return doc
}

// escapePath is the module proxy's case encoding of a module path: an upper-case letter
// becomes "!" and its lower-case form.
func escapePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
