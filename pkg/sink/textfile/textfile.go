package textfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"golang.org/x/sys/unix"

	"github.com/install-metrics/install-metrics/internal/fsutil"
	"github.com/install-metrics/install-metrics/pkg/metrics"
	"github.com/install-metrics/install-metrics/pkg/sink"
)

// maxTextfile is the largest textfile read back; a larger one is treated as
// corrupt (ours stays far smaller: one line per distinct label set).
const maxTextfile = 64 << 20

// Textfile keeps counters and histograms summed across invocations in
// Prometheus text files, as node_exporter's textfile collector reads them:
// the counters in the textfile itself, the histograms in one shard per
// version beside it (ShardPath). Concurrent invocations are serialised by
// an flock on PATH.lock, which covers the textfile and all its shards; each
// file is replaced by an fsynced temporary file and an atomic rename, so a
// reader sees the old or the new file and no update is lost.
type Textfile struct {
	path string
	now  func() time.Time
	// note receives a warning that does not make the write fail (a corrupt
	// file moved aside).
	note func(error)
	// CreateTemp is os.CreateTemp; tests replace it to simulate a full or
	// read-only file system.
	CreateTemp func(dir, pattern string) (TempFile, error)
	// rename is os.Rename; tests replace it to stop an update between the
	// renames of its files, as a kill would.
	rename func(oldpath, newpath string) error
	// ShardAt is the size of PATH from which its histograms live in shards
	// (DefaultShardAt when 0; -1: always). Below it, while no shard exists,
	// PATH holds everything: one file, one fsync per run.
	ShardAt int
}

// DefaultShardAt is where PATH stops holding its histograms: 256 KiB,
// about a dozen versions on a dozen platforms. A run then writes one file
// (one fsync: the shards' second file and fsync cost every run 1.7 ms on
// the benchmark VM); beyond it, where rewriting the whole file costs more
// than a second file, the histograms move to their shards once and stay
// there.
const DefaultShardAt = 256 << 10

// single says whether this update keeps everything in PATH: PATH is
// smaller than ShardAt and has no shard yet.
func (t *Textfile) single(data []byte) bool {
	at := t.ShardAt
	if at == 0 {
		at = DefaultShardAt
	}
	if at < 0 || len(data) >= at {
		return false
	}
	shards, err := shardFiles(t.path)
	return err == nil && len(shards) == 0
}

// TempFile is the part of *os.File the textfile writer uses.
type TempFile interface {
	io.Writer
	Name() string
	Chmod(mode os.FileMode) error
	Sync() error
	Close() error
}

// New returns the sink for the textfile at path; now is the clock (for the
// name of a corrupt file moved aside) and note, when set, receives warnings
// that do not make a write fail.
func New(path string, now func() time.Time, note func(error)) *Textfile {
	if now == nil {
		now = time.Now
	}
	return &Textfile{path: path, now: now, note: note, rename: os.Rename,
		CreateTemp: func(dir, pattern string) (TempFile, error) { return os.CreateTemp(dir, pattern) }}
}

