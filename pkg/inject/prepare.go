package inject

import (
	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/service"
	"github.com/tierwall/tierwall/pkg/workload"
)

// ExtraKinds returns the configured workload kinds in the workload table's
// form.
func ExtraKinds(spec *v1alpha1.Spec) []workload.Kind { return workload.ConfigKinds(spec.WorkloadKinds) }

// Prepare reads what the engine needs of one object as it is read, then
// drops its node when nothing reads it later: readers of large inputs call
// it per document so that memory holds summaries, not node trees. The
// engine's output is the same with or without it.
func Prepare(o *manifest.Object, extra []workload.Kind) {
	workload.Prepare(o, extra)
	service.Prepare(o)
	o.Compact()
}
