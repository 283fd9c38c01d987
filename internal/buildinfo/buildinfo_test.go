package buildinfo

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuild(t *testing.T) {
	rev := "0123456789abcdef0123456789abcdef01234567"
	for _, tc := range []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"no build info", nil, "devel"},
		{"go install @version", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, "v1.4.0"},
		{"pseudo-version", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260301101010-0123456789ab"}},
			"v0.0.0-20260301101010-0123456789ab"},
		{"go build in a clean checkout", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "false"}}},
			"0123456789ab"},
		{"go build with changes", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "true"}}},
			"0123456789ab+dirty"},
		{"-buildvcs=false", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "devel"},
	} {
		if got := fromBuild(tc.bi); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestLinkerWins(t *testing.T) {
	old := version
	t.Cleanup(func() { version = old })
	version = "v9.9.9"
	if got := Version(); got != "v9.9.9" {
		t.Errorf("Version() = %q, want the linker's v9.9.9", got)
	}
	if got := UserAgent(); got != "install-metrics/v9.9.9" {
		t.Errorf("UserAgent() = %q", got)
	}
}

// TestPlainGoBuild builds the real command from this checkout with
// -buildvcs=true and checks that `metrics version` names the revision.
func TestPlainGoBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	// Go stamps the revision only when .git is a directory: not in a git
	// worktree, whose .git is a file.
	if fi, err := os.Stat(filepath.Join(root, ".git")); err != nil || !fi.IsDir() {
		t.Skipf("%s is not a git clone with a .git directory (a worktree, or no git): go build stamps no revision", root)
	}
	head, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("git: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "install-metrics")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, "./cmd/install-metrics")
	build.Dir = root
	build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=true", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "metrics", "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	// Go 1.24 and later make a pseudo-version of the revision
	// (v0.0.0-20260301101010-0123456789ab[+dirty]); earlier ones left
	// (devel) and the revision in vcs.revision. Both name the commit.
	rev := strings.TrimSpace(string(head))[:12]
	if !strings.HasPrefix(string(out), "install-metrics ") || !strings.Contains(string(out), rev) {
		t.Errorf("metrics version printed %q, want the revision %s in it", out, rev)
	}
}
