package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/install-metrics/install-metrics/internal/fsutil"
	"github.com/install-metrics/install-metrics/pkg/record"
)

// Status is the state of one sink of an entry.
type Status string

// The sink states.
const (
	// Pending: not yet tried, or provably not delivered. Send it.
	Pending Status = "pending"
	// Sending: the request may have been written. Never resend it, except
	// to a sink that is idempotent by the entry's id (the textfile).
	Sending Status = "sending"
	// Done: the sink took the samples, rejected them, or may have them.
	Done Status = "done"
)

// Valid reports whether s is one of the three states.
func (s Status) Valid() bool { return s == Pending || s == Sending || s == Done }

// Sink is one sink of an entry and its state.
type Sink struct {
	// URL is the canonical sink URL, never with a credential.
	URL    string `json:"url"`
	Status Status `json:"status"`
}

// State is what an entry records.
type State struct {
	// ID is the entry's id, also the idempotency key for sinks.
	ID      string
	Created time.Time
	// Provisional is true until Complete: the installer's end was never
	// recorded (Result Interrupted, ExitCode -1).
	Provisional bool
	Invocation  record.Invocation
	Sinks       []Sink
	// Dir is the run's asset directory (absolute; "" when unknown): where
	// a later flush re-reads the pull secret for --metrics-auth
	// pull-secret. Never a label, never a secret.
	Dir string
}

// Status returns sink's state, or "" when the entry has no such sink.
func (s State) Status(sink string) Status {
	for _, k := range s.Sinks {
		if k.URL == sink {
			return k.Status
		}
	}
	return ""
}

func (st state) clone() state {
	st.Sinks = slices.Clone(st.Sinks)
	st.Invocation.Stages = slices.Clone(st.Invocation.Stages)
	st.Invocation.Modified = slices.Clone(st.Invocation.Modified)
	return st
}

// Entry is one record, locked by this process until Close. Its methods are
// safe for concurrent use; each change is durable when it returns.
type Entry struct {
	j      *Journal
	id     string
	mu     sync.Mutex
	st     state
	lockFd int // -1 once closed
	// synced delivers the result of a deferred sync (DeferBeginSync,
	// BeginSyncDelay).
	synced chan error
	// delayed is a sync waiting for Config.BeginSyncDelay.
	delayed *delayedFsync
	// slotSeq is the write count of the state in each slot of the lock
	// file (0: none of this entry's); durable is the slot whose state was
	// fsynced last (-1: none), which no unsynced write overwrites, and
	// syncing the slot a pending sync makes durable.
	slotSeq          [2]int64
	durable, syncing int
	// hasRecord: the record file may exist (this entry wrote it, or it
	// was there when taken over).
	hasRecord bool
	// owner: Begin made the entry (its lock file has only slots of this
	// format), so drop leaves the file as the spare.
	owner bool
}

// delayedFsync is Begin's fsyncs, due after Config.BeginSyncDelay.
type delayedFsync struct {
	timer *time.Timer
	sync  func() error
}

// ID is the entry's id.
func (e *Entry) ID() string { return e.id }

// State returns a copy of what the entry records.
func (e *Entry) State() State {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.st.clone()
	return State{ID: st.ID, Created: st.Created, Provisional: st.Provisional, Invocation: st.Invocation, Sinks: st.Sinks, Dir: st.Dir}
}

// ErrClosed is returned by the methods of a closed entry.
var ErrClosed = errors.New("journal entry is closed")

// ErrTransition is returned for a change a sink's state does not allow
// (marking a Done sink Sending or Pending, completing a record that is
// being sent).
var ErrTransition = errors.New("not allowed in this state")

// Progress replaces the provisional record's invocation (stages seen so
// far, the version) while the run goes on. It stays provisional: Result
// Interrupted, ExitCode -1. It is one pwrite into a slot of the lock file
// and its fsyncs.
func (e *Entry) Progress(inv record.Invocation) error {
	inv.Result, inv.ExitCode = record.Interrupted, -1
	return e.setInvocation(inv, true)
}

// Complete records how the run ended. It is allowed until a sink leaves
// Pending: what is sent is what is recorded.
func (e *Entry) Complete(inv record.Invocation) error {
	return e.setInvocation(inv, false)
}

