package modification

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/install-metrics/install-metrics/pkg/installer"
)

// Label values for files that are not the installer's own
// (docs/metrics-schema.md, cluster_installation_modification).
const (
	UserAdded   = "user-added"
	UserRemoved = "user-removed"
)

// Defaults for Options.
const (
	DefaultMaxStateBytes = 256 << 20
	DefaultMaxFileBytes  = 64 << 20
)

// installConfigName is the installer's input file inside the asset directory.
const installConfigName = "install-config.yaml"

// assetDirs are the directories of generated manifests, walked to this depth
// (cluster-api/machines/ is the deepest the installer writes).
var assetDirs = []string{"manifests", "openshift", "cluster-api"}

const maxWalkDepth = 3

// readByInstaller are the directories whose *.yaml, *.yml and *.json files
// the installer reads into its assets (Manifests.Load, Openshift.Load,
// ClusterAPI.Load upstream); other files there it leaves alone (real run 18).
var readByInstaller = map[string]bool{
	"manifests": true, "openshift": true, "cluster-api": true, "cluster-api/machines": true,
}

// ignitionNames are the ignition configs the installer loads from the top of
// the asset directory.
var ignitionNames = []string{"bootstrap.ign", "master.ign", "worker.ign", "arbiter.ign"}

// Options tunes Take. The zero value is ready to use.
type Options struct {
	// MaxStateBytes: a larger state file is not read (one warning, nothing
	// reported). Zero means DefaultMaxStateBytes.
	MaxStateBytes int64
	// MaxFileBytes: a larger asset file is not compared (one warning).
	// Zero means DefaultMaxFileBytes.
	MaxFileBytes int64
	// PlatformOnly skips the asset comparison, for commands that consume no
	// assets: only Platform and PullSecretToken are filled in.
	PlatformOnly bool
}

// Snapshot is what the asset directory held before the installer started:
// the platform, the pull-secret token, and which generated assets the user
// had changed. It holds no file contents except the few files whose bytes
// differ from the installer's version, for the comparison as data.
//
// Every fmt verb, slog and encoding/json print a summary without the token.
type Snapshot struct {
	platform string
	token    secret
	warning  string
	modified func() []string
}

// Take records, before the installer starts, what the installer may consume
// from dir: install-config.yaml, .openshift_install_state.json, the files
// under manifests/, openshift/ and cluster-api/, and the ignition configs.
// It never fails: whatever cannot be read is left out, with at most one
// warning (Warnings).
func Take(dir string, opts Options) *Snapshot {
	if opts.MaxStateBytes <= 0 {
		opts.MaxStateBytes = DefaultMaxStateBytes
	}
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = DefaultMaxFileBytes
	}
	t := &taker{dir: dir, opts: opts}
	snap := &Snapshot{platform: installer.UnknownPlatform, modified: func() []string { return nil }}

	ic := t.readTop(installConfigName, opts.MaxFileBytes)
	icPlatform, icToken := installConfigFacts(ic)

	var st *stateFile
	if raw := t.readTop(installer.StateFileName, opts.MaxStateBytes); raw != nil {
		var err error
		if st, err = parseState(raw); err != nil {
			t.stateProblem(err)
			st = nil
		}
	}
	var stPlatform, stToken string
	if st != nil {
		stPlatform, stToken = stateConfigFacts(st.installConfig)
	}

	switch {
	case icPlatform != "":
		snap.platform = icPlatform
	case stPlatform != "":
		snap.platform = stPlatform
	default:
		if p := metadataPlatform(t.readTop("metadata.json", 1<<20)); p != "" {
			snap.platform = p
		}
	}
	if icToken != "" {
		snap.token = secret{icToken}
	} else {
		snap.token = secret{stToken}
	}

	if st != nil && !opts.PlatformOnly {
		t.compare(newIndex(st), ic)
		if !t.unusable {
			labels, pending := t.labels, t.pending
			snap.modified = sync.OnceValue(func() []string {
				out := labels
				for _, p := range pending {
					if !p.equal() {
						out = append(out, p.label)
					}
				}
				pending = nil
				return sortedUnique(out)
			})
		}
	}
	snap.warning = t.warning()
	return snap
}

// Platform is the platform label value: from install-config.yaml, else the
// state file's install config, else metadata.json; "unknown" when none of
// them names one of installer.Platforms.
func (s *Snapshot) Platform() string { return s.platform }

// PullSecretToken returns the `cloud.openshift.com` auth of the install
// config's pull secret (install-config.yaml, else the state file's copy). It
// is a credential: send it only where the user asked, never log it.
func (s *Snapshot) PullSecretToken() (string, bool) {
	return s.token.v, s.token.v != ""
}

