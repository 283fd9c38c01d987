package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestOptOutExecsBeforeHeavyInit: with metrics off, the real binary hands
// over to the installer while it is still initialising, before client_golang,
// protobuf, cobra or logrus have run their package initialisation (the
// 2-ms opt-out budget of issue 3; see cmd/install-metrics/internal/optout).
// GODEBUG=inittrace=1 makes the Go runtime print one line per package
// initialised. With metrics on, the same trace shows those packages: the
// control that proves the trace would have caught them.
func TestOptOutExecsBeforeHeavyInit(t *testing.T) {
	im, installer := build(t)
	heavy := []string{
		"github.com/prometheus/client_golang/prometheus ",
		"google.golang.org/protobuf/",
		"github.com/spf13/cobra ",
		"github.com/sirupsen/logrus ",
	}
	run := func(env []string, args ...string) (stdout, stderr string, home string) {
		t.Helper()
		home = t.TempDir()
		cmd := exec.Command(im, args...)
		cmd.Env = append(os.Environ(), "HOME="+home, "XDG_STATE_HOME="+filepath.Join(home, "state"),
			"GODEBUG=inittrace=1", "INSTALL_METRICS=", "DO_NOT_TRACK=", "INSTALL_METRICS_SINKS=")
		cmd.Env = append(cmd.Env, env...)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		if err := cmd.Run(); err != nil {
			t.Fatalf("%q: %v\n%s", args, err, e.String())
		}
		return o.String(), e.String(), home
	}

	for _, tc := range []struct {
		name string
		env  []string
		args []string
	}{
		{"--no-metrics", nil, []string{"--no-metrics", "--installer", installer, "version"}},
		{"DO_NOT_TRACK=1", []string{"DO_NOT_TRACK=1"}, []string{"--installer", installer, "version"}},
		{"INSTALL_METRICS=off", []string{"INSTALL_METRICS=off", "INSTALL_METRICS_INSTALLER=" + installer}, []string{"version", "--metrics-debug"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, home := run(tc.env, tc.args...)
			if !strings.Contains(stdout, "openshift-install") {
				t.Errorf("the installer's version was not printed: %q", stdout)
			}
			if !strings.Contains(stderr, "init os @") {
				t.Fatalf("no init trace: the check below would prove nothing:\n%s", stderr)
			}
			for _, h := range heavy {
				if strings.Contains(stderr, "init "+h) {
					t.Errorf("%s initialised before the opt-out exec", strings.TrimSpace(h))
				}
			}
			if entries, _ := os.ReadDir(home); len(entries) != 0 {
				t.Errorf("opt-out wrote into $HOME: %v", entries)
			}
		})
	}

	t.Run("control: metrics on", func(t *testing.T) {
		_, stderr, _ := run(nil, "--installer", installer, "version")
		for _, h := range heavy {
			if !strings.Contains(stderr, "init "+h) {
				t.Errorf("%s missing from the trace of a run with metrics on", strings.TrimSpace(h))
			}
		}
	})
}
