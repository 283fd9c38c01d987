package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
	"sync"

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

// Ended notes how the installer ended, in the entry's lock file with one
// pwrite (writeLock): no new file, no rename, no fsync, so it costs
// microseconds and is done the moment the installer is reaped. A record
// taken over after it is sent with its exit code, result and wall time
// instead of as Interrupted. A process death cannot tear one small pwrite;
// a power loss can, and the other slot still holds the state before. It
// is for the instants before Complete or Note, which supersede it.
func (e *Entry) Ended(end Ending) error {
	if err := checkEnding(end); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.lockFd < 0 {
		return ErrClosed
	}
	if !e.st.Provisional {
		return nil // Complete or Note said more already
	}
	return e.writeLock(applyEnding(e.st.clone(), end), noSync)
}

// Note records the complete run, as Complete does, in the entry's lock
// file with one pwrite and no fsync instead of a durable write of the
// record: it survives the death of this process at once, and the next
// durable write (a sink marked Sending, a Done that leaves sinks) holds it
// too. It is for the send phase's start, where the textfile alone needs
// nothing else from the journal (it is idempotent by the entry's id).
// Like Complete it is allowed until a sink leaves Pending.
func (e *Entry) Note(inv record.Invocation) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.canRecord(inv, false); err != nil {
		return err
	}
	next := e.st.clone()
	next.Invocation, next.Provisional = inUTC(inv), false
	return e.writeLock(next, noSync)
}

// crcTable checks the lines of the format before the slots. It is built
// on first use, not at package initialisation, which runs before the
// installer's start (0.3 ms).
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
	line, ok := lineAt(fd, make([]byte, maxEnded), 0)
	if !ok {
		return "", nil, false
	}
	sum := func(d []byte) uint32 { return crc32.Checksum(d, crcTable()) }
	for _, p := range []string{endedPrefix, notePrefix} {
		if d, ok := checkedLine(line, p, sum); ok {
			return p, []byte(d), true
		}
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