// Modified returns the sorted label values of the assets the user changed
// since the installer generated them: generated paths relative to the asset
// directory with forward slashes, "user-added" and "user-removed", each at
// most once. It is nil when nothing was modified, or when the state file was
// missing or unusable (nothing to compare with). The comparison as data runs
// on the first call, after the installer has started.
func (s *Snapshot) Modified() []string {
	m := s.modified()
	if m == nil {
		return nil
	}
	return append([]string(nil), m...)
}

// Warnings returns at most one short line about what could not be read, for
// debug output. It never holds file contents.
func (s *Snapshot) Warnings() []string {
	if s.warning == "" {
		return nil
	}
	return []string{s.warning}
}

// String summarises the snapshot without the token.
func (s Snapshot) String() string {
	return fmt.Sprintf("modification.Snapshot{platform: %s, pull secret token: %s}", s.platform, s.token.describe())
}

// GoString is String: %#v must not print the token either.
func (s Snapshot) GoString() string { return s.String() }

// Format prints String for every verb, so no verb can reach the token.
func (s Snapshot) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// LogValue keeps the token out of slog output.
func (s Snapshot) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON keeps the token out of encoding/json output.
func (s Snapshot) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, "{\"platform\":%q}", s.platform), nil
}

// taker holds the work of one Take.
type taker struct {
	dir  string
	opts Options

	labels  []string
	pending []pending
	// unusable: the state file turned out unusable midway (bad base64).
	unusable bool

	firstWarning string
	moreWarnings int
	// buf and scratch are reused for file contents and decoded state data.
	buf, scratch []byte
}

// warn records a problem; only the first is kept, the others are counted.
func (t *taker) warn(format string, args ...any) {
	if t.firstWarning == "" {
		t.firstWarning = fmt.Sprintf(format, args...)
		return
	}
	t.moreWarnings++
}

func (t *taker) warning() string {
	if t.firstWarning == "" {
		return ""
	}
	w := "modification: " + t.firstWarning
	if t.moreWarnings > 0 {
		w += fmt.Sprintf(" (and %d more)", t.moreWarnings)
	}
	return w
}

func (t *taker) stateProblem(err error) {
	t.warn("state file not used (%s); modified assets not reported", err)
}

var (
	errNotRegular = errors.New("not a regular file")
	errTooLarge   = errors.New("too large")
)

// readTop reads a file the installer reads at the top of the directory
// (following a symlink, as the installer does). A missing file is nil and no
// warning.
func (t *taker) readTop(name string, limit int64) []byte {
	p := filepath.Join(t.dir, name)
	fi, err := os.Stat(p)
	if absent(err) {
		return nil
	}
	if err == nil && !fi.Mode().IsRegular() {
		err = errNotRegular
	}
	if err == nil && fi.Size() > limit {
		err = tooLarge(limit)
	}
	var data []byte
	if err == nil {
		data, err = readFile(p, limit, make([]byte, 0, fi.Size()+4096), true)
	}
	if err != nil {
		if name == installer.StateFileName {
			t.stateProblem(describe(err))
		} else {
			t.warn("cannot read %s (%s)", name, describe(err))
		}
		return nil
	}
	return data
}

