package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/install-metrics/install-metrics/internal/fsutil"
)

// The lock file holds the entry's state until a write must be durable on
// its own (a sink marked Sending before its request, a Done that leaves
// sinks to send): two slots, at offset 0 and slotSize, each one line
// "state <CRC-32 (IEEE) of the JSON, 8 hex digits> <JSON of the state>\n"
// (not CRC-32C: its table costs 0.3 ms to build, and Begin writes a slot
// in front of the installer's start). A
// write goes to the slot that does not hold the last fsynced state, so a
// write torn by a power loss leaves that one; a reader takes the valid
// state with the highest write count, from either slot or the record file.
// Begin, Ended and Note are such writes: a textfile-only run creates one
// file in the journal, not two (each creation cost 0.1-0.9 ms here,
// docs/benchmarks.md), and removes one.
const (
	slotSize    = 64 << 10
	statePrefix = "state "
)

// writeLock writes next (its Seq set here) into a slot of the lock file,
// with the fsyncs of mode (file and directory: the lock file may be new).
// e.mu is held.
func (e *Entry) writeLock(next state, mode syncMode) error {
	if e.lockFd < 0 {
		return ErrClosed
	}
	next, data, err := e.encode(next)
	if err != nil {
		return err
	}
	line := fmt.Sprintf("%s%08x %s\n", statePrefix, crc32.ChecksumIEEE(data), data)
	if len(line) > slotSize {
		return fmt.Errorf("journal record %s: %d bytes, more than %d", next.ID, len(line), slotSize)
	}
	k := 0
	switch {
	case e.durable >= 0:
		k = 1 - e.durable
	case e.slotSeq[0] > e.slotSeq[1]:
		k = 1
	}
	path := e.j.lockPath(e.id)
	if _, err := unix.Pwrite(e.lockFd, []byte(line), int64(k*slotSize)); err != nil {
		return fmt.Errorf("writing journal record %s: %w", path, err)
	}
	e.st, e.slotSeq[k] = next, next.Seq
	fd, dir := e.lockFd, e.j.dir
	sync := func() error {
		if err := unix.Fsync(fd); err != nil {
			return fmt.Errorf("writing journal record %s: %w", path, err)
		}
		if err := fsutil.SyncDir(dir); err != nil {
			return fmt.Errorf("syncing journal %s: %w", dir, fsutil.Errno(err))
		}
		return nil
	}
	switch mode {
	case fullSync:
		if err := sync(); err != nil {
			return err
		}
		e.durable = k
		return nil
	case noSync:
		return nil
	}
	done := make(chan error, 1)
	e.synced, e.syncing = done, k
	if mode == delayedSync {
		e.delayed = &delayedFsync{timer: time.AfterFunc(e.j.cfg.BeginSyncDelay, func() { done <- sync() }), sync: sync}
		return nil
	}
	go func() { done <- sync() }()
	return nil
}

// readSlots returns the valid state with the highest write count among
// the lock file's slots (its id is id, it checks, it is of this version)
// and the slot it is in. newer reports a slot of a newer version (left for
// that binary).
func (j *Journal) readSlots(fd int, id string) (st state, size int64, slot int, ok, newer bool) {
	buf := make([]byte, slotSize)
	for k := range 2 {
		line, found := lineAt(fd, buf, int64(k*slotSize))
		data, valid := checkedLine(line, statePrefix, crc32.ChecksumIEEE)
		if !found || !valid {
			continue // empty, torn, or not ours
		}
		var head struct {
			Version int `json:"version"`
		}
		if json.Unmarshal([]byte(data), &head) != nil {
			continue
		}
		if head.Version > Version {
			newer = true
			continue
		}
		var s state
		if head.Version != Version || json.Unmarshal([]byte(data), &s) != nil || s.ID != id || j.check(s) != "" {
			continue
		}
		if !ok || s.Seq > st.Seq {
			st, size, slot, ok = s, int64(len(data)), k, true
		}
	}
	return st, size, slot, ok, newer
}

// lineAt returns the line at offset off of fd (read into buf, at most its
// length), without its newline; false when there is no whole line.
func lineAt(fd int, buf []byte, off int64) (string, bool) {
	n, err := unix.Pread(fd, buf, off)
	if err != nil || n <= 0 {
		return "", false
	}
	line, _, ok := strings.Cut(string(buf[:n]), "\n")
	return line, ok
}

// checkedLine returns the data of line "<prefix><checksum, 8 hex digits>
// <data>" when the checksum is sum(data).
func checkedLine(line, prefix string, sum func([]byte) uint32) (string, bool) {
	rest, ok := strings.CutPrefix(line, prefix)
	if !ok {
		return "", false
	}
	hexSum, data, ok := strings.Cut(rest, " ")
	want, err := strconv.ParseUint(hexSum, 16, 32)
	if !ok || err != nil || len(hexSum) != 8 || uint32(want) != sum([]byte(data)) {
		return "", false
	}
	return data, true
}

// Peek returns the state of every entry in the journal as a TakeOver
// would read it (the record file's, or its lock file's newer slot),
// oldest first, without locking or changing anything: for tests and
// diagnostics. Entries with no readable state are left out.
func (j *Journal) Peek() ([]State, error) {
	des, err := os.ReadDir(j.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading journal %s: %w", j.dir, fsutil.Errno(err))
	}
	var ids []string
	for _, de := range des {
		id, ext, _ := strings.Cut(de.Name(), ".")
		if validID(id) && (ext == "json" || ext == "lock") && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	var out []State
	for _, id := range ids {
		st, rerr := j.peek(id)
		if rerr == nil {
			out = append(out, State{ID: st.ID, Created: st.Created, Provisional: st.Provisional, Invocation: st.Invocation, Sinks: st.Sinks, Dir: st.Dir})
		}
	}
	return out, nil
}

func (j *Journal) peek(id string) (state, error) {
	var slot state
	inSlot := false
	if f, err := os.OpenFile(j.lockPath(id), os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0); err == nil {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			slot, _, _, inSlot, _ = j.readSlots(int(f.Fd()), id)
		}
		_ = f.Close()
	}
	st, _, err := j.read(id)
	switch {
	case err != nil && inSlot:
		return slot, nil
	case inSlot:
		return newest(st, slot), nil
	}
	return st, err
}

// newest is the record's state or the lock file's slot, whichever was
// written last (a slot after the record: Ended, Note, a tombstone).
func newest(record, slot state) state {
	if slot.Seq > record.Seq {
		return slot
	}
	return record
}