// Send implements sink.Sink: it adds the batch's counters to the series in
// the textfile and its histogram observations to those in the shard of
// their version. A textfile written before the shards has its histograms
// moved into them on the way.
func (t *Textfile) Send(ctx context.Context, b sink.Batch) error {
	mfs, err := metrics.Gather(b.Samples)
	if err != nil {
		return err
	}
	counters, histograms, err := splitFamilies(mfs, false)
	if err != nil {
		return fmt.Errorf("textfile %s: %w", t.path, err)
	}
	if err := CheckPath(t.path); err != nil {
		return sink.NotDelivered(err)
	}
	dir := filepath.Dir(t.path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return sink.NotDelivered(fmt.Errorf("creating the textfile's directory: %w", sink.CleanPathErr(err)))
	}
	unlock, err := lockFile(ctx, t.path+".lock")
	if err != nil {
		return sink.NotDelivered(err)
	}
	defer unlock()
	if err := CheckPath(t.path); err != nil {
		return sink.NotDelivered(err)
	}
	// The ids of the batches a file already holds: a batch sent again (a
	// journal record taken over after a kill between a rename and the
	// journal's Done) is not added twice to any file.
	id := ""
	if validID(b.ID) {
		id = b.ID
	}
	data, err := readExisting(t.path)
	if err != nil {
		return sink.NotDelivered(err)
	}
	main := &change{path: t.path, data: data, add: counters}
	changes := []*change{main}
	if t.single(data) {
		main.add, histograms = mfs, nil
	}
	var moved map[string][]*dto.MetricFamily
	var absorbed []byte
	if histograms != nil && hasShardedFamilies(data) {
		// Written before the shards: its histograms move to them. The
		// shards are renamed first, each naming the content it absorbed,
		// then PATH without them; after a kill between the two, the next
		// update does not move them again.
		current, err := t.current(t.path, data, parseText)
		if err != nil {
			return err
		}
		keep, byVersion, _ := splitFamilies(sortedFamilies(current), true)
		main.parsed = make(map[string]*dto.MetricFamily, len(keep))
		for _, mf := range keep {
			main.parsed[mf.GetName()] = mf
		}
		main.rewrite = true
		if len(byVersion) > 0 {
			moved, absorbed = byVersion, absorbedLine(data)
		}
	}
	versions := slices.Sorted(maps.Keys(histograms))
	for v := range moved {
		if histograms[v] == nil {
			versions = append(versions, v)
		}
	}
	slices.Sort(versions)
	for _, v := range versions {
		c := &change{version: v, add: histograms[v]}
		c.path, _ = ShardPath(t.path, v) // splitFamilies checked v
		if err := CheckPath(c.path); err != nil {
			return sink.NotDelivered(err)
		}
		if c.data, err = readExisting(c.path); err != nil {
			return sink.NotDelivered(err)
		}
		if moved[v] != nil {
			c.absorbed = absorbed
			if !bytes.Equal(absorbedOf(c.data), absorbed) {
				c.absorb, c.inherit = moved[v], appliedIDs(data)
			}
		}
		changes = append(changes, c)
	}
	cm := t.newCommit()
	defer cm.abort()
	for _, c := range changes {
		w, err := t.render(c, id)
		if err != nil {
			return err
		}
		if w != nil {
			if err := cm.add(*w); err != nil {
				return err
			}
		}
	}
	return cm.finish()
}

