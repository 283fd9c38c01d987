//go:build linux || darwin

package wrap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/install-metrics/install-metrics/pkg/installer"
)

// Command is one installer run.
type Command struct {
	// Path is the executable, as returned by Find.
	Path string
	// Name is argv[0], the name the user would have typed: the
	// --installer value, or "openshift-install" when found on $PATH (the
	// installer prints it in `version`). Empty means Path.
	Name string
	// Args are argv[1:], passed verbatim.
	Args []string
	// Env is the child's environment; nil means ours, unchanged.
	Env []string
	// Stdin, Stdout and Stderr are handed to the child as they are (the
	// same open files, not pipes); nil means ours.
	Stdin, Stdout, Stderr *os.File
}

// Status is how the child ended.
type Status struct {
	// ExitCode is the child's exit code, 0..255, or 128+N after death by
	// signal N.
	ExitCode int
	// Signal is the signal that killed the child; 0 when it exited.
	Signal syscall.Signal
	// Start and End bracket the child's life as seen by Run.
	Start, End time.Time
	// Forwarded counts the signals Run caught and passed to the child
	// while it could still get them (a signal caught after the child was
	// reaped is not counted). Every caller that also watches our signals
	// sees them in the same order (os/signal delivers each to every
	// channel in turn), so the first Forwarded it sees were the
	// installer's and any after those came after its end: a count, where
	// comparing a signal's timestamp with End would depend on when each
	// goroutine happened to run.
	Forwarded int
}

// StartError is returned when the child could not be started. Its exit code
// is the shell's: 127 when the file is missing, else 126.
type StartError struct {
	Path string
	Err  error
}

// Error is one line.
func (e *StartError) Error() string {
	return fmt.Sprintf("starting installer %s: %v", e.Path, e.Err)
}

// Unwrap returns the cause.
func (e *StartError) Unwrap() error { return e.Err }

// ExitCode is 127 when the file does not exist, else 126.
func (e *StartError) ExitCode() int {
	if errors.Is(e.Err, os.ErrNotExist) {
		return installer.ExitNotFound
	}
	return installer.ExitNotExecutable
}

// Forwarded are the signals Run passes on to the child.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

// stopWait bounds how long Run waits for its own job-control stop to take
// effect; it only matters when the stop is discarded (orphaned process group).
const stopWait = 200 * time.Millisecond

// Run starts the child, forwards the signals we receive (see the package
// documentation), waits for it to end and returns how it ended. When ctx is
// done the child is killed (SIGKILL) and Run returns after it has been
// reaped, with ctx's error. Run leaves no goroutine behind.
func Run(ctx context.Context, c Command) (Status, error) {
	if c.Path == "" {
		return Status{}, &StartError{Path: c.Path, Err: errors.New("empty installer path")}
	}
	files := []*os.File{c.Stdin, c.Stdout, c.Stderr}
	for i, std := range []*os.File{os.Stdin, os.Stdout, os.Stderr} {
		if files[i] == nil {
			files[i] = std
		}
	}

	// Catch before the child exists, so that no signal falls between
	// start and wait. A signal ignored when we were started (nohup, a
	// non-interactive shell's `&`) stays ignored, and the child inherits
	// that, as it would without us.
	sigc := make(chan os.Signal, 16)
	var caught []os.Signal
	for _, s := range forwarded {
		if !signal.Ignored(s) {
			caught = append(caught, s)
		}
	}
	signal.Notify(sigc, caught...)
	defer signal.Stop(sigc)

	unlock := lockThread()
	defer unlock()

	tty := findTerminal(files)
	argv0 := c.Name
	if argv0 == "" {
		argv0 = c.Path
	}
	attr := &os.ProcAttr{Env: c.Env, Files: files, Sys: sysProcAttr(tty.fd, tty.foreground)}
	start := time.Now()
	p, err := os.StartProcess(c.Path, append([]string{argv0}, c.Args...), attr)
	if err != nil && tty.foreground {
		// The terminal refused the hand-over: run in the background group.
		attr.Sys = sysProcAttr(-1, false)
		p, err = os.StartProcess(c.Path, append([]string{argv0}, c.Args...), attr)
	}
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return Status{}, &StartError{Path: c.Path, Err: err}
	}
	defer func() { _ = p.Release() }()
	child := p.Pid // its own process group: pgid == pid

	events := make(chan waitEvent)
	ack := make(chan struct{})
	go waitChild(child, events, ack)

	done := ctx.Done()
	var ctxErr error
	fwd := 0
	for {
		select {
		case s := <-sigc:
			// ErrProcessDone: it is exiting; nobody left to tell.
			if p.Signal(s) == nil {
				fwd++
			}
		case <-done:
			done = nil
			ctxErr = ctx.Err()
			_ = p.Kill()
		case ev := <-events:
			if ev.err != nil {
				return Status{Start: start, End: time.Now(), Forwarded: fwd}, fmt.Errorf("waiting for installer: %w", ev.err)
			}
			if ev.status.Stopped() {
				jobStop(tty, child, ev.status.StopSignal())
				ack <- struct{}{}
				continue
			}
			st := Status{Start: start, End: time.Now(), ExitCode: ev.status.ExitStatus(), Forwarded: fwd}
			if ev.status.Signaled() {
				st.Signal = ev.status.Signal()
				st.ExitCode = 128 + int(st.Signal)
			}
			if tty.ok {
				// Take the terminal back if the child's group still has it.
				if fg, err := unix.IoctlGetInt(tty.fd, unix.TIOCGPGRP); err == nil && fg == child {
					_ = setForeground(tty.fd, syscall.Getpgrp())
				}
			}
			if ctxErr != nil {
				return st, fmt.Errorf("installer killed: %w", ctxErr)
			}
			return st, nil
		}
	}
}

