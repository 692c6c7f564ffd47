package cli

import (
	"bufio"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/tierwall/tierwall/pkg/emit"
	"github.com/tierwall/tierwall/pkg/inject"
	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/stream"
)

// policiesCommand prints only the generated objects: for teams that install
// a chart natively (a Flux HelmRelease, Argo CD's Helm source) and ship the
// policies as a second source. There is no such mode in the post-renderer,
// where Helm would install the policies alone and drop the chart.
func (r *session) policiesCommand() *cobra.Command {
	var f configFlags
	cmd := r.newCommand(&cobra.Command{
		Use:   "policies [FILE|DIR|-]...",
		Short: "Print only the policies tierwall generates for rendered manifests",
		Long: `Reads rendered manifests (files, folders, or stdin) and prints only the
objects tierwall generates for them, as a plain stream: for teams that
install the chart natively (a Flux HelmRelease, Argo CD's Helm source) and
ship the policies as a second source. The summary and findings go to stderr.
Not a post-renderer mode: there, Helm would install only the policies.

` + inputHelp,
		Example: `  helm template shop chart/ -n shop | tierwall policies -n shop --release shop > policies/shop.yaml`,
		Args:    cobra.ArbitraryArgs,
		Run: func(cmd *cobra.Command, paths []string) {
			r.code = r.policies(cmd, &f, paths)
		},
	})
	fs := cmd.Flags()
	f.register(fs, true, namespaceUsage)
	f.registerRender(fs)
	return cmd
}

func (r *session) policies(cmd *cobra.Command, f *configFlags, paths []string) int {
	o, err := f.check(cmd.Flags(), namespaceFlagText)
	if err != nil {
		return r.usageError(cmd, err)
	}
	releaseFromEnv(&o, r.getenv)
	if (len(paths) == 0 || slices.Contains(paths, "-")) && isTerminal(r.Stdin) {
		return r.usageError(cmd, fmt.Errorf("stdin is a terminal: pipe rendered manifests in, or name files or folders"))
	}
	spec, err := loadConfig(f.file, o, r.readFile)
	if err != nil {
		fmt.Fprintf(r.Stderr, "%s: %v\n", cmd.CommandPath(), err)
		return ExitUsage
	}
	objs, err := stream.ReadObjects(paths, r.Stdin)
	if err != nil {
		fmt.Fprintf(r.Stderr, "%s: %v\n", cmd.CommandPath(), err)
		return ExitInput
	}
	context, err := readContext(f.context)
	if err != nil {
		fmt.Fprintf(r.Stderr, "%s: %v\n", cmd.CommandPath(), err)
		return ExitInput
	}
	out, failed, err := inject.Engine{Spec: spec, Context: context}.Process(objs)
	if err != nil {
		fmt.Fprintf(r.Stderr, "%s: %v\n", cmd.CommandPath(), err)
		return ExitInput
	}
	fmt.Fprintf(r.Stderr, "tierwall: summary: %s\n", out.Summary.Text())
	result.Print(r.Stderr, out.Results, result.Warning)
	if failed {
		return ExitFailed
	}
	w := bufio.NewWriterSize(r.Stdout, 1<<16)
	for _, obj := range out.Objects {
		w.WriteString("---\n")
		if err := emit.Write(w, obj.Node); err != nil {
			fmt.Fprintf(r.Stderr, "%s: writing stdout: %v\n", cmd.CommandPath(), err)
			return ExitFailed
		}
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(r.Stderr, "%s: writing stdout: %v\n", cmd.CommandPath(), err)
		return ExitFailed
	}
	return ExitOK
}