// readExisting reads a textfile or shard; a missing one is empty (nil).
func readExisting(path string) ([]byte, error) {
	data, err := readTextfileBytes(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return data, err
}

// change is what an update does to one file: the textfile (version "") or
// the shard of a version.
type change struct {
	path, version string
	data          []byte // the file as read, nil when missing
	// parsed, when set, is the file's content to write instead of data's
	// (the textfile without the histograms it hands to the shards);
	// rewrite says to write it even when the batch adds nothing here.
	parsed  map[string]*dto.MetricFamily
	rewrite bool
	add     []*dto.MetricFamily // the batch's part
	// absorb is the histograms of this version moved from the textfile,
	// inherit the textfile's applied ids (their batches' histograms are in
	// absorb), absorbed the line that names the textfile content they came
	// from.
	absorb   []*dto.MetricFamily
	inherit  []string
	absorbed []byte
}

// write is the new content of one file, in parts.
type write struct {
	path  string
	parts [][]byte
}

// render returns the new content of c's file, or nil when it stays as it
// is (it holds the batch already, or the batch has nothing for it).
func (t *Textfile) render(c *change, id string) (*write, error) {
	applied := appliedIDs(c.data)
	if len(c.inherit) > 0 {
		applied = keepApplied(append(applied, c.inherit...))
	}
	add := c.add
	if id != "" && len(add) > 0 {
		if slices.Contains(applied, id) {
			add = nil
		} else {
			applied = keepApplied(append(applied, id))
		}
	}
	if len(add) == 0 && c.absorb == nil && !c.rewrite {
		return nil, nil
	}
	ids := appliedBlock(applied)
	// Fast path: a file we wrote, unchanged since (its checksum says so),
	// that already holds every series: add in place, no parsing.
	if c.parsed == nil && c.absorb == nil {
		if body, ok := verifiedBody(c.data); ok {
			if out, ok := addInPlace(skipMeta(body), add); ok {
				return &write{c.path, [][]byte{checksumLine(ids, c.absorbed, out), ids, c.absorbed, out}}, nil
			}
		}
	}
	current := c.parsed
	if current == nil {
		parse := parseText
		if c.version != "" {
			parse = func(path string, data []byte) (map[string]*dto.MetricFamily, error) {
				return parseShard(path, c.version, data)
			}
		}
		var err error
		if current, err = t.current(c.path, c.data, parse); err != nil {
			return nil, err
		}
	}
	out, err := metrics.EncodeText(mergeFamilies(current, slices.Concat(c.absorb, add)))
	if err != nil {
		return nil, err
	}
	return &write{c.path, [][]byte{checksumLine(ids, c.absorbed, out), ids, c.absorbed, out}}, nil
}

// current parses a file; one that is corrupt is moved aside (with one
// note) and reads as empty.
func (t *Textfile) current(path string, data []byte, parse func(string, []byte) (map[string]*dto.MetricFamily, error)) (map[string]*dto.MetricFamily, error) {
	mfs, err := parse(path, data)
	if err == nil {
		return mfs, nil
	}
	var ce *sink.CorruptError
	if !errors.As(err, &ce) {
		return nil, sink.NotDelivered(err)
	}
	aside, mvErr := moveAside(path, t.now())
	if mvErr != nil {
		return nil, sink.NotDelivered(fmt.Errorf("textfile %s is corrupt (%s) and cannot be moved aside: %w", path, ce.Reason, sink.CleanPathErr(mvErr)))
	}
	if t.note != nil {
		t.note(fmt.Errorf("textfile %s was corrupt (%s): moved aside to %s, started a fresh one", path, ce.Reason, filepath.Base(aside)))
	}
	return nil, nil
}

// appliedPrefix starts the comment lines, right after the checksum line,
// that name the batches (journal entry ids) the file holds. The exposition
// format ignores them; they are inside the checksum and the atomic rename,
// so the counts and the ids change together.
const appliedPrefix = "# install-metrics applied "

// MaxApplied is how many applied ids a textfile keeps: those of the
// batches applied last, in the order they were applied (not by the id's
// creation time: a 40-minute install applied after a hundred short runs
// that started later must keep its id). A batch is resent only while its
// journal record is taken over, which the next invocation or flush does
// (every send phase takes over the dead owners' records): moments to days
// later, a few batches apart, never dozens. Each id is a 64-byte line that
// every update reads, writes and fsyncs and every scrape reads: 1000 of
// them made a 67 KB file of a 7 KB one and cost 2.3 ms per run
// (docs/benchmarks.md).
const MaxApplied = 64

// appliedIDs returns the applied ids at the top of a textfile (after the
// checksum line, if any). Lines of another shape end the list.
func appliedIDs(data []byte) []string {
	var ids []string
	first := true
	for line := range bytes.Lines(data) {
		line = bytes.TrimSuffix(line, []byte{'\n'})
		if first && bytes.HasPrefix(line, []byte(checksumPrefix)) {
			first = false
			continue
		}
		first = false
		id, ok := bytes.CutPrefix(line, []byte(appliedPrefix))
		if !ok || !validID(string(id)) {
			break
		}
		ids = append(ids, string(id))
	}
	return ids
}

// skipApplied returns body after its leading applied-id lines.
func skipApplied(body []byte) []byte {
	for {
		_, rest, ok := cutLine(body, appliedPrefix)
		if !ok {
			return body
		}
		body = rest
	}
}

// cutLine splits the first line (its newline included) off body when it
// starts with prefix.
func cutLine(body []byte, prefix string) (line, rest []byte, ok bool) {
	if !bytes.HasPrefix(body, []byte(prefix)) {
		return nil, body, false
	}
	i := bytes.IndexByte(body, '\n')
	if i < 0 {
		return body, nil, true
	}
	return body[:i+1], body[i+1:], true
}

// keepApplied drops repeated ids (the first one stays) and keeps the
// MaxApplied applied last; ids is in the order they were applied.
func keepApplied(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	if len(out) > MaxApplied {
		out = out[len(out)-MaxApplied:]
	}
	return out
}

func appliedBlock(ids []string) []byte {
	var b []byte
	for _, id := range ids {
		b = append(append(append(b, appliedPrefix...), id...), '\n')
	}
	return b
}

// validID accepts the shape of pkg/journal's ids (digits, a dash, hex),
// at most 64 bytes: an id read from a file or a spool entry goes into a
// comment line, so nothing else may pass.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && c != '-' {
			return false
		}
	}
	return true
}

