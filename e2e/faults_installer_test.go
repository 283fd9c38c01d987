//go:build linux

package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// The installer misbehaves: every exit code, death by SIGKILL, a SIGTERM it
// ignores for a while, logs that are missing, headless, shared, huge, with
// huge lines, invalid UTF-8 and NUL bytes, deleted or truncated under it, and
// a directory that disappears or becomes unreadable.

// TestFaultsInstallerExitCodes: every exit code comes back unchanged, those
// the installer gives a meaning (3..8) and those it never uses alike.
func TestFaultsInstallerExitCodes(t *testing.T) {
	t.Parallel()
	for _, code := range []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 42, 126, 127, 128, 137, 255} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, worldOpts{})
			plan := []step{header("4.16.3"), logLine("info", "Creating infrastructure resources...")}
			if code != 0 {
				plan = append(plan, logLine("error", "failed to create cluster: something went wrong"))
			}
			o := w.run(runSpec{plan: append(plan, exitCode(code))})
			checkPromises(w, expect{labels: map[string]string{"return": strconv.Itoa(code)}}, o)
		})
	}
}

// TestFaultsInstallerKilled: SIGKILL gives 137, the record says Interrupted.
func TestFaultsInstallerKilled(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{})
	o := w.run(runSpec{plan: []step{header("4.16.3"), logLine("info", "Creating infrastructure resources..."),
		{"op": "kill", "signal": int(syscall.SIGKILL)}}})
	checkPromises(w, expect{labels: map[string]string{"return": "137", "result": "Interrupted"}}, o)
}

// TestFaultsInstallerIgnoresSIGTERM: the installer takes its time after a
// SIGTERM (to the wrapper, or to its process group as a CI system sends it):
// it gets the signal exactly once, the wrapper waits, its code passes.
func TestFaultsInstallerIgnoresSIGTERM(t *testing.T) {
	t.Parallel()
	for _, group := range []bool{false, true} {
		t.Run(fmt.Sprintf("group=%v", group), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, worldOpts{})
			o := w.run(runSpec{
				plan: []step{op("catch"), header("4.16.3"), logLine("info", "Creating infrastructure resources..."),
					sleepMS(1500), logLine("error", "failed to create cluster: interrupted"), exitCode(4)},
				during: func(r *running) {
					r.waitFor("started")
					time.Sleep(200 * time.Millisecond) // its handler is in place
					if group {
						r.signalGroup(syscall.SIGTERM)
					} else {
						r.signal(syscall.SIGTERM)
					}
				},
			})
			if len(o.signals) != 1 || o.signals[0] != "terminated" {
				t.Errorf("the installer caught %v, want one SIGTERM", o.signals)
			}
			checkPromises(w, expect{labels: map[string]string{"return": "4"}}, o)
		})
	}
}

