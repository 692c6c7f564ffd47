// Package version holds what tierwall's binaries say about their build: the
// release version and commit stamped at build time
// (-ldflags "-X github.com/tierwall/tierwall/pkg/version.Version=v1.2.3
// -X github.com/tierwall/tierwall/pkg/version.Commit=0123abc"; the Makefile
// and the scripts take both from scripts/version.sh), the Go version and the
// platform.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
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
	commit := Commit
	if commit == "" {
		commit = vcsCommit()
	}
	return info(Version, commit)
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
func vcsCommit() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
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