// checksumPrefix starts the first line of every textfile we write. The
// exposition format ignores such comments (node_exporter too); for us the
// checksum proves the rest is exactly what we wrote, so an update can add
// to the existing lines without parsing the file. Any edit sends the next
// update down the full parse (which also moves a corrupt file aside). The
// checksum is a CRC-32C (Castagnoli, in hardware: a 10 MB file with many
// histograms checks in well under a millisecond, where SHA-256 took 6 ms);
// it guards against edits and truncation, not against an attacker, who
// could rewrite any checksum. Files with the former sha256 line are simply
// parsed once.
const checksumPrefix = "# install-metrics textfile crc32c="

// castagnoli is built on first use, not at start-up: every run of the
// wrapper pays for package initialisation before the installer starts, and
// MakeTable costs about 0.2 ms there (GODEBUG=inittrace=1).
var castagnoli = sync.OnceValue(func() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) })

// checksumLine is the first line for a body made of parts: prefix, 8 hex
// digits, newline.
func checksumLine(parts ...[]byte) []byte {
	var sum uint32
	for _, p := range parts {
		sum = crc32.Update(sum, castagnoli(), p)
	}
	out := make([]byte, 0, len(checksumPrefix)+9)
	out = append(out, checksumPrefix...)
	out = fmt.Appendf(out, "%08x", sum)
	return append(out, '\n')
}

func withChecksum(body []byte) []byte {
	return append(checksumLine(body), body...)
}

// verifiedBody returns the body after a valid checksum line.
func verifiedBody(data []byte) ([]byte, bool) {
	rest, ok := bytes.CutPrefix(data, []byte(checksumPrefix))
	if !ok {
		return nil, false
	}
	line, body, ok := bytes.Cut(rest, []byte{'\n'})
	if !ok || len(line) != 8 {
		return nil, false
	}
	want, err := strconv.ParseUint(string(line), 16, 32)
	if err != nil || uint32(want) != crc32.Checksum(body, castagnoli()) {
		return nil, false
	}
	return body, true
}

// addInPlace adds the counters and histograms of add to the lines of body,
// a canonical exposition text we wrote (sorted, labels sorted, one line per
// sample, a histogram's lines together: buckets by le, _sum, _count). Each
// series of add is rendered the same way; its first line is looked up in
// body and the others must follow it. It returns false, and the caller
// parses the file, when a series is not there yet or a line is not what it
// expects.
func addInPlace(body []byte, add []*dto.MetricFamily) ([]byte, bool) {
	type edit struct {
		start, end int // the value's bytes
		value      string
	}
	var edits []edit
	var text bytes.Buffer
	needle := make([]byte, 0, 256)
	after := 0 // the newline ending the previous series' last line
	for _, mf := range add {
		switch mf.GetType() {
		case dto.MetricType_COUNTER, dto.MetricType_HISTOGRAM:
		default:
			return nil, false
		}
		for _, m := range mf.Metric {
			text.Reset()
			one := &dto.MetricFamily{Name: mf.Name, Type: mf.Type, Metric: []*dto.Metric{m}}
			if _, err := expfmt.MetricFamilyToText(&text, one); err != nil {
				return nil, false
			}
			pos := -1 // where the next line must start in body
			for line := range bytes.Lines(text.Bytes()) {
				if len(line) == 0 || line[0] == '#' {
					continue
				}
				line = bytes.TrimSuffix(line, []byte{'\n'})
				sp := bytes.LastIndexByte(line, ' ')
				if sp < 0 {
					return nil, false
				}
				key, addText := line[:sp+1], line[sp+1:] // "name{labels} ", "value"
				var start int
				if pos < 0 {
					// add and body are sorted alike: look after the
					// previous series first, then from the top.
					needle = append(append(needle[:0], '\n'), key...)
					i := bytes.Index(body[after:], needle)
					if i >= 0 {
						i += after
					} else if i = bytes.Index(body, needle); i < 0 {
						return nil, false
					}
					start = i + len(needle)
				} else {
					if !bytes.HasPrefix(body[pos:], key) {
						return nil, false
					}
					start = pos + len(key)
				}
				end := bytes.IndexByte(body[start:], '\n')
				if end < 0 {
					return nil, false
				}
				end += start
				old, err1 := strconv.ParseFloat(string(body[start:end]), 64)
				inc, err2 := strconv.ParseFloat(string(addText), 64)
				if err1 != nil || err2 != nil || old < 0 || math.IsInf(old, 0) || math.IsNaN(old) {
					return nil, false
				}
				edits = append(edits, edit{start, end, strconv.FormatFloat(old+inc, 'g', -1, 64)})
				pos = end + 1
			}
			if pos > 0 {
				after = pos - 1
			}
		}
	}
	slices.SortFunc(edits, func(a, b edit) int { return a.start - b.start })
	out := make([]byte, 0, len(body)+16*len(edits))
	pos := 0
	for _, e := range edits {
		if e.start < pos {
			return nil, false // the same line twice: cannot happen, be safe
		}
		out = append(out, body[pos:e.start]...)
		out = append(out, e.value...)
		pos = e.end
	}
	return append(out, body[pos:]...), true
}

