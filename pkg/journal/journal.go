package journal

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/install-metrics/install-metrics/internal/fsutil"
	"github.com/install-metrics/install-metrics/pkg/record"
)

// Version is the version of the record format. A record of a newer version
// is left alone for the install-metrics that wrote it; an older or unknown
// one is corrupt.
const Version = 1

// Journal bounds: beyond them TakeOver drops the oldest records it holds,
// with one warning. They match the spool's (pkg/push).
const (
	DefaultMaxEntries = 1000
	DefaultMaxBytes   = 10 << 20
	DefaultMaxAge     = 30 * 24 * time.Hour
)

const (
	maxRecord  = 1 << 20 // one record is about a kilobyte
	maxSinks   = 16
	maxStages  = 64
	maxCorrupt = 100
	// tempStaleness: a temporary file lives for microseconds; one this old
	// belongs to a process that died mid-write.
	tempStaleness = time.Hour
	// orphanStaleness: a lock file without a record is removed only when it
	// is this old, so a Begin between its lock and its first write is never
	// disturbed (it would retry, but need not).
	orphanStaleness = time.Minute
	idDigits        = 20
	idRandom        = 16
	idLen           = idDigits + 1 + idRandom
)

// Limits bound the journal; zero fields mean the defaults.
type Limits struct {
	MaxEntries int
	MaxBytes   int64
	MaxAge     time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxAge <= 0 {
		l.MaxAge = DefaultMaxAge
	}
	return l
}

// Config is what Open needs besides the directory. Every field is optional.
type Config struct {
	// Now is time.Now unless set.
	Now func() time.Time
	// ValidSink reports whether a sink string is a canonical sink URL
	// without credentials. It checks Begin's sinks and every record read.
	// Unset, a sink must parse as a URL with a scheme and no user
	// information, query or fragment. pkg/push passes its own parser.
	ValidSink func(string) bool
	// ValidInvocation checks the closed sets Open cannot know (command,
	// target, platform, modified assets); results and stage names are
	// always checked.
	ValidInvocation func(record.Invocation) error
	// Limits bound the records kept.
	Limits Limits
	// DeferBeginSync makes Begin return after the rename, with the fsyncs
	// of the record and the directory under way in the background: the
	// record survives the death of the process at once (SIGKILL, the CI
	// timeout), and a power loss once Entry.Synced returns. The next write
	// waits for them. Without it Begin returns when the record is durable.
	DeferBeginSync bool
	// BeginSyncDelay, when positive, makes Begin return after the rename
	// and fsync the record and the directory that long after, in the
	// background, unless the entry's next write or Close comes first (a
	// run that ended by then has a newer record to make durable, or none
	// to keep). The record survives the death of the process at once and
	// a power loss once the delay has passed; the installer's start and
	// its first file writes never wait behind the fsyncs (the cost of
	// DeferBeginSync), and a run shorter than the delay pays nothing.
	BeginSyncDelay time.Duration
	// Warn receives what TakeOver dropped or moved aside, one error per
	// kind of problem and call.
	Warn func(error)
}

// Journal is a directory of write-ahead records. It holds no state of its
// own: many processes may use one directory at once.
type Journal struct {
	dir string
	cfg Config
}

// Open returns the journal in dir (normally <state dir>/journal). It does
// not touch the file system: Begin creates the directory.
func Open(dir string, cfg Config) *Journal {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ValidSink == nil {
		cfg.ValidSink = plainURL
	}
	if cfg.Warn == nil {
		cfg.Warn = func(error) {}
	}
	cfg.Limits = cfg.Limits.withDefaults()
	return &Journal{dir: dir, cfg: cfg}
}

// Dir is the journal's directory.
func (j *Journal) Dir() string { return j.dir }

// plainURL is the default sink check: a URL with a scheme and nothing that
// could carry a credential.
func plainURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && u.User == nil && u.RawQuery == "" && u.Fragment == "" && !u.ForceQuery
}

// ErrNotDirectory says the journal's path exists and is not a directory
// (or is a symbolic link).
var ErrNotDirectory = errors.New("not a directory")

