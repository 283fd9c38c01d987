package fsutil

import "golang.org/x/sys/unix"

// RenameNoReplace renames from to to unless to exists (EEXIST then).
func RenameNoReplace(from, to string) error {
	return unix.RenamexNp(from, to, unix.RENAME_EXCL)
}
