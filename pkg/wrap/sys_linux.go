package wrap

import (
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sysProcAttr puts the child in its own process group, in the terminal's
// foreground when fg, and asks the kernel to kill it should we die first.
//
// Pdeathsig fires when the thread that forked exits, so Run keeps its
// goroutine locked to that thread until the child is reaped (lockThread,
// golang/go#27505). It must be SIGKILL: when a multi-threaded parent dies the
// kernel sends the signal again at every re-parenting from one dying thread
// to the next, and the installer (4.16+) takes a second SIGTERM as "abandon
// the teardown". SIGKILL also matches a direct call: whatever killed us with
// SIGKILL (`kill -9` of our pid or of our process group) would have killed
// the installer.
func sysProcAttr(tty int, fg bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if fg {
		a.Foreground = true
		a.Ctty = tty
	}
	return a
}

// lockThread pins the calling goroutine to its OS thread; see sysProcAttr.
func lockThread() (unlock func()) {
	runtime.LockOSThread()
	return runtime.UnlockOSThread
}

// setForeground makes pgrp the foreground process group of the terminal fd.
// A background process asking this gets SIGTTOU unless it blocks or ignores
// it; blocking it on this (locked) thread changes nothing for the rest of the
// process or for children started later.
func setForeground(fd, pgrp int) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var block, old unix.Sigset_t
	sigaddset(&block, unix.SIGTTOU)
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &block, &old); err != nil {
		return err
	}
	err := unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, pgrp)
	if err2 := unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil); err == nil {
		err = err2
	}
	return err
}

// sigaddset adds sig to set (x/sys/unix has no helper).
func sigaddset(set *unix.Sigset_t, sig syscall.Signal) {
	n := uint(sig) - 1
	bits := uint(unsafe.Sizeof(set.Val[0])) * 8
	set.Val[n/bits] |= 1 << (n % bits)
}