func (e *Entry) setInvocation(inv record.Invocation, provisional bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.canRecord(inv, provisional); err != nil {
		return err
	}
	if provisional && !e.st.Provisional {
		return fmt.Errorf("recording progress in journal entry %s: %w: the run is complete", e.st.ID, ErrTransition)
	}
	next := e.st.clone()
	next.Invocation, next.Provisional = inUTC(inv), provisional
	if provisional {
		// Progress, at each stage of a run: durable in a slot of the lock
		// file, with no record file made and removed for it.
		return e.writeLock(next, fullSync)
	}
	return e.write(next)
}

// canRecord says whether inv may replace the entry's invocation: the entry
// is open, inv keeps to the closed sets, and every sink is still Pending
// (what is sent is what is recorded). e.mu is held.
func (e *Entry) canRecord(inv record.Invocation, provisional bool) error {
	if e.lockFd < 0 {
		return ErrClosed
	}
	if err := e.j.checkInvocation(inv, provisional); err != nil {
		return err
	}
	for _, k := range e.st.Sinks {
		if k.Status != Pending {
			return fmt.Errorf("recording the run in journal entry %s: %w: sink %s is %s", e.st.ID, ErrTransition, k.URL, k.Status)
		}
	}
	return nil
}

// Sending marks sinks as about to be sent to: call it, and let it return,
// before the first byte of the request goes out. Several sinks are marked
// in one write. A Done sink cannot go back to Sending.
func (e *Entry) Sending(sinks ...string) error {
	return e.mark(Sending, sinks, func(from Status) bool { return from != Done })
}

// Done marks sinks as finished: they took the samples, rejected them, or
// may have them.
func (e *Entry) Done(sinks ...string) error {
	return e.mark(Done, sinks, func(Status) bool { return true })
}

// Pending puts sinks back to Pending: the request provably did not arrive
// (refused connection, a 503 before the body was read...), so a later
// TakeOver sends it. A Done sink cannot go back.
func (e *Entry) Pending(sinks ...string) error {
	return e.mark(Pending, sinks, func(from Status) bool { return from != Done })
}

func (e *Entry) mark(to Status, sinks []string, allowed func(Status) bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.lockFd < 0 {
		return ErrClosed
	}
	next := e.st.clone()
	changed := false
	for _, s := range sinks {
		i := slices.IndexFunc(next.Sinks, func(k Sink) bool { return k.URL == s })
		if i < 0 {
			return fmt.Errorf("marking journal entry %s %s: it has no such sink", e.st.ID, to)
		}
		from := next.Sinks[i].Status
		if from == to {
			continue
		}
		if !allowed(from) {
			return fmt.Errorf("marking sink %s of journal entry %s %s: %w (it is %s)", s, e.st.ID, to, ErrTransition, from)
		}
		next.Sinks[i].Status = to
		changed = true
	}
	if !changed {
		return nil
	}
	return e.write(next)
}

// left lists the sinks not Done.
func (e *Entry) left() []string {
	var out []string
	for _, k := range e.st.Sinks {
		if k.Status != Done {
			out = append(out, k.URL)
		}
	}
	return out
}

// Close ends this process's hold on the entry. When every sink is Done the
// record and its lock file are removed; otherwise the record stays (it is
// now the spooled copy for a later TakeOver) and the lock is released.
func (e *Entry) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.lockFd < 0 {
		return nil
	}
	if len(e.left()) > 0 {
		e.release()
		return nil
	}
	return e.discard()
}