// ensureDir creates the directory 0700, or tightens an existing one. A
// symbolic link or a file in its place is refused.
func (j *Journal) ensureDir() error {
	fi, err := os.Lstat(j.dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(j.dir, 0o700); err != nil {
			return fmt.Errorf("creating journal %s: %w", j.dir, fsutil.Errno(err))
		}
		fi, err = os.Lstat(j.dir)
	}
	if err != nil {
		return fmt.Errorf("journal %s: %w", j.dir, fsutil.Errno(err))
	}
	if !fi.IsDir() {
		return fmt.Errorf("journal %s: %w (remove it, or choose another state directory)", j.dir, ErrNotDirectory)
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(j.dir, 0o700); err != nil {
			return fmt.Errorf("journal %s: %w", j.dir, fsutil.Errno(err))
		}
	}
	return nil
}

// newID is a time-ordered unique id: %020d Unix nanoseconds, a dash and 16
// random hex digits. The random part needs to be unique, not secret: it
// comes from the runtime's generator (seeded by the system at start), not
// crypto/rand, whose first read costs 0.1 ms in front of the installer's
// start.
func newID(t time.Time) string {
	var b [idRandom / 2]byte
	binary.LittleEndian.PutUint64(b[:], rand.Uint64()) //nolint:gosec // unique, not secret (see above)
	return fmt.Sprintf("%0*d-%s", idDigits, t.UnixNano(), hex.EncodeToString(b[:]))
}

