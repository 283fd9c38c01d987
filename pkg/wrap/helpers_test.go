//go:build linux || darwin

package wrap_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"github.com/install-metrics/install-metrics/pkg/wrap"
)

// The test binary plays the installer (and the wrapper, and a shell): with
// GO_WRAP_HELPER set, TestMain runs the named helper instead of the tests,
// like golang/go's os/exec tests.
const (
	helperEnv = "GO_WRAP_HELPER"
	// forwardedEnv names the file where the wrapper helper writes
	// Status.Forwarded.
	forwardedEnv = "GO_WRAP_FORWARDED"
	childEnv     = "GO_WRAP_CHILD" // the wrapper helper's child helper
	// helperTimeout bounds every helper process: none may outlive a test.
	helperTimeout = 30 * time.Second
)

var helpers = map[string]func(args []string) int{
	"exit":     helperExit,
	"killself": helperKillSelf,
	"args":     helperArgs,
	"stdin":    helperStdin,
	"files":    helperFiles,
	"env":      helperEnvDump,
	"signals":  helperSignals,
	"wrapper":  helperWrapper,
	"exec":     helperExec,
	"pid":      helperPid,
	"shell":    helperShell,
}

func TestMain(m *testing.M) {
	if name := os.Getenv(helperEnv); name != "" {
		h, ok := helpers[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "unknown helper %q\n", name)
			os.Exit(100)
		}
		os.Exit(h(os.Args[1:]))
	}
	goleak.VerifyTestMain(m)
}

// helperExit exits with the code in args[0].
func helperExit(args []string) int {
	n, err := strconv.Atoi(args[0])
	if err != nil {
		return 100
	}
	return n
}

// helperKillSelf dies by the signal number in args[0], with its default action.
func helperKillSelf(args []string) int {
	n, err := strconv.Atoi(args[0])
	if err != nil {
		return 100
	}
	signal.Reset(syscall.Signal(n))
	_ = syscall.Kill(os.Getpid(), syscall.Signal(n))
	time.Sleep(helperTimeout)
	return 101
}

// helperArgs writes its whole argv as JSON to the file named by its first
// argument; the rest are the arguments under test.
func helperArgs(args []string) int {
	return writeJSON(args[0], append([]string{os.Args[0]}, args[1:]...))
}

// helperStdin copies stdin to the file in args[0].
func helperStdin(args []string) int {
	f, err := os.Create(args[0])
	if err != nil {
		return 100
	}
	defer f.Close()
	if _, err := io.Copy(f, os.Stdin); err != nil {
		return 101
	}
	return 0
}

// fileInfo is what a child sees of one of its standard streams.
type fileInfo struct {
	Dev, Ino   uint64
	Terminal   bool // a terminal (TCGETS/TIOCGETA works)
	Foreground bool // our process group is the terminal's foreground group
}

// childView is what the files helper reports.
type childView struct {
	Files []fileInfo
	Pgid  int
	Pid   int
}

func describe(fd int) fileInfo {
	var st unix.Stat_t
	var fi fileInfo
	if unix.Fstat(fd, &st) == nil {
		fi.Dev, fi.Ino = uint64(st.Dev), uint64(st.Ino)
	}
	_, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	fi.Terminal = err == nil
	fg, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	fi.Foreground = err == nil && fg == syscall.Getpgrp()
	return fi
}

func view() childView {
	return childView{
		Files: []fileInfo{describe(0), describe(1), describe(2)},
		Pgid:  syscall.Getpgrp(),
		Pid:   os.Getpid(),
	}
}

// helperFiles reports its standard streams to args[0] and writes a line to
// stdout and one to stderr.
func helperFiles(args []string) int {
	v := view()
	fmt.Fprintln(os.Stdout, "to stdout")
	fmt.Fprintln(os.Stderr, "to stderr")
	return writeJSON(args[0], v)
}

// helperEnvDump writes its environment to args[0].
func helperEnvDump(args []string) int {
	return writeJSON(args[0], os.Environ())
}

// helperPid writes its pid to args[0].
func helperPid(args []string) int {
	return writeJSON(args[0], os.Getpid())
}

