package spool

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/install-metrics/install-metrics/pkg/metrics"
	"github.com/install-metrics/install-metrics/pkg/sink"
)

// Spool bounds: beyond them the oldest pushes are dropped, with a warning.
const (
	DefaultEntries = 1000
	DefaultBytes   = 10 << 20
	DefaultAge     = 30 * 24 * time.Hour
)

// Limits bound the spool; zero fields mean the defaults.
type Limits struct {
	MaxEntries int
	MaxBytes   int64
	MaxAge     time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultEntries
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultBytes
	}
	if l.MaxAge <= 0 {
		l.MaxAge = DefaultAge
	}
	return l
}

const (
	// Version is what entries are written with: 2 holds a sink.Batch
	// (samples of both kinds and, when present, the invocation); entries of
	// version 1 (counter samples only) are still read and flushed.
	Version        = 2
	maxSpoolEntry  = 1 << 20 // one entry is a few hundred bytes
	maxCorrupt     = 100
	claimStaleness = 10 * time.Minute // a claim older than this belongs to a dead process
	tempStaleness  = time.Hour
)

// Entry is one spooled push: where it goes and what. No credential: those
// come from the flags at flush time.
type Entry struct {
	Version int       `json:"version"`
	Sink    string    `json:"sink"`
	Created time.Time `json:"created"`
	sink.Batch
}

// Spool keeps pushes that provably did not arrive, one 0600 JSON file each
// in a 0700 directory. File names start with the creation time in
// nanoseconds, so name order is age order. A sender claims an entry by
// renaming it (only one process can win the rename), so two invocations
// flushing at once never send the same entry twice.
type Spool struct {
	dir    string
	limits Limits
	now    func() time.Time
}

// New returns the spool in dir (created on the first Add); zero limits are
// the defaults, now nil is time.Now.
func New(dir string, limits Limits, now func() time.Time) *Spool {
	if now == nil {
		now = time.Now
	}
	return &Spool{dir: dir, limits: limits.withDefaults(), now: now}
}

// Dir is the spool's directory.
func (sp *Spool) Dir() string { return sp.dir }

// ensureDir creates the spool directory 0700 (tightening an existing one).
func (sp *Spool) ensureDir() error {
	if err := os.MkdirAll(sp.dir, 0o700); err != nil {
		return fmt.Errorf("creating spool %s: %w", sp.dir, sink.ErrnoOf(err))
	}
	fi, err := os.Lstat(sp.dir)
	if err != nil {
		return fmt.Errorf("spool %s: %w", sp.dir, sink.ErrnoOf(err))
	}
	if !fi.IsDir() {
		return fmt.Errorf("spool %s is not a directory", sp.dir)
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(sp.dir, 0o700); err != nil {
			return fmt.Errorf("spool %s: %w", sp.dir, sink.ErrnoOf(err))
		}
	}
	return nil
}

// Add stores one push for sinkURL (canonical form). It returns the warnings
// of pruning.
func (sp *Spool) Add(sinkURL string, b sink.Batch) ([]error, error) {
	if err := sp.ensureDir(); err != nil {
		return nil, err
	}
	now := sp.now()
	data, err := json.Marshal(Entry{Version: Version, Sink: sinkURL, Created: now.UTC(), Batch: b})
	if err != nil {
		return nil, fmt.Errorf("encoding a spool entry: %w", err)
	}
	f, err := os.CreateTemp(sp.dir, ".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("writing to spool %s: %w", sp.dir, sink.ErrnoOf(err))
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, filepath.Join(sp.dir, entryName(now, sinkURL)))
	}
	if werr != nil {
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("writing to spool %s: %w", sp.dir, sink.ErrnoOf(werr))
	}
	sink.SyncDir(sp.dir)
	return sp.Prune(), nil
}

// entryName is <creation time in ns>-<sink hash>-<random>.json: name order
// is age order, and the sink is known without reading the file.
func entryName(t time.Time, sink string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%020d-%s-%s.json", t.UnixNano(), SinkHash(sink), hex.EncodeToString(b[:]))
}

// SinkHash is the sink part of an entry's name.
func SinkHash(sinkURL string) string {
	h := sha256.Sum256([]byte(sinkURL))
	return hex.EncodeToString(h[:4])
}

// EntrySinkHash reads the sink hash from an entry's name.
func EntrySinkHash(name string) string {
	parts := strings.SplitN(name, "-", 3)
	if len(parts) != 3 {
		return ""
	}
	return parts[1]
}