// validID reports whether s has the shape of newID's ids (so it is safe as
// part of a file name).
func validID(s string) bool {
	if len(s) != idLen || s[idDigits] != '-' {
		return false
	}
	for i := range idDigits {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	for i := idDigits + 1; i < idLen; i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// idTime is the creation time an id holds.
func idTime(id string) time.Time {
	n, _ := strconv.ParseInt(id[:idDigits], 10, 64)
	return time.Unix(0, n)
}

func (j *Journal) recordPath(id string) string { return filepath.Join(j.dir, id+".json") }
func (j *Journal) lockPath(id string) string   { return filepath.Join(j.dir, id+".lock") }

// checkSinks refuses an empty, oversized or duplicated sink list, or a sink
// the validator does not accept.
func (j *Journal) checkSinks(sinks []string) error {
	if len(sinks) == 0 || len(sinks) > maxSinks {
		return fmt.Errorf("a journal record needs 1 to %d sinks, not %d", maxSinks, len(sinks))
	}
	for i, s := range sinks {
		if !j.cfg.ValidSink(s) {
			return fmt.Errorf("sink %d is not a canonical sink URL without credentials", i+1)
		}
		if slices.Contains(sinks[:i], s) {
			return fmt.Errorf("sink %d is listed twice", i+1)
		}
	}
	return nil
}

// Begin writes the provisional record of a run that is about to start and
// returns its entry, locked by this process until Close. The record says
// Result Interrupted and ExitCode -1 (unknown) until Complete, with every
// sink Pending. It is one fsynced write of the record and an fsync of the
// directory; nothing else waits on the disk. With Config.DeferBeginSync it
// returns before the fsyncs (see there).
func (j *Journal) Begin(inv record.Invocation, sinks []string) (*Entry, error) {
	return j.BeginIn(inv, sinks, "")
}

// BeginIn is Begin for a run whose asset directory is dir (absolute, or
// ""): the record keeps it for a later flush to find the pull secret.
func (j *Journal) BeginIn(inv record.Invocation, sinks []string, dir string) (*Entry, error) {
	if err := j.checkSinks(sinks); err != nil {
		return nil, err
	}
	if !validDir(dir) {
		return nil, fmt.Errorf("journal: asset directory %q is not an absolute clean path", dir)
	}
	inv.Result, inv.ExitCode = record.Interrupted, -1
	if err := j.checkInvocation(inv, true); err != nil {
		return nil, err
	}
	if err := j.ensureDir(); err != nil {
		return nil, err
	}
	now := j.cfg.Now()
	for range 3 {
		id := newID(now)
		fd, err := j.newLock(id, true)
		if errors.Is(err, errLost) {
			continue // a cleaner removed our fresh lock file: take another id
		}
		if err != nil {
			return nil, err
		}
		e := j.newEntry(id, fd)
		e.owner = true
		st := state{Version: Version, ID: id, Created: now.UTC(), Provisional: true, Invocation: inUTC(inv), Dir: dir}
		for _, s := range sinks {
			st.Sinks = append(st.Sinks, Sink{URL: s, Status: Pending})
		}
		mode := fullSync
		switch {
		case j.cfg.BeginSyncDelay > 0:
			mode = delayedSync
		case j.cfg.DeferBeginSync:
			mode = deferredSync
		}
		if err := e.writeLock(st, mode); err != nil {
			e.drop()
			return nil, err
		}
		return e, nil
	}
	return nil, fmt.Errorf("journal %s: could not create a lock file three times (another process keeps removing them)", j.dir)
}

// newEntry is id's entry, its lock file fd locked by this process.
func (j *Journal) newEntry(id string, fd int) *Entry {
	return &Entry{j: j, id: id, lockFd: fd, durable: -1, syncing: -1}
}

// errLost says a lock file we locked is no longer the one at its path.
var errLost = errors.New("lock file replaced")

// newLock makes id's lock file (it must not exist), locks it and checks
// that the locked inode is still the file at the path. The file is the
// journal's spare when there is one (reuseSpare), else a new one. fresh
// says the id is new (Begin): a lock still held after the retries is held
// by no owner of it (only a TakeOver looking for a state finds the file),
// so the file is removed for another id. Otherwise (a TakeOver making a
// lost lock file anew for a record) whoever still holds the lock after
// the retries may be a TakeOver that found the record and is sending it:
// the file is left to it. (The retries let a TakeOver that found no state
// in the new file go first: giving up at once left it as an orphan.)
func (j *Journal) newLock(id string, fresh bool) (int, error) {
	path := j.lockPath(id)
	fd, renamed := j.reuseSpare(path)
	if fd < 0 {
		var err error
		fd, err = unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if renamed && errors.Is(err, unix.EEXIST) {
			return -1, errLost // what the spare turned out to be stays at path
		}
		if err != nil {
			return -1, fmt.Errorf("creating journal lock %s: %w", path, err)
		}
	}
	// A TakeOver may lock the new file between its creation and our lock,
	// to look for a state in it: it finds none and lets go within
	// microseconds, so a few short retries, bounded, get it back.
	for attempt := 0; ; attempt++ {
		err := flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			_ = unix.Close(fd)
			return -1, fmt.Errorf("locking %s: %w", path, err)
		}
		if attempt == newLockRetries {
			if fresh {
				// Still held, not by an owner of this new id: ours to
				// remove before taking another id.
				_ = os.Remove(path)
			}
			_ = unix.Close(fd)
			return -1, errLost
		}
		time.Sleep(newLockRetryWait)
	}
	if !samePath(fd, path) {
		_ = unix.Close(fd)
		return -1, errLost
	}
	return fd, nil
}

// spareName is the lock file a finished run leaves for the next Begin.
// Creating a file in the journal and removing it cost 0.1-0.9 ms each on
// the machine of docs/benchmarks.md (allocating the inode and the slots'
// blocks, freeing them with the file system's discard): two renames and
// pwrites into blocks already allocated cost a fraction of that, and a
// Begin on a full disk that finds a spare still writes its record. There
// is one spare at most: a run ending while the spare is there replaces it
// (the replaced one is removed, as it would have been without spares).
// What the spare's slots hold is a finished run's last state under that
// run's id: readers take a slot only when its id is the file's name.
const spareName = "spare.lock"

func (j *Journal) sparePath() string { return filepath.Join(j.dir, spareName) }

// reuseSpare takes the spare, if there is one: it opens it, checks that
// it is a regular file with one link, and renames it to path (never over
// a file there: a TakeOver making a lost lock file anew must not replace
// one made meanwhile). It returns the open file, or -1 when there is no
// usable spare (renamed false) or when what it renamed to path is not the
// file it checked (another run swapped the spare in between) and is not
// one it can use either: that is removed, and renamed is true. A spare
// that is not a regular file is removed when it can be, never renamed: a
// directory that cannot be removed stays under the name TakeOver ignores.
func (j *Journal) reuseSpare(path string) (fd int, renamed bool) {
	spare := j.sparePath()
	fd, err := openLockFile(spare)
	switch {
	case errors.Is(err, unix.ENOENT):
		return -1, false
	case err != nil:
		_ = os.Remove(spare) // a link, a FIFO, a directory, a second link: not ours
		return -1, false
	}
	if fsutil.RenameNoReplace(spare, path) != nil {
		_ = unix.Close(fd) // taken by another Begin first
		return -1, false
	}
	if samePath(fd, path) {
		return fd, true
	}
	_ = unix.Close(fd)
	if fd, err = openLockFile(path); err == nil {
		return fd, true // a finished run's, put there as the spare in between
	}
	_ = os.Remove(path)
	return -1, true
}

// openLockFile opens path read-write if it is a regular file with one
// link, never following a link or blocking on a FIFO.
func openLockFile(path string) (int, error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Nlink != 1 {
		_ = unix.Close(fd)
		return -1, unix.EFTYPE
	}
	return fd, nil
}

// newLock's retries: at most 250 x 0.2 ms.
const (
	newLockRetries   = 250
	newLockRetryWait = 200 * time.Microsecond
)

// lockExisting opens id's lock file (creating it if a crash lost it) and
// locks it without waiting. It returns -1 and no error when another process
// holds it, or when the file was removed or replaced meanwhile. Something
// else in the lock file's place (a link, a FIFO, a directory) is not ours:
// it is removed (never its target) and the open retried once.
func (j *Journal) lockExisting(id string, create bool) (int, error) {
	path := j.lockPath(id)
	flags := unix.O_RDWR | unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_NONBLOCK
	if create {
		flags |= unix.O_CREAT
	}
	for attempt := 0; ; attempt++ {
		fd, err := unix.Open(path, flags, 0o600)
		if errors.Is(err, unix.ENOENT) {
			return -1, nil
		}
		var st unix.Stat_t
		if err == nil && (unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG) {
			_ = unix.Close(fd)
			err = unix.EFTYPE
		}
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EISDIR) || errors.Is(err, unix.EFTYPE) || errors.Is(err, unix.ENXIO) {
			if attempt > 0 {
				return -1, fmt.Errorf("journal lock %s is not a regular file; remove it", path)
			}
			if rerr := os.Remove(path); rerr != nil {
				return -1, fmt.Errorf("journal lock %s is not a regular file and cannot be removed: %w", path, fsutil.Errno(rerr))
			}
			continue
		}
		if err != nil {
			return -1, fmt.Errorf("opening journal lock %s: %w", path, err)
		}
		if err := flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
			_ = unix.Close(fd)
			if errors.Is(err, unix.EWOULDBLOCK) {
				return -1, nil
			}
			return -1, fmt.Errorf("locking %s: %w", path, err)
		}
		if !samePath(fd, path) {
			_ = unix.Close(fd)
			return -1, nil
		}
		return fd, nil
	}
}

