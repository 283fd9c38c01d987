// Package early takes the opt-out path (package optout) while the program is
// still initialising: Go initialises packages in the order of their import
// paths, each after its own imports (the Go spec, "Package
// initialization"), so this one runs before client_golang, protobuf, cobra
// and logrus, none of which it imports. TestOptOutExecsBeforeHeavyInit (e2e)
// checks that with GODEBUG=inittrace=1.
//
// Only package main imports it. Tests never do: a test binary's own
// arguments must never reach an installer.
package early

import (
	"os"

	"github.com/install-metrics/install-metrics/cmd/install-metrics/internal/optout"
)

func init() {
	optout.Exec(os.Args[1:], os.LookupEnv)
}
