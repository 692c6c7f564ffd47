package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/tierwall/tierwall/pkg/version"
)

// versionFormats are the formats of tierwall version -o.
var versionFormats = []string{"text", "json", "yaml"}

func (r *session) versionCommand() *cobra.Command {
	var format string
	cmd := r.newCommand(&cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, Go version and platform",
		Long: `Print the version, the commit, the Go version and the platform of this
binary. A build without a release tag says 0.0.0-dev+<commit>.`,
		Args: cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			if err := oneOf("-o", format, versionFormats); err != nil {
				r.code = r.usageError(cmd, err)
				return
			}
			r.code = r.printVersion(cmd, format)
		},
	})
	cmd.Flags().StringVarP(&format, "output", "o", "text", "output `FORMAT`: text, json or yaml")
	fixedValues(cmd, "output", versionFormats...)
	return cmd
}

// printVersion prints the version of the program cmd belongs to.
func (r *session) printVersion(cmd *cobra.Command, format string) int {
	info := version.Get()
	var out []byte
	var err error
	switch format {
	case "json":
		out, err = json.MarshalIndent(info, "", "  ")
		out = append(out, '\n')
	case "yaml":
		out, err = sigsyaml.Marshal(info)
	default:
		out = []byte(fmt.Sprintf("%s %s\n", cmd.Root().Name(), info))
	}
	if err != nil {
		fmt.Fprintf(r.Stderr, "%s: %v\n", cmd.CommandPath(), err)
		return ExitFailed
	}
	if _, err := r.Stdout.Write(out); err != nil {
		fmt.Fprintf(r.Stderr, "%s: writing stdout: %v\n", cmd.CommandPath(), err)
		return ExitFailed
	}
	return ExitOK
}