// samePath reports whether fd is the file at path (not a removed or
// replaced one).
func samePath(fd int, path string) bool {
	var a, b unix.Stat_t
	if unix.Fstat(fd, &a) != nil || unix.Lstat(path, &b) != nil {
		return false
	}
	return a.Dev == b.Dev && a.Ino == b.Ino
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

// TakeOver locks and returns the entries whose lock is free: their owner
// died, or finished with sinks left. They are oldest first and stay locked
// by this process until their Close. It also enforces the limits on the
// records it holds, moves corrupt records aside, and removes stale
// temporary files and lock files without a record; it reports what it
// dropped through Config.Warn. A missing journal is empty.
//
// It never waits for a lock. When ctx ends it stops and returns what it
// took with ctx's error; the caller must Close those entries.
func (j *Journal) TakeOver(ctx context.Context) ([]*Entry, error) {
	fi, err := os.Lstat(j.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", j.dir, fsutil.Errno(err))
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("journal %s: %w (remove it, or choose another state directory)", j.dir, ErrNotDirectory)
	}
	des, err := os.ReadDir(j.dir)
	if err != nil {
		return nil, fmt.Errorf("reading journal %s: %w", j.dir, fsutil.Errno(err))
	}
	now := j.cfg.Now()
	var (
		records []string
		locks   = map[string]bool{}
		corrupt []fs.DirEntry
	)
	for _, de := range des {
		n := de.Name()
		switch id, ext, _ := strings.Cut(n, "."); {
		case strings.HasPrefix(n, ".tmp-"):
			if info, err := de.Info(); err == nil && now.Sub(info.ModTime()) > tempStaleness {
				_ = os.Remove(filepath.Join(j.dir, n))
			}
		case !validID(id):
		case ext == "json":
			records = append(records, id)
		case ext == "lock":
			locks[id] = true
		case ext == "corrupt":
			corrupt = append(corrupt, de)
		}
	}
	withRecord := map[string]bool{}
	for _, id := range records {
		delete(locks, id)
		withRecord[id] = true
	}
	// A lock file without a record holds its state in its slots (Begin,
	// Ended and Note write there): an entry too, unless it holds none.
	for id := range locks {
		records = append(records, id)
	}
	slices.Sort(records)
	t := &takeover{j: j, now: now}
	var taken []*Entry
	for _, id := range records {
		if ctx.Err() != nil {
			break
		}
		e, err := t.take(id, withRecord[id])
		if err != nil {
			t.problems = append(t.problems, err)
			continue
		}
		if e != nil {
			taken = append(taken, e)
		}
	}
	if ctx.Err() == nil {
		for _, id := range t.orphans {
			j.removeOrphanLock(id, now)
		}
		j.pruneCorrupt(corrupt, now)
	}
	taken = t.enforceLimits(taken, len(records)-t.removed-len(t.orphans))
	t.report()
	if err := ctx.Err(); err != nil {
		return taken, fmt.Errorf("taking over journal records: %w", err)
	}
	return taken, nil
}

// takeover collects what one TakeOver call found, to warn once per kind.
type takeover struct {
	j        *Journal
	now      time.Time
	corrupt  []string // reasons, one per record moved aside
	newer    int
	problems []error
	expired  int
	overflow int
	removed  int // records gone, moved aside or finished: not counted against the limits
	sizes    map[*Entry]int64
	orphans  []string // lock files without a record or a state
}

// take locks one record and reads it. It returns nil and no error when the
// record is owned by a live process, gone, corrupt (moved aside), of a
// newer version (left alone) or finished (removed).
func (t *takeover) take(id string, withRecord bool) (*Entry, error) {
	j := t.j
	fd, err := j.lockExisting(id, false)
	if err == nil && fd < 0 && withRecord {
		// A record whose lock file a crash lost gets a new one, made and
		// locked as Begin makes its own (never an empty lock file left
		// for another TakeOver to find); a record removed meanwhile is
		// simply gone.
		if _, rerr := os.Lstat(j.recordPath(id)); rerr == nil {
			if fd, err = j.newLock(id, false); errors.Is(err, errLost) || errors.Is(err, fs.ErrExist) {
				fd, err = -1, nil // held, or made meanwhile by another TakeOver
			}
		}
	}
	if err != nil || fd < 0 {
		return nil, err
	}
	e := j.newEntry(id, fd)
	e.hasRecord = withRecord
	slot, slotLen, k, inSlot, newer := j.readSlots(fd, id)
	st, size, err := j.read(id)
	var ce *corruptError
	switch {
	case errors.Is(err, fs.ErrNotExist) && inSlot:
		st, size = slot, slotLen // the state is in the lock file alone
	case errors.Is(err, fs.ErrNotExist) && newer:
		t.newer++
		e.release()
		return nil, nil
	case errors.Is(err, fs.ErrNotExist) && withRecord:
		t.removed++
		e.drop() // closed by its owner meanwhile (the lock file may be one we just made)
		return nil, nil
	case errors.Is(err, fs.ErrNotExist):
		// A lock file with no valid state: its owner died during Begin's
		// write, or it is not ours. An orphan, removed once old enough.
		e.release()
		t.orphans = append(t.orphans, id)
		return nil, nil
	case errors.Is(err, errUnwritten):
		t.removed++
		_ = os.Remove(j.recordPath(id))
		e.drop()
		return nil, nil
	case errors.As(err, &ce) && ce.newer:
		t.newer++
		e.release()
		return nil, nil
	case errors.As(err, &ce):
		t.corrupt = append(t.corrupt, ce.reason)
		if rerr := os.Rename(j.recordPath(id), filepath.Join(j.dir, id+".corrupt")); rerr != nil {
			e.release()
			return nil, fmt.Errorf("moving corrupt journal record %s aside: %w", j.recordPath(id), fsutil.Errno(rerr))
		}
		t.removed++
		e.drop()
		return nil, nil
	case err != nil:
		e.release()
		return nil, err
	}
	switch {
	case inSlot:
		st = newest(st, slot)
		// Whether or not it was fsynced, the slot's state is the one a
		// crash would bring back: a write of ours (the tombstone) goes to
		// the other slot, so a torn one never leaves an older state.
		e.slotSeq[k], e.durable = slot.Seq, k
	case st.Provisional:
		// A lock file of the format before the slots: what Ended or
		// Note wrote in it says how the run ended.
		st = j.noted(st, fd)
	}
	e.st = st
	if len(e.left()) == 0 {
		t.removed++
		return nil, e.Close()
	}
	if t.sizes == nil {
		t.sizes = map[*Entry]int64{}
	}
	t.sizes[e] = size
	return e, nil
}

// enforceLimits drops the taken records older than MaxAge, then the oldest
// taken ones while the journal holds more than MaxEntries records or
// MaxBytes. Records other processes hold are counted, never touched.
func (t *takeover) enforceLimits(taken []*Entry, records int) []*Entry {
	lim := t.j.cfg.Limits
	var size int64
	for _, e := range taken {
		size += t.sizes[e]
	}
	kept := taken[:0]
	for _, e := range taken {
		old := t.now.Sub(e.st.Created) > lim.MaxAge
		full := records > lim.MaxEntries || size > lim.MaxBytes
		if !old && !full {
			kept = append(kept, e)
			continue
		}
		if e.discard() != nil {
			kept = append(kept, e)
			continue
		}
		records--
		size -= t.sizes[e]
		if old {
			t.expired++
		} else {
			t.overflow++
		}
	}
	return kept
}

// report sends one warning per kind of problem.
func (t *takeover) report() {
	warn, lim := t.j.cfg.Warn, t.j.cfg.Limits
	if n := len(t.corrupt); n > 0 {
		warn(fmt.Errorf("journal %s: moved %d corrupt records aside, never to be sent (first: %s)", t.j.dir, n, t.corrupt[0]))
	}
	if t.newer > 0 {
		warn(fmt.Errorf("journal %s: left %d records of a newer install-metrics for it to send", t.j.dir, t.newer))
	}
	if t.expired > 0 {
		warn(fmt.Errorf("journal %s: dropped %d unsent records older than %v", t.j.dir, t.expired, lim.MaxAge))
	}
	if t.overflow > 0 {
		warn(fmt.Errorf("journal %s full (at most %d records, %d KiB): dropped the %d oldest unsent", t.j.dir, lim.MaxEntries, lim.MaxBytes>>10, t.overflow))
	}
	for _, err := range t.problems {
		warn(err)
	}
}

// removeOrphanLock removes an old lock file whose record is gone (its owner
// died between the two, or after removing the record), holding the lock
// while it checks.
func (j *Journal) removeOrphanLock(id string, now time.Time) {
	if now.Sub(idTime(id)) < orphanStaleness {
		return
	}
	fd, err := j.lockExisting(id, false)
	if err != nil || fd < 0 {
		return
	}
	defer unix.Close(fd)
	if _, err := os.Lstat(j.recordPath(id)); errors.Is(err, fs.ErrNotExist) {
		_ = os.Remove(j.lockPath(id))
	}
}

// pruneCorrupt keeps at most maxCorrupt corrupt records, none older than
// MaxAge.
func (j *Journal) pruneCorrupt(corrupt []fs.DirEntry, now time.Time) {
	for i, de := range corrupt {
		id, _, _ := strings.Cut(de.Name(), ".")
		if len(corrupt)-i > maxCorrupt || now.Sub(idTime(id)) > j.cfg.Limits.MaxAge {
			_ = os.Remove(filepath.Join(j.dir, de.Name()))
		}
	}
}
