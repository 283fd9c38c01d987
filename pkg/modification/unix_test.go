//go:build unix

package modification

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// takeWithin runs Take, failing the test if it does not return in time: the
// named pipes below block any reader until a writer comes, which never does.
func takeWithin(t *testing.T, dir string) *Snapshot {
	t.Helper()
	done := make(chan *Snapshot, 1)
	go func() { done <- Take(dir, Options{}) }()
	select {
	case s := <-done:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("Take blocked: it opened a named pipe")
		return nil
	}
}

// fifo makes a named pipe outside the asset directory.
func fifo(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// linkToPipe replaces a file of dir with a symbolic link to a named pipe.
func linkToPipe(t *testing.T, dir, name string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(fifo(t), p); err != nil {
		t.Fatal(err)
	}
}

func TestSymlinksAreNeverFollowed(t *testing.T) {
	t.Run("new manifest linking outside the directory", func(t *testing.T) {
		dir := buildDir(t, realState(t, run02), readListing(t, run02, "after"), nil)
		if err := os.Symlink(fifo(t), filepath.Join(dir, "manifests", "99-linked.yaml")); err != nil {
			t.Fatal(err)
		}
		snap := takeWithin(t, dir)
		if diff := cmp.Diff([]string{UserAdded}, snap.Modified()); diff != "" {
			t.Errorf("Modified() mismatch (-want +got):\n%s", diff)
		}
		checkWarnings(t, snap, 0)
	})
	t.Run("generated manifest replaced by a link", func(t *testing.T) {
		dir := buildDir(t, realState(t, run02), readListing(t, run02, "after"), nil)
		linkToPipe(t, dir, schedulerManifest)
		snap := takeWithin(t, dir)
		if m := snap.Modified(); m != nil {
			t.Errorf("Modified() = %q, want nil: what a link points to is unknown", m)
		}
		checkWarnings(t, snap, 1)
		if !strings.Contains(snap.Warnings()[0], schedulerManifest) {
			t.Errorf("warning %q does not name the file", snap.Warnings()[0])
		}
	})
	t.Run("ignition config replaced by a link", func(t *testing.T) {
		dir := buildDir(t, realState(t, run03), readListing(t, run03, "after"), nil)
		linkToPipe(t, dir, "bootstrap.ign")
		snap := takeWithin(t, dir)
		if m := snap.Modified(); m != nil {
			t.Errorf("Modified() = %q, want nil", m)
		}
		checkWarnings(t, snap, 1)
	})
}

func TestNamedPipes(t *testing.T) {
	t.Run("generated manifest is a named pipe", func(t *testing.T) {
		dir := buildDir(t, realState(t, run02), without(readListing(t, run02, "after"), schedulerManifest), nil)
		if err := syscall.Mkfifo(filepath.Join(dir, filepath.FromSlash(schedulerManifest)), 0o600); err != nil {
			t.Fatal(err)
		}
		snap := takeWithin(t, dir)
		if m := snap.Modified(); m != nil {
			t.Errorf("Modified() = %q, want nil", m)
		}
		checkWarnings(t, snap, 1)
	})
	for _, name := range []string{".openshift_install_state.json", installConfigName, "metadata.json"} {
		t.Run(name+" is a named pipe", func(t *testing.T) {
			dir := modifiedDir(t)
			if name == "metadata.json" { // read only when nothing else names the platform
				_ = os.Remove(filepath.Join(dir, ".openshift_install_state.json"))
			}
			p := filepath.Join(dir, name)
			_ = os.Remove(p)
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Fatal(err)
			}
			snap := takeWithin(t, dir)
			if name == ".openshift_install_state.json" {
				if m := snap.Modified(); m != nil {
					t.Errorf("Modified() = %q, want nil", m)
				}
			}
			checkWarnings(t, snap, 1)
		})
	}
}

func TestUnreadableFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads files whatever their mode; the named-pipe and symlink tests cover skipped files")
	}
	dir := modifiedDir(t)
	p := filepath.Join(dir, filepath.FromSlash(schedulerManifest))
	if err := os.Chmod(p, 0); err != nil {
		t.Fatal(err)
	}
	snap := Take(dir, Options{})
	if diff := cmp.Diff([]string{UserAdded, UserRemoved}, snap.Modified()); diff != "" {
		t.Errorf("Modified() mismatch (-want +got):\n%s", diff)
	}
	checkWarnings(t, snap, 1)
}

func TestAssetDirectoryIsAFile(t *testing.T) {
	dir := buildDir(t, realState(t, run03), nil, nil)
	writeFile(t, dir, "manifests", []byte("not a directory"))
	snap := Take(dir, Options{})
	if snap.Modified() != nil || snap.Warnings() != nil {
		t.Errorf("Modified() = %q, Warnings() = %q; want nothing", snap.Modified(), snap.Warnings())
	}
}
