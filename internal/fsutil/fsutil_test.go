package fsutil

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestErrno(t *testing.T) {
	_, err := os.Open(filepath.Join(t.TempDir(), "missing"))
	if got := Errno(err); !errors.Is(got, syscall.ENOENT) || got.Error() != syscall.ENOENT.Error() {
		t.Errorf("Errno(%v) = %v, want the bare errno", err, got)
	}
	err = os.Rename(filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b"))
	if got := Errno(err); !errors.Is(got, fs.ErrNotExist) || got.Error() != syscall.ENOENT.Error() {
		t.Errorf("Errno(%v) = %v, want the bare errno", err, got)
	}
	plain := errors.New("plain")
	if got := Errno(plain); !errors.Is(got, plain) || got.Error() != "plain" {
		t.Error("Errno changed an error that names no file")
	}
}

func TestSyncDir(t *testing.T) {
	if err := SyncDir(t.TempDir()); err != nil {
		t.Error(err)
	}
	if err := SyncDir(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("SyncDir(missing) = %v", err)
	}
}

func TestRenameNoReplace(t *testing.T) {
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "c")
	for p, data := range map[string]string{a: "a", b: "b"} {
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := RenameNoReplace(a, b); !errors.Is(err, fs.ErrExist) {
		t.Errorf("RenameNoReplace over a file: %v, want EEXIST", err)
	}
	if got, _ := os.ReadFile(b); string(got) != "b" {
		t.Errorf("the file renamed over holds %q", got)
	}
	if err := RenameNoReplace(a, c); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(c); string(got) != "a" {
		t.Errorf("renamed file holds %q", got)
	}
	if _, err := os.Lstat(a); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the old name is still there: %v", err)
	}
	if err := RenameNoReplace(a, c); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("RenameNoReplace of a missing file: %v", err)
	}
}
