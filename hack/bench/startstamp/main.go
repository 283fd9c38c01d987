// Command startstamp stands in for openshift-install in hack/bench/compare.sh.
// It writes the time it started (CLOCK_REALTIME, nanoseconds since the
// epoch, decimal) into the file named by $BENCH_START_FILE and exits 0,
// whatever its arguments, printing nothing. The script subtracts the time it
// launched a wrapper to learn how long the wrapper delays the installer's
// start.
//
// It imports as little as it can (os, strconv, time) and takes the time
// during package initialisation, so what it adds before the stamp is the Go
// runtime's start alone, the same for every wrapper it runs under.
package main

import (
	"os"
	"strconv"
	"time"
)

// StartFileEnv names the file the start time goes to.
const StartFileEnv = "BENCH_START_FILE"

// started is taken while the main package initialises, before main runs.
var started = time.Now()

func main() {
	os.Exit(stamp(os.Getenv(StartFileEnv), started))
}

// stamp writes t to path (truncating it) and returns the exit code: 0, or 2
// when path is empty or cannot be written, with one line on stderr.
func stamp(path string, t time.Time) int {
	if path == "" {
		os.Stderr.WriteString("startstamp: set " + StartFileEnv + " to the file that receives the start time\n")
		return 2
	}
	if err := os.WriteFile(path, strconv.AppendInt(nil, t.UnixNano(), 10), 0o600); err != nil {
		os.Stderr.WriteString("startstamp: " + err.Error() + "\n")
		return 2
	}
	return 0
}
