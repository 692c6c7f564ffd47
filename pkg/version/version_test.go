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
