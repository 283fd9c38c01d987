package replay_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/install-metrics/install-metrics/internal/replay"
)

// replayProc is the replay installer as a process of its own.
type replayProc struct {
	cmd             *exec.Cmd
	dir, ready, sig string
	stderr          bytes.Buffer
}

// startReplay starts `create cluster` of scenario at real speed (so it is
// still replaying when signalled) and waits until it is ready.
func startReplay(t *testing.T, scenario string, env ...string) *replayProc {
	t.Helper()
	tmp := t.TempDir()
	p := &replayProc{dir: filepath.Join(tmp, "c"), ready: filepath.Join(tmp, "ready"), sig: filepath.Join(tmp, "signals")}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.CommandContext(ctx, self, "create", "cluster", "--dir", p.dir)
	p.cmd.Env = append(os.Environ(), asInstaller+"=1",
		replay.EnvScenario+"="+scenario, replay.EnvSpeed+"=1",
		replay.EnvReady+"="+p.ready, replay.EnvSignalLog+"="+p.sig)
	p.cmd.Env = append(p.cmd.Env, env...)
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = p.cmd.Wait()
	})
	waitUntil(t, "the replay to be ready", func() bool { _, err := os.Stat(p.ready); return err == nil })
	return p
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (p *replayProc) kill(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// wait returns the exit code, or the signal that killed the process.
func (p *replayProc) wait(t *testing.T) (int, syscall.Signal) {
	t.Helper()
	err := p.cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	ws := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return -1, ws.Signal()
	}
	return ws.ExitStatus(), 0
}

func (p *replayProc) signals(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(p.sig)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

// TestInterruptLike416: the first SIGINT or SIGTERM is logged (file and
// stderr), stops the replay and exits 8 after the teardown.
func TestInterruptLike416(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			p := startReplay(t, "cluster-success")
			p.kill(t, sig)
			if code, s := p.wait(t); code != 8 {
				t.Fatalf("exit code %d (signal %v), want 8; stderr:\n%s", code, s, p.stderr.String())
			}
			log, err := os.ReadFile(filepath.Join(p.dir, ".openshift_install.log"))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(log)), "\n")
			if last := lines[len(lines)-1]; !strings.HasSuffix(last, `level=warning msg="Received interrupt signal"`) {
				t.Errorf("last log line %q, want the interrupt warning", last)
			}
			if strings.Contains(string(log), "Install complete!") {
				t.Error("the replay went on after the signal")
			}
			if !strings.HasSuffix(p.stderr.String(), "level=warning msg=Received interrupt signal\n") {
				t.Errorf("stderr does not end with the interrupt warning:\n%s", p.stderr.String())
			}
			if diff := cmp.Diff([]string{map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM"}[sig]}, p.signals(t)); diff != "" {
				t.Errorf("signal log mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSecondSignalExits1: a second signal during the teardown exits 1 at once.
func TestSecondSignalExits1(t *testing.T) {
	t.Parallel()
	p := startReplay(t, "cluster-success", replay.EnvTeardown+"=20s")
	p.kill(t, syscall.SIGTERM)
	waitUntil(t, "the first signal", func() bool { return len(p.signals(t)) == 1 })
	p.kill(t, syscall.SIGINT)
	if code, s := p.wait(t); code != 1 {
		t.Fatalf("exit code %d (signal %v), want 1", code, s)
	}
	if diff := cmp.Diff([]string{"SIGTERM", "SIGINT"}, p.signals(t)); diff != "" {
		t.Errorf("signal log mismatch (-want +got):\n%s", diff)
	}
}

// TestOlderInstallersDieBySignal: before 4.16 the installer had no handler.
// SIGHUP kills every version.
func TestOlderInstallersDieBySignal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		scenario string
		sig      syscall.Signal
	}{
		{"cluster-provisioning-failed", syscall.SIGINT},
		{"cluster-bootstrap-failed", syscall.SIGTERM},
		{"cluster-success", syscall.SIGHUP},
	} {
		t.Run(tc.scenario+"/"+tc.sig.String(), func(t *testing.T) {
			t.Parallel()
			p := startReplay(t, tc.scenario)
			p.kill(t, tc.sig)
			if code, s := p.wait(t); s != tc.sig {
				t.Errorf("exit code %d signal %v, want death by %v", code, s, tc.sig)
			}
			if len(p.signals(t)) != 1 {
				t.Errorf("signal log %v, want one entry", p.signals(t))
			}
		})
	}
}
