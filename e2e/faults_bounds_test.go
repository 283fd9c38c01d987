//go:build linux

package e2e

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// rssBoundKiB is the peak RSS (VmHWM) install-metrics may reach, without the
// race detector, whatever the installer's log holds (promise 8). Measured:
// about 13 MiB (docs/reliability.md); the bound is five times that, so a
// busy machine never makes it flaky, and a reader that keeps a line or the
// whole log in memory (64 MiB, 256 MiB) fails it.
const rssBoundKiB = 64 << 10

// checkPeakRSS fails the test when the run's peak RSS is over rssBoundKiB,
// or was not measured at all (a bound on nothing is no assertion).
func checkPeakRSS(t *testing.T, o outcome) {
	t.Helper()
	switch {
	case o.rssKiB <= 0:
		t.Errorf("the peak RSS of install-metrics was not measured")
	case o.rssKiB > rssBoundKiB:
		t.Errorf("peak RSS of install-metrics %d KiB, over the bound of %d KiB", o.rssKiB, rssBoundKiB)
	}
}

// readChars is rchar of /proc/<pid>/io: the bytes the process got from
// read(2) and its kin, from any file, page cache included.
func readChars(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "rchar:"); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("no rchar in /proc/%d/io", pid)
}

// stateReadBound is what install-metrics may read before the installer
// starts when the state file is 500 MiB: the asset directory's small files,
// its own configuration, a first buffer of the state file. Reading the state
// up to the 256 MiB limit before giving up (what it once did) is far over.
const stateReadBound = 16 << 20

// TestFaultsAssetHugeStateNotRead: a 500 MiB state file (sparse) is over the
// limit of what install-metrics reads; it is refused by its size, not read
// up to the limit. Measured as the bytes install-metrics read(2) until the
// installer started (/proc/<pid>/io), and the delay to the installer's start.
func TestFaultsAssetHugeStateNotRead(t *testing.T) {
	t.Parallel()
	w := assetWorld(t, worldOpts{})
	must(t, os.Truncate(w.statePath(), 500<<20))
	var read int64 = -1
	plan := append([]step{sleepMS(300)}, successPlan()...)
	o := w.run(runSpec{plan: plan, plain: true, during: func(r *running) {
		r.waitFor("started")
		n, err := readChars(r.cmd.Process.Pid)
		if err != nil {
			t.Errorf("reading what install-metrics read: %v", err)
			return
		}
		read = n
	}})
	t.Logf("figures: install-metrics read %d bytes before the installer started (%v after launch)", read, o.startDelay)
	if read > stateReadBound {
		t.Errorf("install-metrics read %d bytes before the installer started: the 500 MiB state file was read (bound %d)", read, stateReadBound)
	}
	checkPromises(w, expect{labels: map[string]string{"result": "Success", "return": "0"}}, o)
	checkPeakRSS(t, o)
}
