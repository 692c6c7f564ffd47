// Package version holds the version stamped into tierwall's binaries at
// build time (-ldflags "-X github.com/tierwall/tierwall/pkg/version.Version=v1.2.3").
package version

// Version is the release version, "dev" for builds without a stamp.
var Version = "dev"
