package version

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestInfo(t *testing.T) {
	tests := map[string]struct {
		version, commit string
		want            string
	}{
		"tagged build":            {version: "v1.2.3", commit: "0123abc", want: "v1.2.3"},
		"no tag: the commit says": {version: "", commit: "0123abc-dirty", want: "0.0.0-dev+0123abc-dirty"},
		"old default dev":         {version: "dev", commit: "0123abc", want: "0.0.0-dev+0123abc"},
		"nothing known":           {version: "", commit: "", want: "0.0.0-dev"},
		"a version given as is":   {version: "0123abc-dirty", commit: "0123abc", want: "0123abc-dirty"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			i := info(tc.version, tc.commit)
			assert.Equal(t, tc.want, i.Version)
			assert.Equal(t, tc.commit, i.Commit)
			assert.Equal(t, runtime.Version(), i.GoVersion)
			assert.Equal(t, runtime.GOOS+"/"+runtime.GOARCH, i.Platform)
		})
	}
}

func TestString(t *testing.T) {
	i := Info{Version: "v1.2.3", Commit: "0123abc", GoVersion: "go1.26.8", Platform: "linux/amd64"}
	assert.Equal(t, "v1.2.3 (commit 0123abc, go1.26.8, linux/amd64)", i.String())
	i.Commit = ""
	assert.Equal(t, "v1.2.3 (commit unknown, go1.26.8, linux/amd64)", i.String())
}

func TestModuleVersion(t *testing.T) {
	tests := map[string]struct {
		recorded        string
		version, commit string
	}{
		"go install @v1.2.3":             {recorded: "v1.2.3", version: "v1.2.3"},
		"a pre-release tag":              {recorded: "v1.3.0-rc.1", version: "v1.3.0-rc.1"},
		"go install @main, no tag":       {recorded: "v0.0.0-20261201120000-0123456789ab", commit: "0123456"},
		"a commit after a tag":           {recorded: "v1.2.4-0.20261201120000-0123456789ab", commit: "0123456"},
		"after a pre-release tag":        {recorded: "v1.3.0-rc.1.0.20261201120000-0123456789ab", commit: "0123456"},
		"a checkout: (devel)":            {recorded: "(devel)"},
		"a modified checkout (Go 1.24+)": {recorded: "v0.0.0-20261201120000-0123456789ab+dirty"},
		"nothing recorded":               {recorded: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			version, commit := moduleVersion(tc.recorded)
			assert.Equal(t, tc.version, version)
			assert.Equal(t, tc.commit, commit)
		})
	}
}
