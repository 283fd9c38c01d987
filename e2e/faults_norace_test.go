//go:build linux && !race

package e2e

// raceEnabled: the tests run without -race, and so does install-metrics.
const raceEnabled = false
