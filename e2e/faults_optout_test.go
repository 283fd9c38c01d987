//go:build linux

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFaultsOptOutWithMetricsFlags: an opt-out variable (DO_NOT_TRACK=1,
// INSTALL_METRICS=off) is never overridden by metrics flags on the command
// line (issue 16). The real binary, so both paths are taken: the opt-out
// fast path that execs during package initialisation (flags it takes:
// --metrics-debug, --installer) and the cli (a flag whose value must be
// checked, like --metrics-sink). Nothing reaches any sink, nothing is
// written under HOME or XDG_STATE_HOME, install-metrics says nothing, and
// the installer's code passes through.
func TestFaultsOptOutWithMetricsFlags(t *testing.T) {
	t.Parallel()
	plan := append(successPlan()[:len(successPlan())-2], logLine("fatal", "failed to initialize the cluster: timed out"), exitCode(6))
	for _, env := range [][]string{{"DO_NOT_TRACK=1"}, {"INSTALL_METRICS=off"}, {"DO_NOT_TRACK=1", "INSTALL_METRICS=on"}} {
		for _, fl := range []struct {
			name  string
			flags func(w *world, other string) []string
		}{
			{"sink flag", func(w *world, other string) []string { return []string{"--metrics-sink", "file://" + other} }},
			{"sink=", func(w *world, other string) []string { return []string{"--metrics-sink=" + w.gw.URL} }},
			{"every sink", func(w *world, other string) []string {
				return []string{"--metrics-sink", "file://" + other, "--metrics-sink", w.gw.URL, "--metrics-sink", "statsd://" + w.udp.addr,
					"--metrics-timeout", "3s", "--metrics-debug"}
			}},
			{"auth and debug", func(w *world, other string) []string {
				return []string{"--metrics-auth", w.authFlag(), "--metrics-debug"}
			}},
			{"debug only (fast path)", func(*world, string) []string { return []string{"--metrics-debug"} }},
		} {
			t.Run(strings.Join(env, ",")+"/"+fl.name, func(t *testing.T) {
				t.Parallel()
				w := newWorld(t, worldOpts{})
				other := filepath.Join(w.extra, "other.prom")
				o := w.run(runSpec{flags: fl.flags(w, other), env: env, plan: plan, plain: true, timeout: "-"})
				if o.code != 6 || o.installerCode != 6 {
					t.Errorf("exit code %d (installer %d), want 6", o.code, o.installerCode)
				}
				if strings.Contains(string(o.stderr), "install-metrics") {
					t.Errorf("install-metrics spoke although opted out:\n%s", o.stderr)
				}
				for _, p := range []string{other, w.textfile, filepath.Join(w.state, "install-metrics"), filepath.Join(w.home, ".local")} {
					if _, err := os.Lstat(p); err == nil {
						t.Errorf("%s was written although opted out", p)
					}
				}
				if n := len(w.gw.Requests()); n != 0 {
					t.Errorf("the gateway got %d requests although opted out", n)
				}
				if n := len(w.udp.datagrams()); n != 0 {
					t.Errorf("StatsD got %d datagrams although opted out", n)
				}
			})
		}
	}
}
