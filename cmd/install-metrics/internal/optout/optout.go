// Package optout is the opt-out path at its shortest. A user who opted out of
// metrics (--no-metrics, INSTALL_METRICS=off, DO_NOT_TRACK=1) gets the
// installer and nothing else, so install-metrics should cost them no more
// than an exec. Most of its start-up is the package initialisation of what
// only the metrics need (client_golang, protobuf, cobra, logrus: about
// 2.5 ms on a 2-vCPU VM, where issue 3 allows the whole opt-out path 2 ms),
// so package early calls Exec during initialisation, before those packages
// initialise.
//
// It takes the simple cases only; anything that needs a flag's value checked
// is left to the cli package, which treats the same command line the same
// way, only later (TestOptOutAgreesWithCLI). Like package cmdline, it
// imports only os and syscall besides.
package optout

import (
	"os"
	"syscall"

	"github.com/install-metrics/install-metrics/cmd/install-metrics/internal/cmdline"
)

// Command returns the installer to exec (its path and argv) when args
// (without the program name) and the environment opt out of metrics and
// nothing on the command line needs more than that. ok is false otherwise: a
// command of our own, a metrics flag whose value must be validated, a
// malformed flag, an installer that cannot be found (the cli reports those).
func Command(args []string, getenv cmdline.Getenv) (path string, argv []string, ok bool) {
	flags, rest, err := cmdline.Split(args)
	if err != nil || cmdline.Ours(rest) {
		return "", nil, false
	}
	off := cmdline.OptedOut(getenv)
	installer := ""
	for _, f := range flags {
		switch f.Def.Name {
		case cmdline.NoMetrics:
			b, err := cmdline.ParseBool(f.Val)
			if err != nil {
				return "", nil, false
			}
			off = b
		case cmdline.MetricsDebug:
			if _, err := cmdline.ParseBool(f.Val); err != nil {
				return "", nil, false
			}
		case cmdline.Installer:
			installer = f.Val
		default:
			return "", nil, false
		}
	}
	if !off {
		return "", nil, false
	}
	env, _ := getenv(cmdline.InstallerEnv)
	path, err = cmdline.Find(installer, env)
	if err != nil {
		return "", nil, false
	}
	return path, append([]string{cmdline.InstallerName(installer, env, path)}, rest...), true
}

// Exec replaces this process by the installer when Command says so, as
// wrap.Exec would (same argv, our environment and file descriptors). It
// returns only when it did not: the cli then runs as usual and, should exec
// fail again, says why.
func Exec(args []string, getenv cmdline.Getenv) {
	if path, argv, ok := Command(args, getenv); ok {
		_ = syscall.Exec(path, argv, os.Environ())
	}
}
