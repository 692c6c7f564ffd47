package cli

import (
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tierwall/tierwall/pkg/internal/testutil"
)

// TestCheckFormatsGolden: tierwall check in every format on the pipeline
// fixture's head (an open rule: an error) and base (clean), with their exit
// codes, against golden files (the SARIF's tool version masked).
func TestCheckFormatsGolden(t *testing.T) {
	version := regexp.MustCompile(`"version": "[^"]*"`)
	for _, input := range []string{"head", "base"} {
		for _, format := range checkFormats {
			t.Run(input+"/"+format, func(t *testing.T) {
				file := filepath.Join("testdata", "pipeline", input+".yaml")
				out, errOut, code := run(t, "", "check", "-o", format, "--source-root", "charts", "--config", filepath.Join("testdata", "pipeline", "tierwall.yaml"), file)
				want := map[string]int{"head": ExitFailed, "base": ExitOK}[input]
				assert.Equal(t, want, code, errOut)
				assert.Empty(t, errOut)
				if format == "sarif" {
					out = version.ReplaceAllStringFunc(out, func(m string) string {
						if m == `"version": "2.1.0"` {
							return m // SARIF's own
						}
						return `"version": "VERSION"`
					})
				}
				testutil.Golden(t, filepath.Join("testdata", "check-formats", input+"."+format), []byte(out))
			})
		}
	}
}