// commit replaces files: each file's new content goes to a temporary file
// beside it, whose fsync starts at once in its own goroutine (the next
// file is rendered and written meanwhile, and the file system commits
// concurrent fsyncs together); finish waits for them, renames the files
// into place, the textfile (the first added, when it is written) last, and
// fsyncs the directory once. A failure before the renames leaves every
// file untouched; one between them leaves the files renamed so far
// updated, each with the batch's id, so the batch sent again is added to
// the others only.
type commit struct {
	t   *Textfile
	dir string
	ps  []*pending
	wg  sync.WaitGroup
}

// pending is one temporary file of a commit.
type pending struct {
	path            string
	f               TempFile
	err             error // of its fsync
	closed, renamed bool
}

func (t *Textfile) newCommit() *commit { return &commit{t: t, dir: filepath.Dir(t.path)} }

// add writes w to a temporary file and starts its fsync.
func (c *commit) add(w write) error {
	f, err := c.t.CreateTemp(c.dir, "."+filepath.Base(w.path)+".tmp-*")
	if err != nil {
		return sink.NotDelivered(fmt.Errorf("cannot create a file in %s: %w", c.dir, sink.ErrnoOf(err)))
	}
	p := &pending{path: w.path, f: f}
	c.ps = append(c.ps, p)
	for _, data := range w.parts {
		if _, err := f.Write(data); err != nil {
			return sink.NotDelivered(fmt.Errorf("writing textfile %s: %w", w.path, sink.ErrnoOf(err)))
		}
	}
	if err := f.Chmod(0o644); err != nil {
		return sink.NotDelivered(fmt.Errorf("writing textfile %s: %w", w.path, sink.ErrnoOf(err)))
	}
	c.wg.Go(func() { p.err = f.Sync() })
	return nil
}

// finish waits for the fsyncs and renames the files into place.
func (c *commit) finish() error {
	c.wg.Wait()
	for _, p := range c.ps {
		if p.err != nil {
			return sink.NotDelivered(fmt.Errorf("writing textfile %s: %w", p.path, sink.ErrnoOf(p.err)))
		}
	}
	for _, p := range c.ps {
		p.closed = true
		if err := p.f.Close(); err != nil {
			return sink.NotDelivered(fmt.Errorf("writing textfile %s: %w", p.path, sink.ErrnoOf(err)))
		}
	}
	for _, p := range slices.Backward(c.ps) {
		if err := c.t.rename(p.f.Name(), p.path); err != nil {
			return sink.NotDelivered(fmt.Errorf("replacing textfile %s: %w", p.path, sink.ErrnoOf(err)))
		}
		p.renamed = true
	}
	if len(c.ps) > 0 {
		sink.SyncDir(c.dir)
	}
	return nil
}

// abort, after finish or a failure, removes the temporary files left (none
// after a finish that succeeded) and fsyncs the directory if some were
// renamed.
func (c *commit) abort() {
	c.wg.Wait()
	renamed, left := false, false
	for _, p := range c.ps {
		if !p.closed {
			_ = p.f.Close()
		}
		if p.renamed {
			renamed = true
		} else {
			left = true
			_ = os.Remove(p.f.Name())
		}
	}
	if renamed && left {
		sink.SyncDir(c.dir)
	}
}

