package cli

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/install-metrics/install-metrics/cmd/install-metrics/internal/cmdline"
)

// Env is everything the command layer takes from the outside world, so that
// tests can run it without a process of its own.
type Env struct {
	Getenv Getenv
	Stdin  *os.File
	Stdout *os.File
	Stderr *os.File
	Now    func() time.Time
	GOOS   string
}

// DefaultEnv is the real process's environment.
func DefaultEnv() *Env {
	return &Env{
		Getenv: os.LookupEnv,
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Now:    time.Now,
		GOOS:   runtime.GOOS,
	}
}

// Main runs install-metrics with args (without the program name) and returns
// the process exit code. It is the only place exit codes are decided.
func Main(args []string) int {
	return DefaultEnv().Run(args)
}

// exitError carries an exit code chosen deeper down.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// Run is Main with an explicit environment.
func (e *Env) Run(args []string) int {
	opts, rest, err := parseOptions(args, e.Getenv)
	if err != nil {
		return e.fail(err)
	}
	switch {
	case len(rest) > 0 && rest[0] == "metrics":
		return e.fail(e.runMetrics(opts, append([]string{"metrics"}, rest[1:]...)))
	case cmdline.Ours(rest): // nothing, or --help
		return e.fail(e.runMetrics(opts, []string{"--help"}))
	}
	code, err := e.wrap(opts, rest)
	if err != nil {
		return e.fail(err)
	}
	return code
}

// fail prints err as one line and maps it to an exit code.
func (e *Env) fail(err error) int {
	if err == nil {
		return 0
	}
	fmt.Fprintf(e.Stderr, "install-metrics: %v\n", err)
	var ue *UsageError
	var ee *exitError
	var coder interface{ ExitCode() int }
	switch {
	case errors.As(err, &ue):
		return 2
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &coder):
		return coder.ExitCode()
	}
	return 1
}
