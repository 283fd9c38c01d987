// Package fsutil holds the small file-system helpers that every writer
// of install-metrics' durable files (the textfile, the spool, the journal,
// the JUnit report) shares.
package fsutil

import (
	"errors"
	"os"
)

// Errno drops a file's name from an error (*os.PathError, *os.LinkError),
// for messages that name the file once themselves or whose file is a
// temporary one of no interest to the reader.
func Errno(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// SyncDir makes dir's entries durable (a rename into it survives a crash
// once this returns nil).
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
