//go:build !linux && !darwin

package wrap

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"
)

// Command is one installer run; see the Linux and macOS build.
type Command struct {
	Path, Name            string
	Args, Env             []string
	Stdin, Stdout, Stderr *os.File
}

// Status is how the child ended.
type Status struct {
	ExitCode   int
	Signal     syscall.Signal
	Start, End time.Time
	Forwarded  int
}

var errUnsupported = errors.New("running the installer is supported on linux and darwin only")

// Run is not supported on this system.
func Run(context.Context, Command) (Status, error) { return Status{}, errUnsupported }

// Exec is not supported on this system.
func Exec(Command) error { return errUnsupported }
