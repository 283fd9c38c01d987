//go:build unix

package stages

import "syscall"

// openFlags keeps os.Open from blocking on a FIFO put where the log should be.
const openFlags = syscall.O_NONBLOCK