// waitEvent is one change of the child's state.
type waitEvent struct {
	status syscall.WaitStatus
	err    error
}

// waitChild reports each stop of the child and finally its end; after a
// stop it waits for ack, so that the stop is handled before the next wait.
// It returns once the child is reaped.
func waitChild(pid int, events chan<- waitEvent, ack <-chan struct{}) {
	for {
		var ws syscall.WaitStatus
		_, err := syscall.Wait4(pid, &ws, syscall.WUNTRACED, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		events <- waitEvent{status: ws, err: err}
		if err != nil || !ws.Stopped() {
			return
		}
		<-ack
	}
}

// terminal is our controlling terminal, if one of the child's standard
// streams is it.
type terminal struct {
	ok         bool // fd is our controlling terminal
	fd         int
	foreground bool // our process group is its foreground group
}

// findTerminal returns the first of files that is our controlling terminal.
// TIOCGPGRP fails (ENOTTY) on anything else, including a terminal that is
// not ours.
func findTerminal(files []*os.File) terminal {
	for _, f := range files {
		fd := int(f.Fd())
		fg, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
		if err != nil {
			continue
		}
		return terminal{ok: true, fd: fd, foreground: fg == syscall.Getpgrp()}
	}
	return terminal{fd: -1}
}

// jobStop handles a stopped child. Without a terminal there is no job
// control: whoever stopped it will continue it. With one, the child's stop
// would have stopped the whole job had it been called directly, so take the
// terminal back, stop our own process group with the same signal (the shell
// notices), and once continued give the terminal back if we are in the
// foreground again and continue the child's group.
func jobStop(tty terminal, child int, sig syscall.Signal) {
	if !tty.ok {
		return
	}
	self := syscall.Getpgrp()
	if fg, err := unix.IoctlGetInt(tty.fd, unix.TIOCGPGRP); err == nil && fg == child {
		_ = setForeground(tty.fd, self)
	}
	switch sig {
	case syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU:
	default:
		sig = syscall.SIGTSTP
	}
	cont := make(chan os.Signal, 1)
	signal.Notify(cont, syscall.SIGCONT)
	_ = syscall.Kill(0, sig)
	// We stop as soon as the signal is delivered; SIGCONT says we were
	// continued. In an orphaned process group the kernel discards the stop
	// signal, so do not wait for a SIGCONT that will never come.
	t := time.NewTimer(stopWait)
	select {
	case <-cont:
	case <-t.C:
	}
	t.Stop()
	signal.Stop(cont)
	if fg, err := unix.IoctlGetInt(tty.fd, unix.TIOCGPGRP); err == nil && fg == self {
		_ = setForeground(tty.fd, child)
	}
	_ = syscall.Kill(-child, syscall.SIGCONT)
}

// Exec replaces the current process with the installer (execve): the opt-out
// path, where nothing but running the installer may happen. It uses our
// own standard streams (c.Stdin, c.Stdout and c.Stderr are ignored) and
// returns only on failure, with a *StartError.
func Exec(c Command) error {
	argv0 := c.Name
	if argv0 == "" {
		argv0 = c.Path
	}
	env := c.Env
	if env == nil {
		env = os.Environ()
	}
	err := syscall.Exec(c.Path, append([]string{argv0}, c.Args...), env)
	return &StartError{Path: c.Path, Err: err}
}
