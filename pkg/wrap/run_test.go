//go:build linux || darwin

package wrap_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/install-metrics/install-metrics/pkg/wrap"
)

// testTimeout bounds each Run in the tests.
const testTimeout = 20 * time.Second

func self(t *testing.T) string {
	t.Helper()
	p, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// runHelper runs the named helper through wrap.Run in this process.
func runHelper(t *testing.T, helper string, c wrap.Command) wrap.Status {
	t.Helper()
	c.Path = self(t)
	if c.Env == nil {
		c.Env = helperEnviron(helper)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	st, err := wrap.Run(ctx, c)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return st
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestExitCodePassesThrough(t *testing.T) {
	t.Parallel()
	for _, code := range []int{0, 1, 3, 5, 8, 42, 255} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			t.Parallel()
			st := runHelper(t, "exit", wrap.Command{Args: []string{strconv.Itoa(code)}})
			if st.ExitCode != code || st.Signal != 0 {
				t.Errorf("got exit code %d signal %v, want %d and none", st.ExitCode, st.Signal, code)
			}
			if st.End.Before(st.Start) || st.Start.IsZero() {
				t.Errorf("start %v end %v", st.Start, st.End)
			}
		})
	}
}

func TestDeathBySignalIs128PlusN(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			st := runHelper(t, "killself", wrap.Command{Args: []string{strconv.Itoa(int(sig))}})
			if st.Signal != sig || st.ExitCode != 128+int(sig) {
				t.Errorf("got exit code %d signal %v, want %d and %v", st.ExitCode, st.Signal, 128+int(sig), sig)
			}
		})
	}
}

func TestArgumentsArriveByteForByte(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "args.json")
	args := []string{"create", "cluster", "--dir=x", "--dir", "my dir", "", "--", "-", "--log-level=debug",
		"ünïcödé ✓", "line\nbreak", "tab\there", `"quoted" 'single' $HOME *`, "\x01\x7f"}
	runHelper(t, "args", wrap.Command{Args: append([]string{out}, args...)})
	var got []string
	readJSON(t, out, &got)
	if got[0] != self(t) {
		t.Errorf("argv[0] = %q, want the path %q", got[0], self(t))
	}
	if diff := cmp.Diff(args, got[1:]); diff != "" {
		t.Errorf("arguments mismatch (-want +got):\n%s", diff)
	}
}

func TestArgv0(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "args.json")
	runHelper(t, "args", wrap.Command{Name: "openshift-install", Args: []string{out, "version"}})
	var got []string
	readJSON(t, out, &got)
	if diff := cmp.Diff([]string{"openshift-install", "version"}, got); diff != "" {
		t.Errorf("arguments mismatch (-want +got):\n%s", diff)
	}
}

func TestStdinReachesChild(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	want := []byte("pull secret? no: answers to the survey\nsecond line\n")
	if err := os.WriteFile(in, want, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := filepath.Join(dir, "out")
	runHelper(t, "stdin", wrap.Command{Args: []string{out}, Stdin: f})
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("child read %q, want %q", got, want)
	}
}

// TestChildGetsOurFiles: the child's fds 0, 1, 2 are the very files we
// pass (same device and inode), not pipes, and what it writes lands there.
func TestChildGetsOurFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	open := func(name string) *os.File {
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	stdin, stdout, stderr := open("stdin"), open("stdout"), open("stderr")
	out := filepath.Join(dir, "view.json")
	runHelper(t, "files", wrap.Command{Args: []string{out}, Stdin: stdin, Stdout: stdout, Stderr: stderr})
	var v childView
	readJSON(t, out, &v)
	for i, f := range []*os.File{stdin, stdout, stderr} {
		var st syscall.Stat_t
		if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
			t.Fatal(err)
		}
		if v.Files[i].Dev != uint64(st.Dev) || v.Files[i].Ino != uint64(st.Ino) {
			t.Errorf("child fd %d is dev %d ino %d, want ours: dev %d ino %d", i, v.Files[i].Dev, v.Files[i].Ino, st.Dev, st.Ino)
		}
	}
	for name, want := range map[string]string{"stdout": "to stdout\n", "stderr": "to stderr\n"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%s holds %q, want %q", name, got, want)
		}
	}
	if v.Pgid != v.Pid {
		t.Errorf("child process group %d, want its own (%d)", v.Pgid, v.Pid)
	}
}

// TestEnvironmentUnchanged: with Env nil the child sees exactly our
// environment. Not parallel: it sets the helper through our environment.
func TestEnvironmentUnchanged(t *testing.T) {
	t.Setenv(helperEnv, "env")
	t.Setenv("INSTALL_METRICS_TEST_VALUE", "a=b c\nd ✓")
	out := filepath.Join(t.TempDir(), "env.json")
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if _, err := wrap.Run(ctx, wrap.Command{Path: self(t), Args: []string{out}}); err != nil {
		t.Fatal(err)
	}
	var got []string
	readJSON(t, out, &got)
	if diff := cmp.Diff(os.Environ(), got); diff != "" {
		t.Errorf("environment mismatch (-want +got):\n%s", diff)
	}
}

// TestNoGoroutineLeft: after Run returns nothing of it is left running.
// Not parallel, so that no other test's goroutines are counted.
func TestNoGoroutineLeft(t *testing.T) {
	defer goleak.VerifyNone(t)
	runHelper(t, "exit", wrap.Command{Args: []string{"3"}})
	out := filepath.Join(t.TempDir(), "ready")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	// Killed by the context while it waits for signals.
	st, err := wrap.Run(ctx, wrap.Command{Path: self(t), Env: helperEnviron("signals"),
		Args: []string{out, filepath.Join(t.TempDir(), "log")}})
	if !errors.Is(err, context.DeadlineExceeded) || st.Signal != syscall.SIGKILL || st.ExitCode != 137 {
		t.Errorf("got %+v, %v; want death by SIGKILL (137) and context.DeadlineExceeded", st, err)
	}
}

func TestStartErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notExec := filepath.Join(dir, "not-executable")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		code int
	}{
		{filepath.Join(dir, "missing"), 127},
		{notExec, 126},
		{dir, 126},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		_, err := wrap.Run(ctx, wrap.Command{Path: tc.path})
		cancel()
		var se *wrap.StartError
		if !errors.As(err, &se) || se.ExitCode() != tc.code {
			t.Errorf("Run(%s): got %v, want a *StartError with exit code %d", tc.path, err, tc.code)
		}
	}
}

// TestExecReplacesProcess: Exec keeps the pid and runs the installer in
// place of the caller.
func TestExecReplacesProcess(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "pid.json")
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	env := append(helperEnviron("exec"), childEnv+"=pid")
	p, err := os.StartProcess(self(t), []string{self(t), out}, &os.ProcAttr{Env: env,
		Files: []*os.File{nil, os.Stderr, os.Stderr}})
	if err != nil {
		t.Fatal(err)
	}
	stop := context.AfterFunc(ctx, func() { _ = p.Kill() })
	defer stop()
	ps, err := p.Wait()
	if err != nil || !ps.Success() {
		t.Fatalf("exec helper: %v %v", ps, err)
	}
	var pid int
	readJSON(t, out, &pid)
	if pid != p.Pid {
		t.Errorf("installer ran as pid %d, want the caller's pid %d", pid, p.Pid)
	}
}
