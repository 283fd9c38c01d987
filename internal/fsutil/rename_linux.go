package fsutil

import "golang.org/x/sys/unix"

// RenameNoReplace renames from to to unless to exists (EEXIST then). A
// file system without RENAME_NOREPLACE says EINVAL: like every error, the
// caller does without the rename.
func RenameNoReplace(from, to string) error {
	return unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_NOREPLACE)
}