// helperSignals behaves like openshift-install 4.16+ towards signals: it
// appends the name of every signal it receives to the log args[1] (SIGCONT
// included, to see job control), writes the ready file args[0] (its view of
// its streams) once its handlers are in place, and on the first
// SIGINT/SIGTERM/SIGHUP/SIGQUIT keeps listening for a short "teardown" then
// exits 8; a second such signal exits 1 at once. With args[2] == "read" it
// also reads one line from stdin and logs it as "read:<line>".
func helperSignals(args []string) int {
	sigc := make(chan os.Signal, 16)
	signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGCONT)
	record, err := appender(args[1])
	if err != nil {
		return 100
	}
	lines := make(chan string, 1)
	if len(args) > 2 && args[2] == "read" {
		go func() {
			l, _ := bufio.NewReader(os.Stdin).ReadString('\n')
			lines <- strings.TrimSpace(l)
		}()
	}
	if writeJSON(args[0], view()) != 0 {
		return 100
	}
	deadline := time.After(helperTimeout)
	var teardown <-chan time.Time
	for {
		select {
		case l := <-lines:
			record("read:" + l)
		case s := <-sigc:
			sig := s.(syscall.Signal)
			record(unix.SignalName(sig))
			if sig == syscall.SIGCONT {
				continue
			}
			if teardown != nil {
				return 1
			}
			teardown = time.After(500 * time.Millisecond)
		case <-teardown:
			return 8
		case <-deadline:
			return 99
		}
	}
}

// helperWrapper is install-metrics in miniature: wrap.Run on the test binary
// as the helper named by GO_WRAP_CHILD, with args, exiting with its code.
func helperWrapper(args []string) int {
	self, err := os.Executable()
	if err != nil {
		return 100
	}
	ctx, cancel := context.WithTimeout(context.Background(), helperTimeout)
	defer cancel()
	st, err := wrap.Run(ctx, wrap.Command{Path: self, Args: args, Env: helperEnviron(os.Getenv(childEnv))})
	if err != nil {
		fmt.Fprintln(os.Stderr, "wrapper:", err)
		return 102
	}
	if f := os.Getenv(forwardedEnv); f != "" {
		if err := os.WriteFile(f, []byte(strconv.Itoa(st.Forwarded)), 0o600); err != nil {
			return 103
		}
	}
	return st.ExitCode
}

// helperExec replaces itself with the child helper GO_WRAP_CHILD.
func helperExec(args []string) int {
	self, err := os.Executable()
	if err != nil {
		return 100
	}
	err = wrap.Exec(wrap.Command{Path: self, Args: args, Env: helperEnviron(os.Getenv(childEnv))})
	fmt.Fprintln(os.Stderr, "exec:", err)
	return 102
}

// helperEnviron is our environment with the helper set to name.
func helperEnviron(name string) []string {
	env := []string{helperEnv + "=" + name}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, helperEnv+"=") {
			env = append(env, kv)
		}
	}
	return env
}

// appender returns a function that appends a line to the file at path,
// durably, so that a test polling the file sees it at once.
func appender(path string) (func(string), error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	return func(s string) {
		fmt.Fprintln(f, s)
		_ = f.Sync()
	}, nil
}

func writeJSON(path string, v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return 100
	}
	// Write then rename: a reader polling for the file never sees half of it.
	if err := os.WriteFile(path+".tmp", b, 0o600); err != nil {
		return 100
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return 100
	}
	return 0
}

// helperShell is an interactive shell in miniature, for job control: run in
// its own session on a terminal, it starts the wrapper helper (args[1:]) as a
// foreground job, logs to args[0] when the job stops, takes the terminal
// back, then does `fg` (terminal to the job, SIGCONT to its group), and
// finally logs and returns the job's exit code.
func helperShell(args []string) int {
	record, err := appender(args[0])
	if err != nil {
		return 100
	}
	self, err := os.Executable()
	if err != nil {
		return 100
	}
	env := append(helperEnviron("wrapper"), childEnv+"=signals")
	p, err := os.StartProcess(self, append([]string{self}, args[1:]...), &os.ProcAttr{
		Env:   env,
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr},
		Sys:   &syscall.SysProcAttr{Setpgid: true, Foreground: true, Ctty: 0},
	})
	if err != nil {
		record("start: " + err.Error())
		return 100
	}
	job := p.Pid
	// Like bash: the shell takes the terminal back from a background
	// position, which needs SIGTTOU ignored (done only now, after the job
	// started, so the job does not inherit it).
	signal.Ignore(syscall.SIGTTOU)
	for range 10 {
		var ws syscall.WaitStatus
		if _, err := syscall.Wait4(job, &ws, syscall.WUNTRACED, nil); err != nil {
			if err == syscall.EINTR {
				continue
			}
			record("wait: " + err.Error())
			return 100
		}
		if !ws.Stopped() {
			record(fmt.Sprintf("job-exit:%d", ws.ExitStatus()))
			return ws.ExitStatus()
		}
		record("job-stopped:" + unix.SignalName(ws.StopSignal()))
		if err := unix.IoctlSetPointerInt(0, unix.TIOCSPGRP, syscall.Getpgrp()); err != nil {
			record("take terminal: " + err.Error())
		}
		// fg
		if err := unix.IoctlSetPointerInt(0, unix.TIOCSPGRP, job); err != nil {
			record("fg: " + err.Error())
		}
		_ = syscall.Kill(-job, syscall.SIGCONT)
		record("job-continued")
	}
	return 103
}
