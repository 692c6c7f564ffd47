//go:build verify

package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/spf13/cobra"

	"github.com/tierwall/tierwall/pkg/internal/enforce"
)

// tierwall verify proves a render against real NetworkPolicy enforcers:
// built only with -tags verify (make verify-bin), so that the function and
// the post-renderer carry none of it.
func init() { extraCommands = append(extraCommands, (*session).verifyCommand) }

func (r *session) verifyCommand() *cobra.Command {
	var f inputFlags
	var enforcers []string
	var apiserverScript, dir string
	cmd := r.newCommand(&cobra.Command{
		Use:   "verify [FILE|DIR|-]...",
		Short: "Enforce rendered manifests with real NetworkPolicy enforcers and compare with the report",
		Long: `Runs the rendered manifests (the input and tierwall's policies) in a sandbox
with a real NetworkPolicy enforcer (kube-router's firewall, SIG Network's
kube-network-policies) and a real kube-apiserver and etcd: a network namespace
per pod, every pair probed on its declared ports, nothing leaving the sandbox
and the host's own network never touched. Prints the enforced matrix's
differences from what tierwall report says and exits 1 when there is one.
Needs root (or sudo), ip, iptables and ipset, and the programs named by
KUBE_ROUTER, KUBE_NETWORK_POLICIES, KUBE_APISERVER and ETCD.

` + inputHelp,
		Example: `  sudo -E tierwall verify --enforcer kube-router rendered/`,
		Args:    cobra.ArbitraryArgs,
		Run: func(cmd *cobra.Command, paths []string) {
			r.code = r.verify(cmd, &f, enforcers, apiserverScript, dir, paths)
		},
	})
	f.register(cmd.Flags())
	cmd.Flags().StringSliceVar(&enforcers, "enforcer", []string{"kube-router", "kube-network-policies"}, "the `ENFORCERS` to run")
	cmd.Flags().StringVar(&apiserverScript, "apiserver-script", "scripts/apiserver.sh", "the `SCRIPT` that starts etcd and kube-apiserver")
	cmd.Flags().StringVar(&dir, "dir", "", "a `FOLDER` for the sandbox's state and logs (default: a temporary one)")
	return cmd
}

func (r *session) verify(cmd *cobra.Command, f *inputFlags, names []string, script, dir string, paths []string) int {
	m, objs, code := r.model(cmd, f, paths)
	if m == nil {
		return code
	}
	plan, err := enforce.NewPlan(objs, m.Spec)
	if err != nil {
		fmt.Fprintf(r.Stderr, "tierwall verify: %v\n", err)
		return ExitInput
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "tierwall-verify-"); err != nil {
			fmt.Fprintf(r.Stderr, "tierwall verify: %v\n", err)
			return ExitFailed
		}
		defer os.RemoveAll(dir)
	}
	failed := false
	for _, name := range names {
		var e *enforce.Enforcer
		for i := range enforce.Enforcers {
			if enforce.Enforcers[i].Name == name {
				e = &enforce.Enforcers[i]
			}
		}
		if e == nil {
			return r.usageError(cmd, fmt.Errorf("--enforcer %q: use kube-router or kube-network-policies", name))
		}
		bin := r.getenv(e.Env)
		if bin == "" {
			fmt.Fprintf(r.Stderr, "tierwall verify: %s is not set: it names the %s program\n", e.Env, e.Name)
			return ExitUsage
		}
		ctx := context.Background()
		sb, err := enforce.Start(ctx, enforce.Config{Enforcer: *e, Binary: bin, APIServerScript: script, Dir: filepath.Join(dir, e.Short)})
		if err != nil {
			fmt.Fprintf(r.Stderr, "tierwall verify: starting the %s sandbox: %v\n", e.Name, err)
			return ExitFailed
		}
		res, err := sb.Run(ctx, plan, plan.ExpectManifest)
		sb.Close()
		if err != nil {
			fmt.Fprintf(r.Stderr, "tierwall verify: %s: %v\n", e.Name, err)
			return ExitFailed
		}
		var diffs []string
		allowed := 0
		for p, ok := range res.Allowed {
			if ok {
				allowed++
			}
			if ok != plan.ExpectManifest(p) {
				verdict := "blocked, the report says allowed"
				if ok {
					verdict = "allowed, the report says blocked"
				}
				diffs = append(diffs, fmt.Sprintf("%s: %s (%s)", p, verdict, plan.Why(p)))
			}
		}
		sort.Strings(diffs)
		fmt.Fprintf(r.Stdout, "%s: %d probes, %d allowed, %d differ from tierwall report\n", e.Name, len(res.Allowed), allowed, len(diffs))
		for _, d := range diffs {
			fmt.Fprintf(r.Stdout, "  %s\n", d)
		}
		failed = failed || len(diffs) > 0
	}
	if failed {
		return ExitFailed
	}
	return ExitOK
}