// discard removes the record and its lock file, then releases the lock.
// A tombstone goes first, a state with every sink Done in a slot of the
// lock file: a kill before the lock file is gone leaves an entry TakeOver
// removes, never an earlier state of the lock file's slots (a Note with
// every sink Pending, where the record said Sending) to send again.
func (e *Entry) discard() error {
	if !e.hasRecord {
		e.drop() // one removal: no state in between to come back
		return nil
	}
	tomb := e.st.clone()
	for i := range tomb.Sinks {
		tomb.Sinks[i].Status = Done
	}
	if e.writeLock(tomb, noSync) != nil {
		// A failed one leaves what a crash would; the lock file, which
		// may then hold a state with sinks to send, is never the spare.
		e.owner = false
	}
	if err := os.Remove(e.j.recordPath(e.id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		e.release()
		return fmt.Errorf("removing journal record %s: %w", e.j.recordPath(e.id), fsutil.Errno(err))
	}
	e.drop()
	return nil
}

// drop removes the lock file (we hold it, so no one else can be using it)
// and releases the lock. The lock file of an entry Begin made becomes the
// journal's spare instead, for the next Begin (newLock): its slots hold
// this id's last states, or an older id's (of the run that used the spare
// before), never a state a reader would take for another entry. One taken
// over may be of the format before the slots, whose lines carry no id: it
// is removed.
func (e *Entry) drop() {
	_ = e.waitSync(true) // the record is gone: nothing to make durable
	path := e.j.lockPath(e.id)
	if !e.owner || unix.Rename(path, e.j.sparePath()) != nil {
		_ = os.Remove(path)
	}
	e.release()
}

// release closes the lock file, which releases the flock.
func (e *Entry) release() {
	_ = e.waitSync(false)
	if e.lockFd >= 0 {
		_ = unix.Close(e.lockFd)
		e.lockFd = -1
	}
}

// syncMode says when a write's fsyncs run.
type syncMode int

const (
	fullSync     syncMode = iota // before the write returns
	deferredSync                 // in the background; the next write waits
	delayedSync                  // in the background after Config.BeginSyncDelay, unless the next write comes first
	noSync                       // none: the next fsynced write, or a power loss, decides (Ended, Note)
)

// encode numbers next as the entry's next write, once the sync of the one
// before is done (the order of durable states is the order of writes).
func (e *Entry) encode(next state) (state, []byte, error) {
	if err := e.waitSync(true); err != nil {
		return next, nil, err
	}
	next.Seq = e.st.Seq + 1
	data, err := marshal(next)
	if err != nil {
		return next, nil, fmt.Errorf("encoding journal record %s: %w", next.ID, err)
	}
	return next, data, nil
}

// write replaces the record with next atomically and durably: a temporary
// file, fsync, rename, fsync of the directory. The entry takes next when
// the rename happened (even if the directory's fsync then failed: the file
// on disk is next). A write first waits for a deferred sync of the one
// before, so the order of durable states is the order of writes.
func (e *Entry) write(next state) error {
	next, data, err := e.encode(next)
	if err != nil {
		return err
	}
	dir := e.j.dir
	path := e.j.recordPath(next.ID)
	tmp, err := os.CreateTemp(dir, ".tmp-"+next.ID+"-*")
	if err != nil {
		return fmt.Errorf("writing journal record %s: %w", path, fsutil.Errno(err))
	}
	_, werr := tmp.Write(data)
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("writing journal record %s: %w", path, fsutil.Errno(werr))
	}
	e.st, e.hasRecord = next, true
	if err := fsutil.SyncDir(dir); err != nil {
		return fmt.Errorf("syncing journal %s: %w", dir, fsutil.Errno(err))
	}
	return nil
}

// waitSync waits for a deferred sync and returns its error once. A
// delayed sync not yet due is dropped when supersede is true (a newer
// record, or none, replaces the one it was for), else run now.
func (e *Entry) waitSync(supersede bool) error {
	if e.synced == nil {
		return nil
	}
	if d := e.delayed; d != nil {
		e.delayed = nil
		if d.timer.Stop() {
			e.synced = nil
			if supersede {
				return nil
			}
			return e.synced1(d.sync())
		}
	}
	err := <-e.synced
	e.synced = nil
	return e.synced1(err)
}

// synced1 notes that the slot a background sync was for is durable.
func (e *Entry) synced1(err error) error {
	if err == nil && e.syncing >= 0 {
		e.durable = e.syncing
	}
	e.syncing = -1
	return err
}

// Synced makes sure the record Begin wrote is durable (with
// Config.DeferBeginSync it waits for the fsyncs; with BeginSyncDelay it
// runs them now if they are not due yet) and says whether it is.
func (e *Entry) Synced() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.waitSync(false)
}

// errUnwritten is an empty record: Begin created it and died before its
// one write, so the installer never started (Begin returns first), and
// there is no run to send.
var errUnwritten = errors.New("journal record never written")

// corruptError says why a record cannot be used.
type corruptError struct {
	path   string
	reason string
	newer  bool // a newer version: not corrupt, not ours
}

func (e *corruptError) Error() string {
	return fmt.Sprintf("journal record %s: %s", e.path, e.reason)
}

