//go:build linux || darwin

package wrap_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/google/go-cmp/cmp"
)

// waitFor polls cond every 10ms until it holds or d has passed.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func exists(path string) func() bool {
	return func() bool { _, err := os.Stat(path); return err == nil }
}

// signalLog reads the child's list of received signals.
func signalLog(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) || len(b) == 0 {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// wrapperProc is the wrapper helper started without a terminal, in its own
// process group (so that a group kill spares the test), as CI would run it.
type wrapperProc struct {
	cmd        *exec.Cmd
	ready, log string
	forwarded  string // where the helper writes Status.Forwarded
	stderr     bytes.Buffer
	cancel     context.CancelFunc
}

func startWrapper(t *testing.T) *wrapperProc {
	t.Helper()
	dir := t.TempDir()
	w := &wrapperProc{ready: filepath.Join(dir, "ready"), log: filepath.Join(dir, "signals"), forwarded: filepath.Join(dir, "forwarded")}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	w.cancel = cancel
	w.cmd = exec.CommandContext(ctx, self(t), w.ready, w.log)
	w.cmd.Env = append(helperEnviron("wrapper"), childEnv+"=signals", forwardedEnv+"="+w.forwarded)
	w.cmd.Stderr = &w.stderr
	w.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = w.cmd.Wait()
	})
	waitFor(t, 10*time.Second, "the installer to be ready", exists(w.ready))
	return w
}

// wait returns the wrapper's exit code.
func (w *wrapperProc) wait(t *testing.T) int {
	t.Helper()
	err := w.cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	if w.stderr.Len() > 0 {
		t.Logf("wrapper stderr: %s", w.stderr.String())
	}
	return w.cmd.ProcessState.ExitCode()
}

