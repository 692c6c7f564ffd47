package v1alpha1

// Severities that fail a run.
const (
	FailOnError   = "error"
	FailOnWarning = "warning"
	FailOnNone    = "none"
)

// Check runs tierwall check on the function's own output: every pod in
// scope default-denied, DNS reachable, no rule that cannot work or that is
// wider than intended.
type Check struct {
	// Enabled runs the checks. Defaults to true.
	Enabled *bool `json:"enabled,omitempty"`
	// FailOn is the lowest severity that fails the run: error, warning or
	// none (findings are then reported as warnings). Defaults to error.
	FailOn string `json:"failOn,omitempty"`
	// ClusterCIDRs are the cluster's pod and Service ranges; an ipBlock
	// inside them is an error (a warning against common defaults when
	// unset). Defaults to cluster.podCIDRs and cluster.serviceCIDRs.
	ClusterCIDRs []string `json:"clusterCIDRs,omitempty"`
	// Strict turns the warnings about deliberately wide defaults (API
	// egress without addresses, open webhook ports, proxy egress to every
	// pod) into errors. Defaults to false.
	Strict bool `json:"strict,omitempty"`
}

func (c *Check) defaults() {
	if c.Enabled == nil {
		c.Enabled = boolPtr(true)
	}
	if c.FailOn == "" {
		c.FailOn = FailOnError
	}
}

func (c *Check) validate(v *validator) {
	switch c.FailOn {
	case FailOnError, FailOnWarning, FailOnNone:
	default:
		v.add("check.failOn", "%q must be %s, %s or %s", c.FailOn, FailOnError, FailOnWarning, FailOnNone)
	}
	v.cidrs("check.clusterCIDRs", c.ClusterCIDRs)
}