// CheckPath refuses a textfile path that is a symbolic link (the
// rename would replace the link, not its target), a directory or a special
// file. A missing file is fine.
func CheckPath(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("textfile %s: %w", path, sink.ErrnoOf(err))
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("textfile %s is a symbolic link: install-metrics replaces the file atomically and does not follow links; name the real file in --metrics-sink", path)
	case fi.IsDir():
		return fmt.Errorf("textfile %s is a directory: name a file ending in .prom", path)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("textfile %s is not a regular file", path)
	}
	return nil
}

// lockFile takes an exclusive flock on path (created 0644 if missing, never
// through a symbolic link), waiting until ctx is done. The wait is a
// blocking flock, so the kernel hands the lock from one run to the next
// without polling; if ctx ends first, the waiting goroutine releases the
// lock as soon as it gets it.
func lockFile(ctx context.Context, path string) (func(), error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening lock file %s: %w", path, err)
	}
	unlock, err := fsutil.Lock(ctx, fd)
	switch {
	case errors.Is(err, fsutil.ErrLocked):
		return nil, fmt.Errorf("textfile %s stayed locked by other install-metrics runs until --metrics-timeout ran out", strings.TrimSuffix(path, ".lock"))
	case err != nil:
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return unlock, nil
}

// moveAside renames a corrupt file to PATH.corrupt-<UTC time>, which
// node_exporter ignores (it reads only *.prom).
func moveAside(path string, now time.Time) (string, error) {
	base := path + ".corrupt-" + now.UTC().Format("20060102T150405Z")
	name := base
	for i := 1; i <= 100; i++ {
		if _, err := os.Lstat(name); errors.Is(err, fs.ErrNotExist) {
			return name, os.Rename(path, name)
		}
		name = fmt.Sprintf("%s-%d", base, i)
	}
	return "", fmt.Errorf("too many corrupt copies of %s", path)
}

// Read parses a textfile and its histogram shards with expfmt's text
// parser and merges them: each family once, with the series of every file.
// A missing file without shards returns an error wrapping fs.ErrNotExist;
// a file that is not valid exposition text, holds our families with
// another type, or holds negative or non-finite counters (a shard: anything
// but its version's histograms) returns a *CorruptError. Timestamps are
// dropped. While a textfile written before the shards has not been
// rewritten yet, its histograms already in a shard count once.
func Read(path string) (map[string]*dto.MetricFamily, error) {
	data, err := readTextfileBytes(path)
	missing := errors.Is(err, fs.ErrNotExist)
	if err != nil && !missing {
		return nil, err
	}
	mfs := map[string]*dto.MetricFamily{}
	if !missing {
		if mfs, err = parseText(path, data); err != nil {
			return nil, err
		}
	}
	shards, lerr := shardFiles(path)
	if lerr != nil {
		return nil, lerr
	}
	if missing && len(shards) == 0 {
		return nil, err
	}
	var absorbed []byte
	if !missing && hasShardedFamilies(data) {
		absorbed = absorbedLine(data)
	}
	for _, s := range shards {
		sdata, err := readTextfileBytes(s.path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // moved aside since the listing
		}
		if err != nil {
			return nil, err
		}
		smfs, err := parseShard(s.path, s.version, sdata)
		if err != nil {
			return nil, err
		}
		if absorbed != nil && bytes.Equal(absorbedOf(sdata), absorbed) {
			dropVersion(mfs, s.version)
		}
		for name, mf := range smfs {
			cur, ok := mfs[name]
			if !ok {
				mfs[name] = mf
				continue
			}
			if cur.GetHelp() == "" {
				cur.Help = mf.Help
			}
			cur.Metric = append(cur.Metric, mf.Metric...)
		}
	}
	return mfs, nil
}

// readTextfileBytes reads a textfile, never through a symbolic link; a
// file larger than maxTextfile is a *CorruptError.
func readTextfileBytes(path string) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, fmt.Errorf("textfile %s: %w", path, fs.ErrNotExist)
		}
		if errors.Is(err, unix.ELOOP) {
			return nil, fmt.Errorf("textfile %s is a symbolic link: name the real file", path)
		}
		return nil, fmt.Errorf("reading textfile %s: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	// One read of the whole file into a buffer of its size (ReadAll would
	// grow and copy a large file many times over).
	var data []byte
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 && fi.Size() <= maxTextfile {
		data = make([]byte, 0, fi.Size()+512)
	}
	data, err = readAllInto(data, io.LimitReader(f, maxTextfile+1))
	if err != nil {
		return nil, fmt.Errorf("reading textfile %s: %w", path, sink.ErrnoOf(err))
	}
	if len(data) > maxTextfile {
		return nil, &sink.CorruptError{Path: path, Reason: fmt.Sprintf("larger than %d MiB", maxTextfile>>20)}
	}
	return data, nil
}

