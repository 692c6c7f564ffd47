// Package version holds what tierwall's binaries say about their build: the
// release version and commit stamped at build time
// (-ldflags "-X github.com/tierwall/tierwall/pkg/version.Version=v1.2.3
// -X github.com/tierwall/tierwall/pkg/version.Commit=0123abc"; the Makefile
// and the scripts take both from scripts/version.sh), the Go version and the
// platform.
package version

import (
	"fmt"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
)

// Version is the release version stamped by the build. Empty (or "dev") for
// a build without a tag: Get then says 0.0.0-dev+<commit>.
var Version = ""

// Commit is the commit the build came from, stamped by the build. When
// empty, Get reads it from the Go build information (go install and go build
// record it in a git checkout unless -buildvcs=false).
var Commit = ""

// Info describes a build.
type Info struct {
	// Version is the release version, or 0.0.0-dev+<commit> for a build
	// without a tag (0.0.0-dev when the commit is unknown too).
	Version string `json:"version"`
	// Commit is the abbreviated commit, with -dirty for a modified tree;
	// empty when unknown.
	Commit string `json:"commit"`
	// GoVersion is the Go release the binary was built with.
	GoVersion string `json:"goVersion"`
	// Platform is the binary's OS/architecture, e.g. linux/amd64.
	Platform string `json:"platform"`
}

// Get returns the information of this binary.
func Get() Info {
	v, commit := Version, Commit
	var bi *debug.BuildInfo
	if b, ok := debug.ReadBuildInfo(); ok {
		bi = b
	}
	if v == "" && commit == "" && bi != nil {
		// `go install github.com/tierwall/tierwall/fn/tierwall@v1.2.3` stamps nothing but
		// records the module's version.
		v, commit = moduleVersion(bi.Main.Version)
	}
	if commit == "" && bi != nil {
		commit = vcsCommit(bi)
	}
	return info(v, commit)
}

// pseudoVersion matches the tail of a Go pseudo-version (v0.0.0-20261201120000-0123456789ab,
// v1.2.4-0.20261201120000-0123456789ab): the commit time and the commit.
var pseudoVersion = regexp.MustCompile(`(?:^|[-.])\d{14}-([0-9a-f]{12})(?:\+incompatible)?$`)

// moduleVersion reads the main module's version as the go command records it in a module
// build (go install pkg@version): a release tag is the version; a pseudo-version (a commit
// without a tag, @main or @latest before the first tag) is no release and gives only its
// commit. A build inside a checkout records "(devel)" or a VCS-derived version: it gives
// nothing, so that the build's own stamp or VCS settings decide.
func moduleVersion(v string) (version, commit string) {
	if v == "" || v == "(devel)" || strings.Contains(v, "+") {
		return "", ""
	}
	if m := pseudoVersion.FindStringSubmatch(v); m != nil {
		return "", m[1][:7]
	}
	return v, ""
}

// info fills in an Info from the stamped version and the commit.
func info(version, commit string) Info {
	if version == "" || version == "dev" {
		version = "0.0.0-dev"
		if commit != "" {
			version += "+" + commit
		}
	}
	return Info{Version: version, Commit: commit, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
}

// String is the one-line form "1.2.3 (commit 0123abc, go1.26.8, linux/amd64)":
// the version comes first, for scripts that read it.
func (i Info) String() string {
	commit := i.Commit
	if commit == "" {
		commit = "unknown"
	}
	return fmt.Sprintf("%s (commit %s, %s, %s)", i.Version, commit, i.GoVersion, i.Platform)
}

// vcsCommit reads the commit from the build information: its first 7
// characters, as git abbreviates it, with -dirty for a modified tree.
func vcsCommit(bi *debug.BuildInfo) string {
	var rev string
	var modified bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if len(rev) > 7 {
		rev = rev[:7]
	}
	if rev != "" && modified {
		rev += "-dirty"
	}
	return rev
}
