//go:build linux

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/install-metrics/install-metrics/pkg/sink/gateway/gatewaytest"
)

// The user interrupts: Ctrl-C twice, SIGTERM while install-metrics sends,
// --metrics-timeout 0, malformed metrics flags.

// replayPlan makes the fake installer the replay installer (internal/replay)
// for a recorded 4.16 `create cluster`, whose first SIGINT starts a teardown
// and whose second abandons it (exit 1).
func replayPlan() ([]step, []string) {
	return []step{{"op": "replay", "speed": "1000"}}, []string{
		"OPENSHIFT_INSTALL_REPLAY_SCENARIO=cluster-success",
		"OPENSHIFT_INSTALL_REPLAY_TEARDOWN=10s",
		"OPENSHIFT_INSTALL_REPLAY_READY={stamp}/ready",
		"OPENSHIFT_INSTALL_REPLAY_SIGNAL_LOG={stamp}/replay-signals",
	}
}

// TestFaultsCtrlCTwice: two SIGINTs while a 4.16 install runs, to
// install-metrics alone or to its process group (a terminal's Ctrl-C): the
// installer gets each exactly once, abandons its teardown at the second and
// exits 1, and so does install-metrics.
func TestFaultsCtrlCTwice(t *testing.T) {
	t.Parallel()
	for _, group := range []bool{false, true} {
		t.Run(fmt.Sprintf("group=%v", group), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, worldOpts{})
			plan, env := replayPlan()
			var stamp string
			o := w.run(runSpec{plan: plan, env: env, during: func(r *running) {
				stamp = r.stamp
				r.waitFor("ready")
				time.Sleep(300 * time.Millisecond) // the replay is writing its log
				for range 2 {
					if group {
						r.signalGroup(syscall.SIGINT)
					} else {
						r.signal(syscall.SIGINT)
					}
					time.Sleep(150 * time.Millisecond)
				}
			}})
			got, _ := os.ReadFile(filepath.Join(stamp, "replay-signals"))
			if string(got) != "SIGINT\nSIGINT\n" {
				t.Errorf("the installer got %q, want SIGINT twice", got)
			}
			checkPromises(w, expect{labels: map[string]string{"return": "1", "result": "Interrupted"}}, o)
		})
	}
}

// TestFaultsSignalDuringSend: the installer has exited and install-metrics
// waits for a gateway that never answers (--metrics-timeout 5s) when a
// signal comes. It stops sending at once; the exit code is still the
// installer's and the record is in the textfile, or in the spool when the
// textfile was locked by another run at that moment.
func TestFaultsSignalDuringSend(t *testing.T) {
	t.Parallel()
	for _, sc := range []struct {
		name   string
		sig    syscall.Signal
		group  bool
		locked bool
	}{
		{name: "SIGTERM", sig: syscall.SIGTERM},
		{name: "SIGTERM to the group", sig: syscall.SIGTERM, group: true},
		{name: "SIGINT", sig: syscall.SIGINT},
		{name: "SIGHUP", sig: syscall.SIGHUP},
		{name: "SIGTERM, textfile locked", sig: syscall.SIGTERM, locked: true},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, worldOpts{})
			w.gw.SetFault(gatewaytest.Fault{Kind: gatewaytest.Hang})
			if sc.locked {
				lockTextfile(t, w.textfile)
			}
			o := w.run(runSpec{
				plan:    []step{header("4.16.3"), logLine("fatal", "waiting for Kubernetes API: context deadline exceeded"), exitCode(5)},
				timeout: "5s",
				during: func(r *running) {
					r.waitFor("exit")
					r.waitUntil("the push to reach the gateway", func() bool { return len(w.gw.Requests()) > 0 })
					time.Sleep(100 * time.Millisecond)
					r.mark()
					if sc.group {
						r.signalGroup(sc.sig)
					} else {
						r.signal(sc.sig)
					}
				},
			})
			if o.sigToExit > 2*time.Second {
				t.Errorf("install-metrics ended %v after the signal, not promptly (--metrics-timeout 5s)", o.sigToExit)
			}
			checkPromises(w, expect{labels: map[string]string{"return": "5"}}, o)
			if sc.locked {
				if n, _ := readSpool(t, w.spoolDir()); n["file://"+w.textfile] != 1 {
					t.Errorf("the textfile push is not in the spool: %v", n)
				}
			}
		})
	}
}

// lockTextfile holds the textfile's lock, as another run writing it would,
// until the test ends.
func lockTextfile(t *testing.T, textfile string) {
	t.Helper()
	mkdir(t, filepath.Dir(textfile))
	f, err := os.OpenFile(textfile+".lock", os.O_RDWR|os.O_CREATE, 0o644)
	must(t, err)
	t.Cleanup(func() { f.Close() })
	must(t, unix.Flock(int(f.Fd()), unix.LOCK_EX))
}

// TestFaultsTimeoutZero: --metrics-timeout 0 does not wait for the network:
// the gateway and StatsD pushes go to the spool untried, the textfile is
// written.
func TestFaultsTimeoutZero(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{})
	o := w.run(runSpec{plan: successPlan(), timeout: "0"})
	checkPromises(w, expect{labels: map[string]string{"result": "Success"}}, o)
	if n := len(w.gw.Requests()); n != 0 {
		t.Errorf("the gateway got %d requests with --metrics-timeout 0", n)
	}
	n, _ := readSpool(t, w.spoolDir())
	for _, s := range w.sinks {
		if s.kind != "textfile" && n[s.url] != 1 {
			t.Errorf("%s: %d pushes spooled, want 1", s.url, n[s.url])
		}
	}
}