// read loads and validates id's record and returns its size. A missing
// record is fs.ErrNotExist; anything unusable is a *corruptError.
func (j *Journal) read(id string) (state, int64, error) {
	path := j.recordPath(id)
	bad := func(reason string) (state, int64, error) {
		return state{}, 0, &corruptError{path: filepath.Base(path), reason: reason}
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	switch {
	case errors.Is(err, unix.ENOENT):
		return state{}, 0, os.ErrNotExist
	case errors.Is(err, unix.ELOOP):
		return bad("a symbolic link")
	case err != nil:
		return state{}, 0, fmt.Errorf("reading journal record %s: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return state{}, 0, fmt.Errorf("reading journal record %s: %w", path, fsutil.Errno(err))
	}
	if !fi.Mode().IsRegular() {
		return bad("not a regular file")
	}
	if fi.Size() > maxRecord {
		return bad(fmt.Sprintf("%d bytes, more than %d", fi.Size(), maxRecord))
	}
	if fi.Size() == 0 {
		return state{}, 0, errUnwritten
	}
	data, err := io.ReadAll(io.LimitReader(f, maxRecord+1))
	if err != nil {
		return state{}, 0, fmt.Errorf("reading journal record %s: %w", path, fsutil.Errno(err))
	}
	if len(data) > maxRecord {
		return bad("grew past the size limit while read")
	}
	var head struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return bad("not JSON (truncated or garbage)")
	}
	if head.Version > Version {
		return state{}, 0, &corruptError{path: filepath.Base(path), reason: fmt.Sprintf("version %d", head.Version), newer: true}
	}
	if head.Version != Version {
		return bad(fmt.Sprintf("unknown version %d", head.Version))
	}
	var st state
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&st); err != nil {
		return bad("fields of the wrong type")
	}
	if st.ID != id {
		return bad("its id is not its file name")
	}
	if reason := j.check(st); reason != "" {
		return bad(reason)
	}
	return st, int64(len(data)), nil
}

// check validates a record's content; "" when it is usable.
func (j *Journal) check(st state) string {
	if st.Created.IsZero() || st.Seq < 1 {
		return "no creation time or write count"
	}
	if err := j.checkInvocation(st.Invocation, st.Provisional); err != nil {
		return err.Error()
	}
	if len(st.Sinks) == 0 || len(st.Sinks) > maxSinks {
		return fmt.Sprintf("%d sinks", len(st.Sinks))
	}
	if !validDir(st.Dir) {
		return "an asset directory that is not an absolute path"
	}
	for i, k := range st.Sinks {
		if !j.cfg.ValidSink(k.URL) || slices.ContainsFunc(st.Sinks[:i], func(o Sink) bool { return o.URL == k.URL }) {
			return fmt.Sprintf("sink %d is not a valid sink URL, or listed twice", i+1)
		}
		if !k.Status.Valid() {
			return fmt.Sprintf("sink %d has an unknown state", i+1)
		}
	}
	return ""
}

// checkInvocation checks the closed sets a record must keep to.
func (j *Journal) checkInvocation(inv record.Invocation, provisional bool) error {
	if !inv.Result.Valid() {
		return errors.New("invocation: result outside the closed set")
	}
	if provisional && (inv.Result != record.Interrupted || inv.ExitCode != -1) {
		return errors.New("invocation: a provisional record must say Interrupted and exit code -1")
	}
	if !provisional && (inv.ExitCode < 0 || inv.ExitCode > 255) {
		return fmt.Errorf("invocation: exit code %d outside 0..255", inv.ExitCode)
	}
	if len(inv.Stages) > maxStages {
		return fmt.Errorf("invocation: %d stages", len(inv.Stages))
	}
	for _, s := range inv.Stages {
		if !s.Name.Valid() {
			return errors.New("invocation: a stage outside the closed set")
		}
	}
	if inv.Wall < 0 {
		return errors.New("invocation: negative wall time")
	}
	if j.cfg.ValidInvocation != nil {
		if err := j.cfg.ValidInvocation(inv); err != nil {
			return fmt.Errorf("invocation: %w", err)
		}
	}
	return nil
}

// Settle marks sinks Done at the end of a send phase. When that leaves no
// sink to send, the record and its lock file are removed at once, with no
// write and no fsync, and the entry is closed: should a power loss bring
// the last record back, its sinks are Sending, which is never resent
// (except to the textfile, which skips an id it holds). Otherwise it is
// Done.
func (e *Entry) Settle(sinks ...string) error {
	e.mu.Lock()
	if e.lockFd < 0 {
		e.mu.Unlock()
		return ErrClosed
	}
	all := true
	for _, k := range e.st.Sinks {
		if k.Status != Done && !slices.Contains(sinks, k.URL) {
			all = false
		}
	}
	if all {
		defer e.mu.Unlock()
		return e.discard()
	}
	e.mu.Unlock()
	return e.Done(sinks...)
}

// validDir accepts "" or an absolute, clean path of at most 4096 bytes
// without NUL or newline.
func validDir(d string) bool {
	return d == "" || (len(d) <= 4096 && filepath.IsAbs(d) && filepath.Clean(d) == d && !strings.ContainsAny(d, "\x00\n"))
}
