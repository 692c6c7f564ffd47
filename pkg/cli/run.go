package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// session is one run of a command tree: its commands set code.
type session struct {
	Command
	code int
}

// newCommand returns a cobra command that reports its own errors (through
// usageError) and writes help to stdout.
func (r *session) newCommand(cmd *cobra.Command) *cobra.Command {
	cmd.SilenceErrors = true
	cmd.SilenceUsage = true
	cmd.DisableAutoGenTag = true
	cmd.SetIn(r.Stdin)
	cmd.SetOut(r.Stdout)
	cmd.SetErr(r.Stderr)
	return cmd
}

// execute runs root on args. A command-line error cobra finds (unknown
// command or flag, bad value, stray argument) is reported by onError, which
// returns the exit code; otherwise the exit code is what the command set.
func (r *session) execute(root *cobra.Command, args []string, onError func(*cobra.Command, error) int) int {
	// cobra reads os.Args when args is nil.
	args = append([]string{}, args...)
	target := root
	if found, _, err := root.Find(args); err == nil && found != nil {
		target = found
	}
	target.InitDefaultHelpFlag()
	root.SetArgs(goFlagStyle(target.Flags(), args))
	cmd, err := root.ExecuteC()
	if err != nil {
		if cmd == nil {
			cmd = root
		}
		return onError(cmd, err)
	}
	return r.code
}

// usageError reports a command-line error on stderr with the command's
// usage line and returns ExitUsage.
func (r *session) usageError(cmd *cobra.Command, err error) int {
	writeUsageError(r.Stderr, cmd, err)
	return ExitUsage
}

func writeUsageError(w io.Writer, cmd *cobra.Command, err error) {
	fmt.Fprintf(w, "%s: %s\n", cmd.CommandPath(), strings.TrimRight(err.Error(), "\n"))
	fmt.Fprintf(w, "Usage: %s\nRun '%s --help' for more.\n", cmd.UseLine(), cmd.CommandPath())
}

// goFlagStyle rewrites "-name" and "-name=value", for the long flags of fs,
// to "--name...". tierwall parsed its flags with Go's flag package before,
// which accepts one dash: pflag would read -namespace=shop as -n with the
// value "amespace=shop", so a script that used one dash keeps its meaning.
// Values of flags given as the next argument are left alone, as is
// everything after "--".
func goFlagStyle(fs *pflag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		var f *pflag.Flag
		switch {
		case strings.HasPrefix(a, "--"):
			name, _, hasValue := strings.Cut(a[2:], "=")
			if f = fs.Lookup(name); hasValue {
				f = nil
			}
		case strings.HasPrefix(a, "-") && len(a) > 2:
			name, _, hasValue := strings.Cut(a[1:], "=")
			if long := fs.Lookup(name); long != nil && len(name) > 1 {
				a = "-" + a
				if !hasValue {
					f = long
				}
			}
		case strings.HasPrefix(a, "-") && len(a) == 2:
			f = fs.ShorthandLookup(a[1:])
		}
		out = append(out, a)
		if f != nil && f.NoOptDefVal == "" && i+1 < len(args) {
			// The flag's value: never rewritten.
			i++
			out = append(out, args[i])
		}
	}
	return out
}

// isTerminal reports whether r is an interactive terminal, where reading
// would wait for typing. A character device is taken for a terminal except
// the null device, which the tools that run tierwall without input connect.
func isTerminal(r io.Reader) bool {
	f, ok := r.(interface{ Stat() (os.FileInfo, error) })
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(fi, null) {
		return false
	}
	return true
}

// oneOf checks a flag's value against the values it takes.
func oneOf(flag, value string, values []string) error {
	for _, v := range values {
		if value == v {
			return nil
		}
	}
	return fmt.Errorf("%s %q: use one of %s", flag, value, strings.Join(values, ", "))
}

// fixedValues completes a flag with its values.
func fixedValues(cmd *cobra.Command, flag string, values ...string) {
	_ = cmd.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
}