// entryTime reads the creation time from an entry's (or a claim's) name.
func entryTime(name string) (time.Time, bool) {
	head, _, ok := strings.Cut(name, "-")
	if !ok || len(head) != 20 {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(head, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, n), true
}

// List returns the entry names, oldest first.
func (sp *Spool) List() ([]string, error) {
	des, err := os.ReadDir(sp.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading spool %s: %w", sp.dir, sink.ErrnoOf(err))
	}
	var out []string
	for _, de := range des {
		if n := de.Name(); de.Type().IsRegular() && strings.HasSuffix(n, ".json") && !strings.HasPrefix(n, ".") {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Prune enforces the limits: entries older than MaxAge go, then the oldest
// until at most MaxEntries and MaxBytes remain; stale claims of dead
// processes are dropped (their push may have arrived), and so are left-over
// temporary files and old corrupt entries. It says what it dropped.
func (sp *Spool) Prune() []error {
	des, err := os.ReadDir(sp.dir)
	if err != nil {
		return nil
	}
	now := sp.now()
	var (
		warns                       []error
		expired, overflow, abandons int
		entries, corrupt            []fs.DirEntry
	)
	for _, de := range des {
		n := de.Name()
		info, err := de.Info()
		if err != nil || !de.Type().IsRegular() {
			continue
		}
		switch {
		case strings.HasPrefix(n, ".tmp-"):
			if now.Sub(info.ModTime()) > tempStaleness {
				_ = os.Remove(filepath.Join(sp.dir, n))
			}
		case strings.Contains(n, ".json.claim-"):
			if t, ok := claimTime(n); ok && now.Sub(t) > claimStaleness {
				if os.Remove(filepath.Join(sp.dir, n)) == nil {
					abandons++
				}
			}
		case strings.HasSuffix(n, ".corrupt"):
			corrupt = append(corrupt, de)
		case strings.HasSuffix(n, ".json"):
			if t, ok := entryTime(n); ok && now.Sub(t) > sp.limits.MaxAge {
				if os.Remove(filepath.Join(sp.dir, n)) == nil {
					expired++
				}
				continue
			}
			entries = append(entries, de)
		}
	}
	var size int64
	for _, de := range entries {
		if info, err := de.Info(); err == nil {
			size += info.Size()
		}
	}
	for len(entries) > 0 && (len(entries) > sp.limits.MaxEntries || size > sp.limits.MaxBytes) {
		de := entries[0]
		entries = entries[1:]
		if info, err := de.Info(); err == nil {
			size -= info.Size()
		}
		if os.Remove(filepath.Join(sp.dir, de.Name())) == nil {
			overflow++
		}
	}
	for i, de := range corrupt {
		info, err := de.Info()
		if len(corrupt)-i > maxCorrupt || (err == nil && now.Sub(info.ModTime()) > sp.limits.MaxAge) {
			_ = os.Remove(filepath.Join(sp.dir, de.Name()))
		}
	}
	if expired > 0 {
		warns = append(warns, fmt.Errorf("dropped %d spooled pushes older than %v", expired, sp.limits.MaxAge))
	}
	if overflow > 0 {
		warns = append(warns, fmt.Errorf("spool full (at most %d pushes, %d KiB): dropped the %d oldest", sp.limits.MaxEntries, sp.limits.MaxBytes>>10, overflow))
	}
	if abandons > 0 {
		warns = append(warns, fmt.Errorf("dropped %d spooled pushes whose sending was interrupted; they may have been counted, so they are not resent", abandons))
	}
	return warns
}

func claimTime(name string) (time.Time, bool) {
	_, rest, ok := strings.Cut(name, ".json.claim-")
	if !ok {
		return time.Time{}, false
	}
	head, _, _ := strings.Cut(rest, "-")
	n, err := strconv.ParseInt(head, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, n), true
}

// Claim takes an entry for sending by renaming it; false when another
// process took it first.
func (sp *Spool) Claim(name string) (string, bool) {
	claimed := fmt.Sprintf("%s.claim-%d-%d", name, sp.now().UnixNano(), os.Getpid())
	if err := os.Rename(filepath.Join(sp.dir, name), filepath.Join(sp.dir, claimed)); err != nil {
		return "", false
	}
	return claimed, true
}

// Release puts a claimed entry back (it provably did not arrive).
func (sp *Spool) Release(claimed, name string) {
	_ = os.Rename(filepath.Join(sp.dir, claimed), filepath.Join(sp.dir, name))
}

// Done removes a claimed entry (sent, rejected or possibly arrived).
func (sp *Spool) Done(claimed string) {
	_ = os.Remove(filepath.Join(sp.dir, claimed))
}

// Read loads and validates an entry: a known version, a valid sink URL in
// canonical form, and samples that pass ValidSample. Anything else is
// corrupt.
func (sp *Spool) Read(name string) (Entry, error) {
	var e Entry
	f, err := os.Open(filepath.Join(sp.dir, name))
	if err != nil {
		return e, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSpoolEntry+1))
	if err != nil {
		return e, err
	}
	corrupt := func(reason string) (Entry, error) {
		return Entry{}, &sink.CorruptError{What: "spool entry", Path: filepath.Join(sp.dir, name), Reason: reason}
	}
	if len(data) > maxSpoolEntry {
		return corrupt("too large")
	}
	if err := json.Unmarshal(data, &e); err != nil {
		return corrupt("not JSON")
	}
	if e.Version != 1 && e.Version != Version {
		return corrupt(fmt.Sprintf("unknown version %d", e.Version))
	}
	if e.Version == 1 && e.Invocation != nil {
		return corrupt("an invocation in a version 1 entry")
	}
	s, err := sink.Parse(e.Sink)
	if err != nil || s.String() != e.Sink || SinkHash(e.Sink) != EntrySinkHash(name) {
		return corrupt("bad sink URL")
	}
	if len(e.Samples) == 0 || len(e.Samples) > 10000 {
		return corrupt("no samples")
	}
	for _, smp := range e.Samples {
		if e.Version == 1 && smp.Kind != metrics.Counter {
			return corrupt("a histogram in a version 1 entry")
		}
		if !metrics.ValidSample(smp) {
			return corrupt("a sample outside the schema's closed sets")
		}
	}
	return e, nil
}

// MoveAside renames a corrupt entry so it is never retried; prune removes
// it once old.
func (sp *Spool) MoveAside(name string) string {
	base, _, _ := strings.Cut(name, ".json")
	aside := base + ".corrupt"
	_ = os.Rename(filepath.Join(sp.dir, name), filepath.Join(sp.dir, aside))
	return aside
}
