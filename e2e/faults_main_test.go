//go:build linux

package e2e

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/install-metrics/install-metrics/internal/testenv"
)

// longFaults selects the 2 GiB installer log (default: 256 MiB) in
// TestFaultsInstallerHugeLog: go test ./e2e -run HugeLog -long.
var longFaults = flag.Bool("long", false, "fault tests: write the 2 GiB installer log instead of 256 MiB")

// TestMain fails the package if a test leaves a goroutine behind, and removes
// the binaries the fault tests built.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		if faultBins.dir != "" {
			_ = os.RemoveAll(faultBins.dir)
		}
		os.Exit(code)
	}))
}

// binaries are the programs the fault tests run, built once per test binary
// into a directory every user may read (some scenarios run as nobody).
type binaries struct {
	dir string
	// im is install-metrics built with the race detector when the tests
	// are (a data race in the real process fails the scenario); imPlain is
	// built without it, for the scenarios that measure memory or read
	// gigabytes.
	im, imPlain string
	// fake is e2e/testdata/fakeinstaller; replay the replay installer.
	fake, replay string
}

var (
	faultBuild sync.Once
	faultBins  binaries
	faultErr   error
)

// faultBinaries builds the binaries on first use.
func faultBinaries(t *testing.T) binaries {
	t.Helper()
	faultBuild.Do(func() {
		root := testenv.RepoRoot(t)
		dir, err := os.MkdirTemp("", "imfault-bin-")
		if err != nil {
			faultErr = err
			return
		}
		faultBins.dir = dir
		if err := os.Chmod(dir, 0o755); err != nil {
			faultErr = err
			return
		}
		b := binaries{
			dir:     dir,
			im:      filepath.Join(dir, "install-metrics"),
			imPlain: filepath.Join(dir, "install-metrics-plain"),
			fake:    filepath.Join(dir, "openshift-install"),
			replay:  filepath.Join(dir, "openshift-install-replay"),
		}
		var race []string
		if raceEnabled {
			race = []string{"-race"}
		}
		for _, j := range []struct {
			out, pkg string
			flags    []string
		}{
			{b.im, "./cmd/install-metrics", race},
			{b.imPlain, "./cmd/install-metrics", nil},
			{b.fake, "./e2e/testdata/fakeinstaller", nil},
			{b.replay, "./cmd/openshift-install-replay", nil},
		} {
			if !raceEnabled && j.out == b.imPlain {
				continue
			}
			args := append(append([]string{"build"}, j.flags...), "-o", j.out, j.pkg)
			cmd := exec.Command("go", args...)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				faultErr = fmt.Errorf("go build %s: %w\n%s", j.pkg, err, out)
				return
			}
		}
		if !raceEnabled {
			b.imPlain = b.im
		}
		faultBins = b
	})
	if faultErr != nil {
		t.Fatal(faultErr)
	}
	return faultBins
}