func parseText(path string, data []byte) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		return nil, &sink.CorruptError{Path: path, Reason: sink.OneLine(err.Error(), 160)}
	}
	for name, mf := range mfs {
		ours := metrics.Ours(name)
		want := dto.MetricType_COUNTER
		if metrics.KindOf(name) == metrics.Histogram {
			want = dto.MetricType_HISTOGRAM
		}
		if ours && mf.GetType() != want {
			return nil, &sink.CorruptError{Path: path, Reason: fmt.Sprintf("%s is a %s, not a %s", name, strings.ToLower(mf.GetType().String()), strings.ToLower(want.String()))}
		}
		for _, m := range mf.Metric {
			m.TimestampMs = nil
			if !ours {
				continue
			}
			if want == dto.MetricType_HISTOGRAM {
				if err := metrics.CheckHistogram(m.GetHistogram()); err != nil {
					return nil, &sink.CorruptError{Path: path, Reason: fmt.Sprintf("%s: %v", name, err)}
				}
				continue
			}
			v := m.GetCounter().GetValue()
			if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, &sink.CorruptError{Path: path, Reason: fmt.Sprintf("%s has the value %v", name, v)}
			}
		}
	}
	return mfs, nil
}

// labelKey is a canonical form of a metric's label set. Its order is
// client_golang's (label values compared in label-name order), so a file we
// write sorts like a registry's exposition.
func labelKey(m *dto.Metric) string {
	pairs := make([]string, 0, len(m.Label))
	for _, l := range m.Label {
		pairs = append(pairs, l.GetName()+"\x00"+l.GetValue())
	}
	slices.Sort(pairs)
	return strings.Join(pairs, "\x00")
}

// mergeFamilies adds the counters and histograms of add to current and returns every
// family sorted by name, each metric's labels sorted by name and the metrics
// sorted by labels: a stable file that diffs well. Series with the same
// labels are summed (duplicated lines in current included).
func mergeFamilies(current map[string]*dto.MetricFamily, add []*dto.MetricFamily) []*dto.MetricFamily {
	all := make(map[string]*dto.MetricFamily, len(current)+len(add))
	for name, mf := range current {
		all[name] = mf
	}
	for _, mf := range add {
		cur, ok := all[mf.GetName()]
		if !ok {
			all[mf.GetName()] = mf
			continue
		}
		if cur.GetHelp() == "" {
			cur.Help = mf.Help
		}
		cur.Metric = append(cur.Metric, mf.Metric...)
	}
	out := make([]*dto.MetricFamily, 0, len(all))
	for _, name := range metrics.SortedKeys(all) {
		mf := all[name]
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			mf.Metric = sumCounters(mf.Metric)
		case dto.MetricType_HISTOGRAM:
			mf.Metric = sumHistograms(mf.Metric)
		}
		type keyed struct {
			key string
			m   *dto.Metric
		}
		ks := make([]keyed, len(mf.Metric))
		for i, m := range mf.Metric {
			slices.SortFunc(m.Label, func(a, b *dto.LabelPair) int { return strings.Compare(a.GetName(), b.GetName()) })
			ks[i] = keyed{labelKey(m), m}
		}
		slices.SortStableFunc(ks, func(a, b keyed) int { return strings.Compare(a.key, b.key) })
		for i := range ks {
			mf.Metric[i] = ks[i].m
		}
		out = append(out, mf)
	}
	return out
}

// sumCounters merges counters with the same label set.
func sumCounters(ms []*dto.Metric) []*dto.Metric {
	index := make(map[string]int, len(ms))
	out := make([]*dto.Metric, 0, len(ms))
	for _, m := range ms {
		k := labelKey(m)
		v := m.GetCounter().GetValue()
		if i, ok := index[k]; ok {
			v += out[i].GetCounter().GetValue()
			out[i] = &dto.Metric{Label: out[i].Label, Counter: &dto.Counter{Value: &v}}
			continue
		}
		index[k] = len(out)
		out = append(out, &dto.Metric{Label: m.Label, Counter: &dto.Counter{Value: &v}})
	}
	return out
}