// TestFaultsMalformedFlags: a malformed metrics flag or variable is one
// error line that names it, exit code 2, the installer is not started and
// nothing is written. A credential in a sink URL is not echoed.
func TestFaultsMalformedFlags(t *testing.T) {
	t.Parallel()
	token := "token-file:/nonexistent/token"
	for _, sc := range []struct {
		name  string
		flags []string
		env   []string
		flag  string
		own   int
	}{
		{name: "timeout not a duration", flags: []string{"--metrics-timeout", "abc"}, flag: "--metrics-timeout"},
		{name: "timeout negative", flags: []string{"--metrics-timeout=-1s"}, flag: "--metrics-timeout"},
		{name: "timeout without value", flags: []string{"--metrics-timeout"}, flag: "--metrics-timeout"},
		{name: "sink scheme", flags: []string{"--metrics-sink", "ftp://127.0.0.1/x"}, flag: "--metrics-sink"},
		{name: "sink with credentials", flags: []string{"--metrics-sink", "https://user:" + tokenSecret + "@127.0.0.1:1"}, flag: "--metrics-sink"},
		{name: "sink empty", flags: []string{"--metrics-sink="}, flag: "--metrics-sink"},
		{name: "statsd without port", flags: []string{"--metrics-sink", "statsd://127.0.0.1"}, flag: "--metrics-sink"},
		{name: "textfile relative", flags: []string{"--metrics-sink", "file://metrics.prom"}, flag: "--metrics-sink"},
		{name: "auth mode", flags: []string{"--metrics-auth", "bearer:" + tokenSecret}, flag: "--metrics-auth"},
		{name: "auth in clear text", flags: []string{"--metrics-sink", "http://gateway.example.invalid", "--metrics-auth", token}, flag: "--metrics-auth"},
		{name: "bucket", flags: []string{"--metrics-bucket", "7s"}, flag: "--metrics-bucket"},
		{name: "modification", flags: []string{"--metrics-modification", "some"}, flag: "--metrics-modification"},
		{name: "no-metrics value", flags: []string{"--no-metrics=maybe"}, flag: "--no-metrics"},
		{name: "unknown metrics flag", flags: []string{"--metrics-sinks", "file:///tmp/x.prom"}, flag: "--metrics-sinks"},
		{name: "timeout variable", env: []string{"INSTALL_METRICS_TIMEOUT=forever"}, flag: "INSTALL_METRICS_TIMEOUT"},
		{name: "sinks variable", env: []string{"INSTALL_METRICS_SINKS=statsd://127.0.0.1"}, flag: "INSTALL_METRICS_SINKS"},
		{name: "bucket variable", env: []string{"INSTALL_METRICS_BUCKET=7s"}, flag: "INSTALL_METRICS_BUCKET"},
		{name: "installer not found", env: []string{"INSTALL_METRICS_INSTALLER=/nonexistent/openshift-install"}, flag: "/nonexistent/openshift-install", own: 127},
		{name: "installer not executable", env: []string{"INSTALL_METRICS_INSTALLER=/etc/passwd"}, flag: "/etc/passwd", own: 126},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, worldOpts{})
			args := []string{"create", "cluster", "--dir", w.dir}
			if sc.name == "timeout without value" {
				args = append(args, sc.flags...) // a flag at the very end
				sc.flags = nil
			}
			o := w.run(runSpec{flags: sc.flags, args: args, env: sc.env, timeout: "-", plan: successPlan()})
			own := sc.own
			if own == 0 {
				own = 2
			}
			checkPromises(w, expect{own: own, flag: sc.flag}, o)
			var written []string
			_ = filepath.Walk(w.state, func(p string, fi os.FileInfo, err error) error {
				if err == nil && !fi.IsDir() {
					written = append(written, p)
				}
				return nil
			})
			if len(written) > 0 {
				t.Errorf("files written despite the error: %s", strings.Join(written, ", "))
			}
		})
	}
}

// TestFaultsBrokenOutput: the reader of install-metrics' output went away
// (`install-metrics create cluster 2>&1 | head -1`, a CI log collector that
// died) and the installer had nothing more to say. A warning or debug line
// of ours must not kill install-metrics with SIGPIPE: the exit code stays the
// installer's and the record is kept.
func TestFaultsBrokenOutput(t *testing.T) {
	t.Parallel()
	for _, sc := range []struct {
		name    string
		refused bool
		env     []string
	}{
		{name: "debug output", env: []string{"INSTALL_METRICS_DEBUG=1"}},
		{name: "a warning", refused: true, env: []string{"INSTALL_METRICS_DEBUG=0"}},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, worldOpts{})
			if sc.refused {
				addr, err := gatewaytest.RefusedAddr()
				must(t, err)
				w.setGateway("http://"+addr, nil)
			}
			o := w.run(runSpec{plan: []step{header("4.16.3"), exitCode(3)}, env: sc.env, brokenOutput: true})
			checkPromises(w, expect{labels: map[string]string{"return": "3"}}, o)
		})
	}
}