// absent reports whether err says the file is not there (also when a
// directory on its path is a file: the installer would create none there).
func absent(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// describe shortens an error for the warning line: the reason, not the path
// (the path is already in the line), never contents.
func describe(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// grow makes room to read more into buf.
func grow(buf []byte) []byte {
	if cap(buf)-len(buf) >= 4096 {
		return buf
	}
	nb := make([]byte, len(buf), 2*cap(buf)+64<<10)
	copy(nb, buf)
	return nb
}

func tooLarge(limit int64) error {
	return fmt.Errorf("%w: over %s", errTooLarge, sizeText(limit))
}

// compare walks what the installer will consume and compares it with ix.
func (t *taker) compare(ix *index, ic []byte) {
	present := map[string]bool{}

	if ic != nil {
		if g, ok := ix.files[installConfigName]; ok {
			t.check(ix, installConfigName, ic, g)
		}
	}

	for _, name := range topIgnitionNames(ix) {
		t.visit(ix, name, present)
	}

	for _, d := range assetDirs {
		t.walk(ix, d, 1, present)
	}
	if t.unusable {
		return
	}

	for _, names := range ix.written {
		wrote := false // an entry none of whose files is there was not written yet
		for _, n := range names {
			wrote = wrote || present[n]
		}
		for _, n := range names {
			if wrote && !present[n] {
				t.labels = append(t.labels, UserRemoved)
			}
		}
	}
}

// topIgnitionNames are the ignition configs to look at: the ones the
// installer loads plus any other the state says it generated there.
func topIgnitionNames(ix *index) []string {
	names := append([]string(nil), ignitionNames...)
	for p := range ix.files {
		if !strings.Contains(p, "/") && strings.HasSuffix(p, ".ign") && !contains(names, p) {
			names = append(names, p)
		}
	}
	sort.Strings(names[len(ignitionNames):])
	return names
}

func (t *taker) walk(ix *index, rel string, depth int, present map[string]bool) {
	entries, err := os.ReadDir(filepath.Join(t.dir, filepath.FromSlash(rel)))
	if err != nil {
		if !absent(err) {
			t.warn("cannot list %s/ (%s)", rel, describe(err))
		}
		return
	}
	for _, e := range entries {
		p := rel + "/" + e.Name()
		if e.IsDir() {
			if depth < maxWalkDepth {
				t.walk(ix, p, depth+1, present)
			}
			continue
		}
		t.visitEntry(ix, p, e.Type(), present)
	}
}

// visit looks at one top-level file by name.
func (t *taker) visit(ix *index, p string, present map[string]bool) {
	fi, err := os.Lstat(filepath.Join(t.dir, p))
	if err != nil {
		if !absent(err) {
			t.warn("cannot read %s (%s)", p, describe(err))
		}
		return
	}
	t.visitEntry(ix, p, fi.Mode().Type(), present)
}

// visitEntry handles one file found on disk. Symbolic links are never
// followed: their targets may be anywhere.
func (t *taker) visitEntry(ix *index, p string, mode fs.FileMode, present map[string]bool) {
	present[p] = true
	g, generated := ix.files[p]
	switch {
	case generated && mode.IsRegular():
		data, err := readFile(filepath.Join(t.dir, filepath.FromSlash(p)), t.opts.MaxFileBytes, t.buf, false)
		if err != nil {
			t.warn("cannot read %s (%s); not compared", p, describe(err))
			return
		}
		t.buf = data[:0]
		t.check(ix, p, data, g)
	case generated:
		t.warn("%s is not a regular file; not compared", p)
	case ix.known[p]:
		// The installer knows the name, we do not know its authority.
	case willRead(p) && (mode.IsRegular() || mode&fs.ModeSymlink != 0):
		t.labels = append(t.labels, UserAdded)
	}
}

// willRead reports whether the installer reads a file the user put there.
func willRead(p string) bool {
	if !readByInstaller[path.Dir(p)] && !contains(ignitionNames, p) {
		return false
	}
	switch path.Ext(p) {
	case ".yaml", ".yml", ".json", ".ign":
		return true
	}
	return false
}

// inAssetDirs reports whether a relative path lies under one of assetDirs.
func inAssetDirs(p string) bool {
	for _, d := range assetDirs {
		if strings.HasPrefix(p, d+"/") && strings.Count(p, "/") <= maxWalkDepth {
			return true
		}
	}
	return false
}

// check compares one on-disk file with its generated version: bytes first,
// and only when they differ, later, as data.
func (t *taker) check(ix *index, p string, disk []byte, g generated) {
	gen, err := g.decode(t.scratch)
	if err != nil {
		if !t.unusable {
			t.stateProblem(fmt.Errorf("%s: %w", p, err))
		}
		t.unusable = true
		return
	}
	if bytes.Equal(disk, gen) {
		t.scratch = gen[:0]
		return
	}
	gen = bytes.Clone(gen)
	label := labelFor(p, ix)
	k := kindOf(p)
	if k == kindBytes {
		t.labels = append(t.labels, label)
		return
	}
	t.pending = append(t.pending, pending{label: label, kind: k, disk: bytes.Clone(disk), gen: gen})
}

// labelFor turns a generated path into a label value. Generated names may
// hold the infrastructure ID, which starts with the user's cluster name
// (cluster-api/machines/10_inframachine_<infraID>-master-0.yaml): it becomes
// "<infraID>". A name the installer does not vouch for (index.vouched), or
// with characters the installer never uses, is a file the user added that an
// earlier run absorbed into the state: it counts as user-added.
func labelFor(p string, ix *index) string {
	if !ix.vouched[p] {
		return UserAdded
	}
	if len(ix.infraID) >= 6 {
		p = strings.ReplaceAll(p, ix.infraID, "<infraID>")
	}
	if len(p) > 200 {
		return UserAdded
	}
	for _, c := range p {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.ContainsRune("._-/<>", c):
		default:
			return UserAdded
		}
	}
	return p
}

func sizeText(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

func sortedUnique(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	sort.Strings(in)
	out := in[:1]
	for _, s := range in[1:] {
		if s != out[len(out)-1] {
			out = append(out, s)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