// sumHistograms merges histograms with the same label set: _count and _sum
// added, cumulative bucket counts added bound by bound (ours always have the
// contract's bounds; a bound only one side has keeps its count).
func sumHistograms(ms []*dto.Metric) []*dto.Metric {
	index := make(map[string]int, len(ms))
	out := make([]*dto.Metric, 0, len(ms))
	for _, m := range ms {
		k := labelKey(m)
		h := m.GetHistogram()
		i, ok := index[k]
		if !ok {
			index[k] = len(out)
			out = append(out, &dto.Metric{Label: m.Label, Histogram: &dto.Histogram{
				SampleCount: proto(h.GetSampleCount()), SampleSum: proto(h.GetSampleSum()), Bucket: h.GetBucket()}})
			continue
		}
		cur := out[i].Histogram
		cur.SampleCount = proto(cur.GetSampleCount() + h.GetSampleCount())
		cur.SampleSum = proto(cur.GetSampleSum() + h.GetSampleSum())
		cur.Bucket = addBuckets(cur.GetBucket(), h.GetBucket())
	}
	return out
}

// addBuckets adds cumulative counts bound by bound. The +Inf bucket is left
// out: a parsed file has it, a gathered histogram does not, and the encoder
// writes it from _count.
func addBuckets(a, b []*dto.Bucket) []*dto.Bucket {
	counts := make(map[float64]uint64, len(a))
	for _, x := range slices.Concat(a, b) {
		if !math.IsInf(x.GetUpperBound(), 1) {
			counts[x.GetUpperBound()] += x.GetCumulativeCount()
		}
	}
	bounds := make([]float64, 0, len(counts))
	for ub := range counts {
		bounds = append(bounds, ub)
	}
	slices.Sort(bounds)
	out := make([]*dto.Bucket, len(bounds))
	for i, ub := range bounds {
		out[i] = &dto.Bucket{UpperBound: proto(ub), CumulativeCount: proto(counts[ub])}
	}
	return out
}

func proto[T any](v T) *T { return &v }

// readAllInto is io.ReadAll appending to buf.
func readAllInto(buf []byte, r io.Reader) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// ReadFamilies reads the textfile and its shards (Read) and returns every
// family sorted by name, each series once (duplicated series summed) with
// its labels sorted, as `metrics show` prints them. A missing file returns
// an error wrapping fs.ErrNotExist; an unreadable one a *sink.CorruptError.
func ReadFamilies(path string) ([]*dto.MetricFamily, error) {
	mfs, err := Read(path)
	if err != nil {
		return nil, err
	}
	return mergeFamilies(mfs, nil), nil
}

// Canonical is the set of files, by path, that Send writes for exactly
// samples next to a textfile at path in an empty directory (checksum lines
// included): path with the counters, when there are any, and the shard of
// each version with its histograms.
func Canonical(path string, samples []metrics.Sample) (map[string][]byte, error) {
	mfs, err := metrics.Gather(samples)
	if err != nil {
		return nil, err
	}
	counters, histograms, err := splitFamilies(mfs, false)
	if err != nil {
		return nil, err
	}
	if whole, err := metrics.EncodeText(mfs); err == nil && len(whole) < DefaultShardAt {
		return map[string][]byte{path: withChecksum(whole)}, nil // one file, as below ShardAt
	}
	out := make(map[string][]byte, 1+len(histograms))
	if len(counters) > 0 {
		body, err := metrics.EncodeText(counters)
		if err != nil {
			return nil, err
		}
		out[path] = withChecksum(body)
	}
	for v, mfs := range histograms {
		body, err := metrics.EncodeText(mfs)
		if err != nil {
			return nil, err
		}
		shard, _ := ShardPath(path, v) // splitFamilies checked v
		out[shard] = withChecksum(body)
	}
	return out, nil
}

// Verified reports whether data, a textfile or a shard, is one we wrote
// and nobody changed since (its checksum line matches).
func Verified(data []byte) bool {
	_, ok := verifiedBody(data)
	return ok
}
