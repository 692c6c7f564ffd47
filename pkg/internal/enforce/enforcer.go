//go:build linux

package enforce

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

// Enforcer is a NetworkPolicy implementation a sandbox runs on its node.
type Enforcer struct {
	// Name is the project's name; Short names its network namespaces.
	Name, Short string
	// Env names the environment variable that holds the path of its program.
	Env string
	// setup prepares the node before the enforcer starts.
	setup func(s *Sandbox) error
	// command is the enforcer's process, run inside the node's namespace.
	command func(s *Sandbox, bin string) (*exec.Cmd, error)
}

// Enforcers are the engines the suite runs.
var Enforcers = []Enforcer{KubeNetworkPolicies, KubeRouter}

// nfqueueID is the queue kube-network-policies reads verdicts for.
const nfqueueID = 100

// KubeNetworkPolicies is SIG Network's sigs.k8s.io/kube-network-policies: new
// connections go to user space through an NFQUEUE and are dropped when no
// rule admits them. It installs its NFQUEUE rule with nftables, which needs
// CONFIG_NFT_QUEUE; the sandbox adds the same rule with iptables (xtables'
// NFQUEUE target), so kernels without it work too. It reads only in-cluster
// configuration: the service account files are served from a mount
// namespace of its own.
var KubeNetworkPolicies = Enforcer{
	Name: "kube-network-policies", Short: "knp", Env: "KUBE_NETWORK_POLICIES",
	setup: func(s *Sandbox) error {
		return s.node.exec("iptables", "-w", "-I", "FORWARD", "-m", "conntrack", "--ctstate", "NEW",
			"-j", "NFQUEUE", "--queue-num", strconv.Itoa(nfqueueID))
	},
	command: func(s *Sandbox, bin string) (*exec.Cmd, error) {
		sa := filepath.Join(s.cfg.Dir, "serviceaccount")
		if err := os.MkdirAll(sa, 0o700); err != nil {
			return nil, err
		}
		ca, err := os.ReadFile(filepath.Join(s.apiDir, "pki", "ca.crt"))
		if err != nil {
			return nil, err
		}
		for name, data := range map[string][]byte{"token": []byte(s.api.token), "ca.crt": ca, "namespace": []byte("kube-system")} {
			if err := os.WriteFile(filepath.Join(sa, name), data, 0o600); err != nil {
				return nil, err
			}
		}
		// A tmpfs over /run (= /var/run) in a private mount namespace holds the
		// files rest.InClusterConfig reads; the host's /run is left alone.
		script := `mount -t tmpfs -o mode=0755,size=1m tierwall-secrets /run &&
mkdir -p /run/secrets/kubernetes.io/serviceaccount &&
cp "$TIERWALL_SA"/* /run/secrets/kubernetes.io/serviceaccount/ &&
exec "$@"`
		cmd := s.node.command("unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", bin,
			"--hostname-override="+NodeName, "--disable-nri", "--netfilter-bug-1766-fix=false",
			"--metrics-bind-address=127.0.0.1:9080", fmt.Sprintf("--nfqueue-id=%d", nfqueueID))
		cmd.Env = append(os.Environ(), "TIERWALL_SA="+sa,
			"KUBERNETES_SERVICE_HOST=127.0.0.1", "KUBERNETES_SERVICE_PORT="+strconv.Itoa(int(s.api.port)))
		return cmd, nil
	},
}

// KubeRouter is kube-router's network policy controller alone (no routing, no
// service proxy): iptables chains per pod and ipsets of peers, with a REJECT
// for what no rule admits. It finds its node's pods by status.hostIP.
var KubeRouter = Enforcer{
	Name: "kube-router", Short: "kr", Env: "KUBE_ROUTER",
	setup: func(*Sandbox) error { return nil },
	command: func(s *Sandbox, bin string) (*exec.Cmd, error) {
		return s.node.command(bin, "--kubeconfig="+filepath.Join(s.apiDir, "kubeconfig"),
			"--run-router=false", "--run-service-proxy=false", "--run-firewall=true",
			"--hostname-override="+NodeName, "--service-cluster-ip-range=10.96.0.0/16",
			"--health-port=0", "--metrics-port=0", "--v=1"), nil
	},
}
