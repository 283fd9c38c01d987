package cmdline_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/install-metrics/install-metrics/cmd/install-metrics/internal/cmdline"
	"github.com/install-metrics/install-metrics/pkg/installer"
)

func writeFile(t *testing.T, path string, mode os.FileMode) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/false\n"), mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestFind is not parallel: it sets $PATH.
func TestFind(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, filepath.Join(dir, "bin", "openshift-install"), 0o755)
	other := writeFile(t, filepath.Join(dir, "other", "openshift-install-4.16"), 0o755)
	noexec := writeFile(t, filepath.Join(dir, "noexec", "openshift-install"), 0o644)
	binDir, otherDir, noexecDir := filepath.Dir(good), filepath.Dir(other), filepath.Dir(noexec)
	missing := filepath.Join(dir, "missing", "openshift-install")

	for _, tc := range []struct {
		name      string
		path      string // $PATH
		flag, env string
		want      string
		code      int      // 0: success
		msg       []string // substrings of the error
	}{
		{name: "on PATH", path: binDir, want: good},
		{name: "first on PATH wins", path: binDir + ":" + noexecDir, want: good},
		{name: "executable later on PATH wins", path: noexecDir + ":" + binDir, want: good},
		{name: "flag beats env and PATH", path: binDir, flag: other, env: good, want: other},
		{name: "env beats PATH", path: binDir, env: other, want: other},
		{name: "flag name searched on PATH", path: otherDir, flag: "openshift-install-4.16", want: other},
		{name: "not on PATH", path: otherDir, code: 127,
			msg: []string{"installer not found: openshift-install on $PATH", "install openshift-install or pass --installer PATH"}},
		{name: "empty PATH", path: "", code: 127, msg: []string{"openshift-install on $PATH"}},
		{name: "flag path missing", path: binDir, flag: missing, code: 127,
			msg: []string{"installer not found: --installer " + missing, "no such file", "pass --installer PATH"}},
		{name: "flag path missing does not fall back", path: binDir, flag: missing, env: good, code: 127},
		{name: "env path missing", path: binDir, env: missing, code: 127,
			msg: []string{"$INSTALL_METRICS_INSTALLER=" + missing}},
		{name: "flag not executable", path: binDir, flag: noexec, code: 126,
			msg: []string{"installer not executable: --installer " + noexec, "permission denied", "chmod +x"}},
		{name: "flag is a directory", path: binDir, flag: binDir, code: 126, msg: []string{"is a directory"}},
		{name: "only non-executable on PATH", path: noexecDir, code: 126,
			msg: []string{"installer not executable: openshift-install on $PATH: " + noexec}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PATH", tc.path)
			got, err := cmdline.Find(tc.flag, tc.env)
			if tc.code == 0 {
				if err != nil || got != tc.want {
					t.Fatalf("Find = %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			var nf *cmdline.NotFoundError
			if !errors.As(err, &nf) {
				t.Fatalf("Find = %q, %v; want a *NotFoundError", got, err)
			}
			if nf.ExitCode() != tc.code {
				t.Errorf("exit code %d, want %d", nf.ExitCode(), tc.code)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || msg != strings.ToLower(msg[:1])+msg[1:] {
				t.Errorf("error %q is not one lowercase line", msg)
			}
			for _, m := range tc.msg {
				if !strings.Contains(msg, m) {
					t.Errorf("error %q does not say %q", msg, m)
				}
			}
		})
	}
}

// The exit codes are written out in package cmdline, which may not import
// pkg/installer; they must stay the installer package's.
func TestNotFoundExitCodes(t *testing.T) {
	if got := (&cmdline.NotFoundError{}).ExitCode(); got != installer.ExitNotFound {
		t.Errorf("not found: %d, want %d", got, installer.ExitNotFound)
	}
	if got := (&cmdline.NotFoundError{Path: "/x"}).ExitCode(); got != installer.ExitNotExecutable {
		t.Errorf("not executable: %d, want %d", got, installer.ExitNotExecutable)
	}
}
