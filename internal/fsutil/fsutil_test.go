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
