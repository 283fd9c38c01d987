package junit_test

import "syscall"

func mountTmpfs(dir string) error {
	return syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "size=64k,mode=0777")
}

func unmount(dir string) error { return syscall.Unmount(dir, syscall.MNT_DETACH) }
