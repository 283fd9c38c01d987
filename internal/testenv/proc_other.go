//go:build !linux

package testenv

import (
	"os"
	"os/exec"
)

func setPdeathsig(*exec.Cmd) {}

// quitSignal stops nginx (gracefully where there is SIGQUIT).
var quitSignal os.Signal = os.Kill
