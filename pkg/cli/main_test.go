package cli

import (
	"os"
	"testing"
)

// TestMain lets the test binary stand in for tierwall: run as "tierwall"
// with TIERWALL_TEST_MAIN=1 (the pipeline tests put it on PATH under that
// name), it is the command, so that shell lines run exactly what the
// binary runs.
func TestMain(m *testing.M) {
	if os.Getenv("TIERWALL_TEST_MAIN") == "1" {
		os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