// TestFaultsInstallerLogs: logs that are missing, headless, shared with
// another run, garbled or pulled away mid-run.
func TestFaultsInstallerLogs(t *testing.T) {
	t.Parallel()
	lines := []step{logLine("info", "Creating infrastructure resources..."),
		logLine("info", "Waiting up to 20m0s (until 10:00AM UTC) for the Kubernetes API at https://api.c1.example.com:6443...")}
	for _, sc := range []struct {
		name   string
		plan   []step
		nobody bool
		setup  func(t *testing.T, w *world)
		labels map[string]string
	}{
		{name: "never written", plan: []step{exitCode(1)}, labels: map[string]string{"version": "unknown", "return": "1"}},
		{name: "no header", plan: append(append([]step{}, lines...), logLine("fatal", "waiting for Kubernetes API: context deadline exceeded"), exitCode(5)),
			labels: map[string]string{"version": "unknown", "result": "APIFailed"}},
		{name: "another run appends", plan: append([]step{header("4.16.3"), {"op": "appender", "lines": 30000, "version": "4.15.0"}},
			append(append([]step{}, lines...), sized("fill", 8<<20), logLine("info", "Install complete!"), exitCode(0))...),
			labels: map[string]string{"result": "Success"}},
		{name: "invalid UTF-8 and NUL bytes", plan: []step{header("4.16.3"),
			raw([]byte("time=\"2024-05-01T10:00:00Z\" level=info msg=\"Creating infrastructure resources...\xff\xfe\x00\"\n")),
			raw(bytes.Repeat([]byte{0}, 60000)), raw([]byte("\n\xc3\x28\xa0\xa1\x00\x00\n")),
			raw([]byte("time=\"2024-05-01T10:01:00Z\" level=fatal msg=\"failed to fetch Install Config: \xff\x00 invalid \xe2\x82\"\n")),
			exitCode(3)}, labels: map[string]string{"result": "InvalidConfig"}},
		{name: "log deleted mid-run", plan: append([]step{header("4.16.3"), lines[0], sleepMS(300), op("rmlog")},
			lines[1], logLine("fatal", "waiting for Kubernetes API: context deadline exceeded"), exitCode(5)),
			labels: map[string]string{"result": "APIFailed"}},
		{name: "log replaced mid-run", plan: append([]step{header("4.16.3"), lines[0], sleepMS(300), op("rmlog"), op("newlog"), header("4.16.3")},
			lines[1], logLine("fatal", "waiting for Kubernetes API: context deadline exceeded"), exitCode(5)),
			labels: map[string]string{"result": "APIFailed"}},
		{name: "log truncated mid-run", plan: append([]step{header("4.16.3"), lines[0], sleepMS(300), op("truncate"), header("4.16.3")},
			lines[1], logLine("fatal", "waiting for Kubernetes API: context deadline exceeded"), exitCode(5)),
			labels: map[string]string{"result": "APIFailed"}},
		{name: "directory removed mid-run", plan: append([]step{header("4.16.3"), lines[0], sleepMS(300), op("rmdir")},
			lines[1], logLine("fatal", "failed to create cluster: no directory"), exitCode(4)),
			labels: map[string]string{"return": "4"}},
		{name: "directory unreadable mid-run", nobody: true, plan: append([]step{header("4.16.3"), lines[0], sleepMS(300), op("chmoddir")},
			lines[1], logLine("fatal", "failed to create cluster: no access"), exitCode(4)),
			labels: map[string]string{"return": "4"}},
		{name: "log is a link to /dev/urandom", setup: func(t *testing.T, w *world) {
			must(t, os.Symlink("/dev/urandom", filepath.Join(w.dir, ".openshift_install.log")))
		}, plan: append(append([]step{header("4.16.3")}, lines...), exitCode(5)), labels: map[string]string{"version": "unknown", "return": "5"}},
		{name: "log is a directory", setup: func(t *testing.T, w *world) {
			mkdir(t, filepath.Join(w.dir, ".openshift_install.log"))
		}, plan: []step{exitCode(1)}, labels: map[string]string{"return": "1"}},
		{name: "secrets in the failure line", plan: []step{header("4.16.3"),
			logLine("fatal", `failed to fetch Install Config: pullSecret: {"auths":{"cloud.openshift.com":{"auth":"`+pullSecretAuth+`"}}} token=`+tokenSecret+` password: `+basicPassword),
			exitCode(3)}, labels: map[string]string{"result": "InvalidConfig"}},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, worldOpts{nobody: sc.nobody})
			if sc.setup != nil {
				sc.setup(t, w)
			}
			o := w.run(runSpec{plan: sc.plan})
			checkPromises(w, expect{labels: sc.labels}, o)
		})
	}
}

// hugeLogBytes is the size of the log of TestFaultsInstallerHugeLog: 256 MiB
// by default, 2 GiB with -long.
func hugeLogBytes() int64 {
	if *longFaults {
		return 2 << 30
	}
	return 256 << 20
}

// The big logs run install-metrics without the race detector: it is the
// memory of the real binary that is measured (the peak RSS of install-metrics
// and the installer, which writes with a 1 MiB buffer), and gigabytes through
// a race-instrumented reader would only measure the instrumentation.

// TestFaultsInstallerHugeLog: a log of short debug lines written as fast as
// the disk takes them, a pause, then the lines that decide the result.
func TestFaultsInstallerHugeLog(t *testing.T) {
	w := newWorld(t, worldOpts{})
	plan := append([]step{header("4.16.3"), logLine("info", "Creating infrastructure resources..."), sized("fill", hugeLogBytes()),
		sleepMS(1000)}, successPlan()[3:]...)
	o := w.run(runSpec{plan: plan, plain: true})
	checkPromises(w, expect{labels: map[string]string{"result": "Success"}}, o)
	checkPeakRSS(t, o)
}

// TestFaultsInstallerSparseLog: a 2 GiB log that is mostly a hole (2 GiB of
// NUL bytes without a newline: one line, cut), the stages around it.
func TestFaultsInstallerSparseLog(t *testing.T) {
	w := newWorld(t, worldOpts{})
	plan := append([]step{header("4.16.3"), logLine("info", "Creating infrastructure resources..."), sized("hole", 2<<30)},
		successPlan()[3:]...)
	o := w.run(runSpec{plan: plan, plain: true})
	checkPromises(w, expect{labels: map[string]string{"result": "Success"}}, o)
	checkPeakRSS(t, o)
}

// TestFaultsInstallerLongLines: two debug lines of 64 MiB each, each read
// while the installer runs (it pauses after each; the log is polled every
// 200ms).
func TestFaultsInstallerLongLines(t *testing.T) {
	w := newWorld(t, worldOpts{})
	plan := append([]step{header("4.16.3"), logLine("info", "Creating infrastructure resources..."),
		sized("longline", 64<<20), sleepMS(700), sized("longline", 64<<20), sleepMS(700)}, successPlan()[3:]...)
	o := w.run(runSpec{plan: plan, plain: true})
	checkPromises(w, expect{labels: map[string]string{"result": "Success"}}, o)
	checkPeakRSS(t, o)
}
