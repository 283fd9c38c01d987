//go:build linux && race

package e2e

// raceEnabled: the tests run with -race, so install-metrics is built with it too.
const raceEnabled = true
