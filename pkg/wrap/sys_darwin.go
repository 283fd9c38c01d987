package wrap

import (
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// sysProcAttr puts the child in its own process group, in the terminal's
// foreground when fg. macOS has no parent-death signal: if we are killed
// with SIGKILL the installer is orphaned and runs to its end.
func sysProcAttr(tty int, fg bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true}
	if fg {
		a.Foreground = true
		a.Ctty = tty
	}
	return a
}

// lockThread is not needed without Pdeathsig.
func lockThread() (unlock func()) { return func() {} }

// setForeground makes pgrp the foreground process group of the terminal fd.
// A background process asking this gets SIGTTOU unless it blocks or ignores
// it. x/sys/unix has no per-thread signal mask on macOS, so SIGTTOU is
// ignored around the call. signal.Reset cannot restore the inherited default
// for SIGTTOU, so it stays ignored by this process afterwards (which only
// matters to children started later: Run hands the terminal back after its
// child has exited).
func setForeground(fd, pgrp int) error {
	signal.Ignore(syscall.SIGTTOU)
	defer signal.Reset(syscall.SIGTTOU)
	return unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, pgrp)
}
