package testenv

import (
	"os/exec"
	"syscall"
)

// setPdeathsig kills the tool when the test binary dies, so a crashed or
// timed-out test leaves no server behind.
func setPdeathsig(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// quitSignal stops nginx gracefully.
const quitSignal = syscall.SIGQUIT
