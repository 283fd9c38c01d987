package cli

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/install-metrics/install-metrics/cmd/install-metrics/internal/cmdline"
	"github.com/install-metrics/install-metrics/cmd/install-metrics/internal/optout"
)

// TestOptOutAgreesWithCLI: whatever the opt-out fast path (package optout,
// run from package initialisation) execs, the cli would have exec'd too,
// with the same path and argv; and it never runs an installer the cli would
// have refused (a malformed flag: exit 2; metrics on). Every command line of
// up to three words from a vocabulary of the awkward cases, under four
// environments. Not parallel: it sets $PATH.
func TestOptOutAgreesWithCLI(t *testing.T) {
	dir := t.TempDir()
	oi := filepath.Join(dir, "openshift-install")
	other := filepath.Join(dir, "oi-4.16")
	for _, p := range []string{oi, other} {
		if err := os.WriteFile(p, []byte("#!/bin/false\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir)
	words := []string{"--no-metrics", "--no-metrics=false", "--no-metrics=maybe", "--installer", other,
		"--installer=oi-4.16", "--installer=/nonexistent/oi", "--metrics-debug", "--metrics-debug=2",
		"--metrics-sink", "--metrics-sink=statsd://127.0.0.1:1", "--metrics-sink=bogus", "--metrics-bogus",
		"metrics", "version", "create", "--help", "--", ""}
	envs := []map[string]string{
		{},
		{"DO_NOT_TRACK": "1"},
		{"INSTALL_METRICS": "off", "INSTALL_METRICS_TIMEOUT": "soon", "INSTALL_METRICS_INSTALLER": other},
		{"INSTALL_METRICS_INSTALLER": "/nonexistent/oi"},
	}
	var lines [][]string
	var grow func(prefix []string)
	grow = func(prefix []string) {
		lines = append(lines, prefix)
		if len(prefix) == 3 {
			return
		}
		for _, w := range words {
			grow(append(slices.Clip(prefix), w))
		}
	}
	grow(nil)

	fast := 0
	for _, env := range envs {
		getenv := envOf(env)
		for _, args := range lines {
			path, argv, ok := optout.Command(args, getenv)
			if !ok {
				continue // the cli decides alone
			}
			fast++
			opts, rest, err := parseOptions(args, getenv)
			if err != nil || !opts.NoMetrics || cmdline.Ours(rest) {
				t.Fatalf("%q %v: the fast path execs, the cli would not: %+v, %v", args, env, opts, err)
			}
			cliPath, err := cmdline.Find(opts.Installer, opts.InstallerEnv)
			cliArgv := append([]string{cmdline.InstallerName(opts.Installer, opts.InstallerEnv, cliPath)}, rest...)
			if err != nil || cliPath != path || !slices.Equal(cliArgv, argv) {
				t.Fatalf("%q %v: fast path execs %s %q, the cli %s %q (%v)", args, env, path, argv, cliPath, cliArgv, err)
			}
		}
	}
	// The fast path must be worth having: it takes the common opt-outs.
	if fast < 1000 {
		t.Errorf("the fast path took only %d of %d command lines", fast, len(lines)*len(envs))
	}
	for _, tc := range []struct {
		args []string
		env  map[string]string
	}{
		{[]string{"--no-metrics", "create", "cluster", "--dir", "c1"}, nil},
		{[]string{"create", "cluster"}, map[string]string{"DO_NOT_TRACK": "1"}},
		{[]string{"--installer", other, "version"}, map[string]string{"INSTALL_METRICS": "off"}},
	} {
		if _, _, ok := optout.Command(tc.args, envOf(tc.env)); !ok {
			t.Errorf("%q %v: the fast path declined a plain opt-out", tc.args, tc.env)
		}
	}
}
