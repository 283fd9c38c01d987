package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/install-metrics/install-metrics/pkg/record"
)

// endedPrefix starts the one line Ended writes at the start of the lock
// file: "ended <crc32c of the JSON, 8 hex digits> <JSON>\n".
const endedPrefix = "ended "

// notePrefix starts the line Note writes in its place: "note <crc32c>
// <JSON of the invocation>\n".
const notePrefix = "note "

// maxEnded bounds the line read back.
const maxEnded = 64 << 10

// Ended notes in the entry's lock file how the installer ended, with one
// pwrite: no new file, no rename, no fsync, so it costs microseconds and
// is done the moment the installer is reaped. A record taken over while
// still provisional is sent with it (its exit code, result and wall time)
// instead of as Interrupted. A process death cannot tear one small pwrite;
// a power loss can leave anything, and a line that does not check is
// ignored. It is for the instants before Complete, which supersedes it.
func (e *Entry) Ended(end Ending) error {
	if err := checkEnding(end); err != nil {
		return err
	}
	data, err := marshal((*ending)(&end))
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.pwriteLine(endedPrefix, data)
}

// pwriteLine writes "<prefix><crc32c> <data>\n" at the start of the lock
// file. A shorter line than the one before leaves bytes after its newline,
// which readLine never reads.
func (e *Entry) pwriteLine(prefix string, data []byte) error {
	if e.lockFd < 0 {
		return ErrClosed
	}
	line := fmt.Sprintf("%s%08x %s\n", prefix, crc32.Checksum(data, crcTable()), data)
	if len(line) > maxEnded {
		return fmt.Errorf("noting the run in %s: %d bytes, more than %d", e.j.lockPath(e.id), len(line), maxEnded)
	}
	if _, err := unix.Pwrite(e.lockFd, []byte(line), 0); err != nil {
		return fmt.Errorf("noting the run in %s: %w", e.j.lockPath(e.id), err)
	}
	return nil
}

// Note records the complete run, as Complete does, in the entry's lock
// file with one pwrite instead of a new record file and a rename: the
// record file keeps the provisional run until its next write (a sink
// marked Sending, Settle's Done), which then holds inv too, and TakeOver
// prefers a note that checks to a provisional record. It is for the send
// phase's start, where the textfile alone needs nothing else from the
// journal (it is idempotent by the entry's id). Like Complete it is
// allowed until a sink leaves Pending.
func (e *Entry) Note(inv record.Invocation) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.canRecord(inv, false); err != nil {
		return err
	}
	inv = inUTC(inv)
	data, err := marshal((*invocation)(&inv))
	if err != nil {
		return err
	}
	if err := e.pwriteLine(notePrefix, data); err != nil {
		return err
	}
	e.st.Invocation, e.st.Provisional = inv, false
	return nil
}

// crcTable is built on first use, not at package initialisation, which
// runs before the installer's start (0.2 ms, GODEBUG=inittrace=1); the
// textfile sink needs the same table after the run anyway.
var crcTable = sync.OnceValue(func() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) })

func checkEnding(end Ending) error {
	switch {
	case end.ExitCode < 0 || end.ExitCode > 255:
		return fmt.Errorf("ending: exit code %d outside 0..255", end.ExitCode)
	case !end.Result.Valid():
		return errors.New("ending: result outside the closed set")
	case end.Wall < 0:
		return errors.New("ending: negative wall time")
	case len(end.Signal) > 32 || strings.ContainsFunc(end.Signal, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r == ' ' || r >= '0' && r <= '9') }):
		return errors.New("ending: signal name outside a-z, 0-9 and space")
	}
	return nil
}

// readLine reads the line Ended or Note wrote into the lock file fd: its
// prefix and data, when its checksum holds.
func readLine(fd int) (prefix string, data []byte, ok bool) {
	buf := make([]byte, maxEnded)
	n, err := unix.Pread(fd, buf, 0)
	if err != nil || n == 0 {
		return "", nil, false
	}
	line, _, ok := strings.Cut(string(buf[:n]), "\n")
	if !ok {
		return "", nil, false
	}
	for _, p := range []string{endedPrefix, notePrefix} {
		rest, found := strings.CutPrefix(line, p)
		if !found {
			continue
		}
		sum, d, ok := strings.Cut(rest, " ")
		want, err := strconv.ParseUint(sum, 16, 32)
		if !ok || err != nil || len(sum) != 8 || uint32(want) != crc32.Checksum([]byte(d), crcTable()) {
			return "", nil, false
		}
		return p, []byte(d), true
	}
	return "", nil, false
}

// noted completes a provisional state with what the lock file fd says: a
// Note's invocation, else Ended's ending, else nothing.
func (j *Journal) noted(st state, fd int) state {
	prefix, data, ok := readLine(fd)
	if !ok {
		return st
	}
	switch prefix {
	case notePrefix:
		var inv record.Invocation
		if json.Unmarshal(data, &inv) != nil || j.checkInvocation(inv, false) != nil {
			return st
		}
		st.Invocation, st.Provisional = inv, false
	case endedPrefix:
		var end Ending
		if json.Unmarshal(data, &end) != nil || checkEnding(end) != nil {
			return st
		}
		st = applyEnding(st, end)
	}
	return st
}

// applyEnding completes a provisional state with what Ended noted.
func applyEnding(st state, end Ending) state {
	st.Provisional = false
	inv := &st.Invocation
	inv.ExitCode, inv.Result, inv.Wall, inv.Signal = end.ExitCode, end.Result, end.Wall, end.Signal
	return st
}
