// Command install-metrics runs openshift-install exactly as if it were called
// directly and records how the install went as Prometheus counters.
package main

import (
	"os"

	// First, for its init: a user who opted out gets the installer before
	// the metrics' dependencies initialise (see package optout).
	_ "github.com/install-metrics/install-metrics/cmd/install-metrics/internal/optout/early"

	"github.com/install-metrics/install-metrics/cmd/install-metrics/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}
