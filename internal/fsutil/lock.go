//go:build unix

package fsutil

import (
	"context"
	"errors"

	"golang.org/x/sys/unix"
)

// ErrLocked is returned by LockDir when ctx ends before the lock is free.
var ErrLocked = errors.New("locked by another process")

// LockDir takes an exclusive flock on the directory dir itself, so that
// writers of a file in it (read, merge, rename) take turns without a lock
// file beside it (a CI artifacts directory keeps only the report). It waits
// until ctx ends, then returns ErrLocked. unlock releases it.
func LockDir(ctx context.Context, dir string) (unlock func(), err error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return Lock(ctx, fd)
}

// Lock takes an exclusive flock on fd, waiting until ctx ends (then
// ErrLocked). It owns fd from then on: unlock releases the lock and closes
// it, and on an error fd is closed (at once, or once a flock still blocked
// in the background returns).
func Lock(ctx context.Context, fd int) (unlock func(), err error) {
	unlock = func() { _ = unix.Flock(fd, unix.LOCK_UN); _ = unix.Close(fd) }
	err = flock(fd, unix.LOCK_EX|unix.LOCK_NB)
	if err == nil {
		return unlock, nil
	}
	if !errors.Is(err, unix.EWOULDBLOCK) {
		_ = unix.Close(fd)
		return nil, err
	}
	got := make(chan error, 1)
	go func() { got <- flock(fd, unix.LOCK_EX) }()
	select {
	case err := <-got:
		if err != nil {
			_ = unix.Close(fd)
			return nil, err
		}
		return unlock, nil
	case <-ctx.Done():
		go func() { // release the lock if the blocked flock gets it later
			if err := <-got; err == nil {
				_ = unix.Flock(fd, unix.LOCK_UN)
			}
			_ = unix.Close(fd)
		}()
		return nil, ErrLocked
	}
}

// flock retries on EINTR.
func flock(fd, how int) error {
	for {
		err := unix.Flock(fd, how)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
