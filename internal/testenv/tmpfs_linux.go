package testenv

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// FullTmpfs mounts a 64 KiB tmpfs on dir (an existing directory, with
// mode, e.g. "0700"), lets prepare write into it while it has room, then
// fills it until writes fail with ENOSPC. It is unmounted in t.Cleanup.
// Without the right to mount (not root, no CAP_SYS_ADMIN) the test is
// skipped with the reason; skipWhy says where the case is covered then.
func FullTmpfs(t testing.TB, dir, mode, skipWhy string, prepare func()) {
	t.Helper()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "size=64k,mode="+mode); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (%v): %s", err, skipWhy)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmounting %s: %v", dir, err)
		}
	})
	if prepare != nil {
		prepare()
	}
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for range 1024 {
		if _, err := f.Write(chunk); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return
			}
			t.Fatalf("testenv: %v", err)
		}
	}
	t.Fatal("testenv: a 64 KiB tmpfs took 4 MiB")
}
