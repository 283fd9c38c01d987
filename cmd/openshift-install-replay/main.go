// Command openshift-install-replay behaves like openshift-install from the
// outside but replays a recorded run instead of installing anything: for
// tests, the demo and benchmarks. See internal/replay.
package main

import (
	"os"

	"github.com/install-metrics/install-metrics/internal/replay"
)

func main() {
	os.Exit(replay.Main(os.Args))
}
