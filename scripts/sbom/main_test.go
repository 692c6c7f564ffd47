package main

import (
	"bytes"
	"encoding/json"
	"os"
	"runtime/debug"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDocument(t *testing.T) {
	info := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Path:      "github.com/tierwall/tierwall/fn/tierwall",
		Main:      debug.Module{Path: "github.com/tierwall/tierwall", Version: "(devel)"},
		Deps: []*debug.Module{
			{Path: "github.com/spf13/cobra", Version: "v1.10.2", Sum: "h1:abc="},
			{Path: "github.com/BurntSushi/toml", Version: "v1.0.0"},
			{Path: "example.com/old", Version: "v1.0.0", Replace: &debug.Module{Path: "example.com/new", Version: "v2.0.0"}},
		},
	}
	created := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	bins := []binary{{name: "tierwall_linux_amd64", sha256: "00", info: info}, {name: "tierwall_darwin_arm64", sha256: "11", info: info}}
	doc := document("v1.2.3", created, bins)

	assert.Equal(t, "SPDX-2.3", doc.SPDXVersion)
	assert.Equal(t, "2026-12-01T00:00:00Z", doc.CreationInfo.Created)
	assert.Equal(t, []string{"SPDXRef-Binary-tierwall-darwin-arm64", "SPDXRef-Binary-tierwall-linux-amd64"}, doc.DocumentDescribes)
	byName := map[string]spdxPackage{}
	for _, p := range doc.Packages {
		_, dup := byName[p.SPDXID]
		require.False(t, dup, "%s twice", p.SPDXID)
		byName[p.SPDXID] = p
		assert.Regexp(t, `^SPDXRef-[A-Za-z0-9.-]+$`, p.SPDXID)
	}
	mainMod := byName["SPDXRef-Module-github.com-tierwall-tierwall-v1.2.3"]
	assert.Equal(t, "v1.2.3", mainMod.VersionInfo, "a checkout build is the release's version")
	cobra := byName["SPDXRef-Module-github.com-spf13-cobra-v1.10.2"]
	assert.Equal(t, "pkg:golang/github.com/spf13/cobra@v1.10.2", cobra.ExternalRefs[0].ReferenceLocator)
	assert.Equal(t, "go.sum h1:abc=", cobra.Comment)
	toml := byName["SPDXRef-Module-github.com-BurntSushi-toml-v1.0.0"]
	assert.Equal(t, "https://proxy.golang.org/github.com/!burnt!sushi/toml/@v/v1.0.0.zip", toml.DownloadLocation)
	_, replacement := byName["SPDXRef-Module-example.com-new-v2.0.0"]
	assert.True(t, replacement, "the replacement is what was built")
	assert.Equal(t, "replaced by example.com/new@v2.0.0 (go.mod replace): not built", byName["SPDXRef-Module-example.com-old-v1.0.0"].Comment)
	std := byName["SPDXRef-Module-stdlib-go1.26.8"]
	assert.Equal(t, "pkg:golang/stdlib@1.26.8", std.ExternalRefs[0].ReferenceLocator)
	assert.Len(t, doc.Packages, 2+6, "two binaries, the modules once each")

	var depends int
	for _, r := range doc.Relationships {
		_, ok := byName[r.RelatedSPDXElement]
		assert.True(t, ok, "relationship to %s", r.RelatedSPDXElement)
		if r.RelationshipType == "DEPENDS_ON" {
			depends++
		}
	}
	assert.Equal(t, 2*4, depends, "each binary depends on its three modules and the standard library")

	again := document("v1.2.3", created, []binary{bins[1], bins[0]})
	assert.Equal(t, doc, again, "deterministic")
	other := document("v1.2.4", created, bins)
	assert.NotEqual(t, doc.DocumentNamespace, other.DocumentNamespace)
}

// TestRunOnItself writes the document of this test binary: every module its build
// information lists is in it.
func TestRunOnItself(t *testing.T) {
	info, ok := debug.ReadBuildInfo()
	require.True(t, ok)
	var out bytes.Buffer
	require.NoError(t, run([]string{"-version", "v0.0.0-test", "-created", "2026-12-01T00:00:00Z", os.Args[0]}, &out))
	var doc map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &doc))
	text := out.String()
	for _, d := range info.Deps {
		if d.Replace != nil {
			d = d.Replace
		}
		assert.Contains(t, text, `"pkg:golang/`+d.Path+`@`+d.Version+`"`)
	}
	require.Error(t, run([]string{os.Args[0]}, &out), "-version is required")
	assert.Error(t, run([]string{"-version", "v1", "-created", "yesterday", os.Args[0]}, &out))
}