// TestSignalToWrapperReachesInstallerOnce covers `kill -SIG <our pid>` and
// `kill -SIG -<our pgid>` (what CI systems do): either way the installer
// gets the signal exactly once, and the wrapper exits with its code (8, as
// 4.16+ does after its teardown).
func TestSignalToWrapperReachesInstallerOnce(t *testing.T) {
	t.Parallel()
	for _, target := range []string{"pid", "group"} {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT} {
			t.Run(target+"/"+sig.String(), func(t *testing.T) {
				t.Parallel()
				w := startWrapper(t)
				pid := w.cmd.Process.Pid
				if target == "group" {
					pid = -pid
				}
				if err := syscall.Kill(pid, sig); err != nil {
					t.Fatal(err)
				}
				if code := w.wait(t); code != 8 {
					t.Errorf("wrapper exited %d, want the installer's 8", code)
				}
				if diff := cmp.Diff([]string{sigName(sig)}, signalLog(t, w.log)); diff != "" {
					t.Errorf("signals received by the installer mismatch (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestSecondSignalIsForwardedToo: a second signal during the installer's
// teardown is a second signal (4.16+ then exits 1 at once).
func TestSecondSignalIsForwardedToo(t *testing.T) {
	t.Parallel()
	w := startWrapper(t)
	if err := syscall.Kill(w.cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the first signal", func() bool { return len(signalLog(t, w.log)) == 1 })
	if err := syscall.Kill(-w.cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := w.wait(t); code != 1 {
		t.Errorf("wrapper exited %d, want the installer's 1", code)
	}
	if diff := cmp.Diff([]string{"SIGTERM", "SIGINT"}, signalLog(t, w.log)); diff != "" {
		t.Errorf("signals mismatch (-want +got):\n%s", diff)
	}
	// What the wrapper's send phase uses to tell the installer's signals
	// from its own (cmd/install-metrics/cli signalWatch).
	if got, err := os.ReadFile(w.forwarded); err != nil || string(got) != "2" {
		t.Errorf("Status.Forwarded = %q (%v), want 2", got, err)
	}
}

func sigName(s syscall.Signal) string {
	return map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM",
		syscall.SIGHUP: "SIGHUP", syscall.SIGQUIT: "SIGQUIT"}[s]
}

// ttySession runs a helper as the leader of a new session whose controlling
// terminal is a fresh pseudo-terminal, and collects what is written to it.
type ttySession struct {
	ptmx *os.File
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

func startOnTerminal(t *testing.T, env []string, args ...string) *ttySession {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	s := &ttySession{ptmx: ptmx, done: make(chan struct{})}
	s.cmd = exec.CommandContext(ctx, self(t), args...)
	s.cmd.Env = env
	s.cmd.Stdin, s.cmd.Stdout, s.cmd.Stderr = tty, tty, tty
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	go func() {
		defer close(s.done)
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			s.mu.Lock()
			s.out.Write(buf[:n])
			s.mu.Unlock()
			if err != nil {
				return // EIO once every slave is closed
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		_ = s.cmd.Wait()
		ptmx.Close()
		<-s.done
	})
	return s
}

// type writes keystrokes to the terminal.
func (s *ttySession) typeKeys(t *testing.T, keys string) {
	t.Helper()
	if _, err := io.WriteString(s.ptmx, keys); err != nil {
		t.Fatal(err)
	}
}

func (s *ttySession) wait(t *testing.T) int {
	t.Helper()
	err := s.cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	s.mu.Lock()
	t.Logf("terminal output: %q", s.out.String())
	s.mu.Unlock()
	return s.cmd.ProcessState.ExitCode()
}

// TestTerminalCtrlCReachesInstallerOnce: on a real (pseudo-)terminal the
// installer is the foreground process group: it can read the terminal (the
// interactive survey), its streams are the terminal, and Ctrl-C reaches it
// exactly once although the terminal signals its whole foreground group.
func TestTerminalCtrlCReachesInstallerOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ready, log := filepath.Join(dir, "ready"), filepath.Join(dir, "signals")
	s := startOnTerminal(t, append(helperEnviron("wrapper"), childEnv+"=signals"), ready, log, "read")
	waitFor(t, 10*time.Second, "the installer to be ready", exists(ready))
	var v childView
	readJSON(t, ready, &v)
	for fd, f := range v.Files {
		if !f.Terminal || !f.Foreground {
			t.Errorf("installer fd %d: terminal %v, foreground %v; want both", fd, f.Terminal, f.Foreground)
		}
	}
	s.typeKeys(t, "yes, use aws\n")
	waitFor(t, 10*time.Second, "the installer to read the terminal", func() bool { return len(signalLog(t, log)) == 1 })
	s.typeKeys(t, "\x03")
	if code := s.wait(t); code != 8 {
		t.Errorf("wrapper exited %d, want the installer's 8", code)
	}
	if diff := cmp.Diff([]string{"read:yes, use aws", "SIGINT"}, signalLog(t, log)); diff != "" {
		t.Errorf("installer log mismatch (-want +got):\n%s", diff)
	}
}

// TestTerminalCtrlZ: Ctrl-Z stops the installer; the wrapper stops its own
// job so the shell notices, and `fg` continues the installer, which is then
// in the foreground again (a Ctrl-C reaches it once).
func TestTerminalCtrlZ(t *testing.T) {
	t.Parallel()
	shellLog := filepath.Join(t.TempDir(), "shell")
	ctrlZThenCtrlC(t, helperEnviron("shell"), shellLog)
	if diff := cmp.Diff([]string{"job-stopped:SIGTSTP", "job-continued", "job-exit:8"}, signalLog(t, shellLog)); diff != "" {
		t.Errorf("shell log mismatch (-want +got):\n%s", diff)
	}
}

// TestTerminalCtrlZOrphaned: without a job-control shell above it (the
// wrapper leads its own session, so its stop signal is discarded) Ctrl-Z
// must not leave the installer stopped for ever: it is continued.
func TestTerminalCtrlZOrphaned(t *testing.T) {
	t.Parallel()
	ctrlZThenCtrlC(t, append(helperEnviron("wrapper"), childEnv+"=signals"))
}

// ctrlZThenCtrlC runs the helper in env (with args before the installer's
// own) on a terminal, types Ctrl-Z, waits for the installer to be continued,
// types Ctrl-C and checks that the installer saw SIGCONT then one SIGINT.
func ctrlZThenCtrlC(t *testing.T, env []string, args ...string) {
	t.Helper()
	dir := t.TempDir()
	ready, log := filepath.Join(dir, "ready"), filepath.Join(dir, "signals")
	s := startOnTerminal(t, env, append(args, ready, log)...)
	waitFor(t, 10*time.Second, "the installer to be ready", exists(ready))
	s.typeKeys(t, "\x1a")
	waitFor(t, 10*time.Second, "the installer to be continued", func() bool { return len(signalLog(t, log)) == 1 })
	s.typeKeys(t, "\x03")
	if code := s.wait(t); code != 8 {
		t.Errorf("exit code %d, want the installer's 8", code)
	}
	if diff := cmp.Diff([]string{"SIGCONT", "SIGINT"}, signalLog(t, log)); diff != "" {
		t.Errorf("installer signals mismatch (-want +got):\n%s", diff)
	}
}
