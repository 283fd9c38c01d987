package modification

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
)

// Which state-file entry is authoritative for which file (docs/installer.md
// section 9). The installer rewrites the state after every target with the
// assets as used: once it consumed an edited manifest, *manifests.Manifests
// holds the edit (real run 04), while the dependencies whose files Manifests
// and Openshift copy verbatim (*manifests.Scheduler, ...) keep what was
// generated. So for a file such a source holds, the source is the truth, and
// the target entry is the truth for the files only it holds.
var (
	// sourceEntries are copied byte for byte into *manifests.Manifests or
	// *manifests.Openshift: checked against real runs 02, 03 and 06
	// (TestSourcesAreVerbatimCopies). Not *bootstrap.CVOIgnore: its
	// manifests/cvo-overrides.yaml is a different, derived file.
	sourceEntries = []string{
		"*manifests.DNS",
		"*manifests.Infrastructure",
		"*manifests.Ingress",
		"*manifests.Networking",
		"*manifests.Proxy",
		"*manifests.Scheduler",
		"*manifests.FeatureGate",
		"*openshiftinstall.Config",
	}
	// manifestTargets are written by `create manifests`
	// (pkg/asset/targets/targets.go upstream).
	manifestTargets = []string{
		manifestsEntry,
		openshiftEntry,
		"*machines.Master",
		"*machines.Worker",
		"*machines.Arbiter",
		"*machines.ClusterAPI",
		"*clusterapi.Cluster",
	}
	// ignitionTargets are the ignition configs written by
	// `create ignition-configs`.
	ignitionTargets = []string{
		bootstrapEntry,
		"*machine.Master",
		"*machine.Worker",
		"*machine.Arbiter",
	}
	// afterManifests are entries only a target after `create manifests`
	// stores: once one is there, manifests/ and openshift/ were consumed and
	// purged, so their absence is no removal.
	afterManifests = []string{bootstrapEntry, "*bootstrap.SingleNodeBootstrapInPlace"}
)

const (
	installConfigEntry = "*installconfig.InstallConfig"
	clusterIDEntry     = "*installconfig.ClusterID"
	manifestsEntry     = "*manifests.Manifests"
	openshiftEntry     = "*manifests.Openshift"
	bootstrapEntry     = "*bootstrap.Bootstrap"

	// clusterConfigName is rendered by *manifests.Manifests itself, from no
	// template (kubeSysConfigPath upstream, unchanged since 4.1).
	clusterConfigName = "manifests/cluster-config.yaml"
)

// errBase64 means a file's data in the state file is not base64.
var errBase64 = errors.New("not base64")

// errFormat means the state file is JSON but not shaped as this code expects
// (e.g. an installer newer or older than any we know, or a damaged file).
var errFormat = errors.New("unknown format")

// stateFile is what Take needs from the installer's state file. Data slices
// point into the file's bytes and are base64.
type stateFile struct {
	// entries by asset type, only those with files.
	entries map[string][]stateFile1
	// installConfig is the install-config entry's `config`, raw JSON.
	installConfig []byte
	infraID       string
}

// stateFile1 is one {"Filename": ..., "Data": ...} object.
type stateFile1 struct {
	name string
	data []byte // base64, not decoded
}

// generated is the installer's version of one on-disk file.
type generated struct {
	data []byte // base64
}

// decode returns the file's bytes, in buf's storage if it has room.
func (g generated) decode(buf []byte) ([]byte, error) {
	n := base64.StdEncoding.DecodedLen(len(g.data))
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	out := buf[:n]
	n, err := base64.StdEncoding.Decode(out, g.data)
	if err != nil {
		return nil, errBase64
	}
	return out[:n], nil
}

// parseState reads the state file's text. Errors say what is wrong, never
// what the file holds.
func parseState(data []byte) (*stateFile, error) {
	st := &stateFile{entries: map[string][]stateFile1{}}
	odd := map[string]bool{} // per entry; a later duplicate key wins, as in encoding/json
	s := &scanner{data: data}
	if s.peek() != '{' {
		return nil, errSyntax
	}
	err := s.object(func(rawKey []byte) error {
		key, err := text(rawKey)
		if err != nil {
			return err
		}
		var (
			files []stateFile1
			bad   bool
		)
		switch key {
		case installConfigEntry:
			files, bad, err = st.parseInstallConfig(s)
		case clusterIDEntry:
			bad, err = st.parseClusterID(s)
		default:
			files, bad, err = parseEntry(s)
		}
		if err != nil {
			return err
		}
		odd[key] = bad
		if len(files) > 0 {
			st.entries[key] = files
		} else {
			delete(st.entries, key)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if s.skipSpace(); s.pos != len(s.data) {
		return nil, errSyntax
	}
	for key, bad := range odd {
		if bad && (known(key) || key == installConfigEntry || key == clusterIDEntry) {
			return nil, fmt.Errorf("%s: field of unexpected type: %w", key, errFormat)
		}
	}
	// Every target depends on the install config: a state without it is
	// not one an installer we know wrote.
	if _, ok := odd[installConfigEntry]; !ok {
		return nil, fmt.Errorf("no %s: %w", installConfigEntry, errFormat)
	}
	// An entry that says `create manifests` ran but yields no file is a
	// format we do not know: reading it would call every manifest user-added.
	for _, k := range []string{manifestsEntry, openshiftEntry} {
		if _, ok := odd[k]; ok && !st.seen(k) {
			return nil, fmt.Errorf("%s: no files: %w", k, errFormat)
		}
	}
	return st, nil
}

// seen reports whether the entry was in the file (with files).
func (st *stateFile) seen(key string) bool {
	_, ok := st.entries[key]
	return ok
}

func (st *stateFile) parseInstallConfig(s *scanner) (files []stateFile1, odd bool, err error) {
	st.installConfig = nil
	if s.isNull() {
		return nil, false, nil
	}
	if s.peek() != '{' {
		return nil, true, s.skip()
	}
	err = s.object(func(k []byte) error {
		if isKey(k, "config") {
			raw, err := s.raw()
			st.installConfig = raw
			return err
		}
		return fileField(s, k, &files, &odd)
	})
	return files, odd, err
}

func (st *stateFile) parseClusterID(s *scanner) (odd bool, err error) {
	raw, err := s.raw()
	if err != nil {
		return false, err
	}
	var id struct{ InfraID string }
	if json.Unmarshal(raw, &id) != nil {
		return true, nil
	}
	st.infraID = id.InfraID
	return false, nil
}

// parseEntry reads one asset: its files are the values of its fields that
// are {"Filename", "Data"} objects or arrays of them (File, FileList,
// MachineFiles, UserDataFile, ...). Everything else is skipped unread. A
// field of an unexpected type makes odd true; the value is consumed anyway.
func parseEntry(s *scanner) (files []stateFile1, odd bool, err error) {
	if s.isNull() {
		return nil, false, nil
	}
	if s.peek() != '{' {
		return nil, true, s.skip()
	}
	err = s.object(func(k []byte) error { return fileField(s, k, &files, &odd) })
	return files, odd, err
}

// fileField reads one field of an asset, appending the files it holds.
func fileField(s *scanner, k []byte, files *[]stateFile1, odd *bool) error {
	switch s.peek() {
	case '{':
		return fileObject(s, files, odd)
	case '[':
		return s.array(func() error {
			if s.peek() != '{' {
				return s.skip()
			}
			return fileObject(s, files, odd)
		})
	}
	if s.isNull() {
		return nil
	}
	if isKey(k, "File") || isKey(k, "FileList") {
		*odd = true
	}
	return s.skip()
}

// fileObject reads an object and appends it to files if it is a file: its
// (last) Filename is a string. Data must be a string or null.
func fileObject(s *scanner, files *[]stateFile1, odd *bool) error {
	var (
		f                stateFile1
		isFile           bool
		badName, badData bool
	)
	err := s.object(func(k []byte) error {
		switch {
		case isKey(k, "Filename"):
			isFile, badName = false, true
			if s.peek() != '"' {
				return s.skip()
			}
			raw, err := s.str()
			if err != nil {
				return err
			}
			if f.name, err = text(raw); err != nil {
				return err
			}
			isFile, badName = true, false
		case isKey(k, "Data"):
			f.data, badData = nil, false
			if s.isNull() {
				return nil
			}
			if s.peek() != '"' {
				badData = true
				return s.skip()
			}
			raw, err := s.str()
			f.data = raw
			return err
		default:
			return s.skip()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if badName || badData {
		*odd = true
	}
	if isFile && !badData {
		*files = append(*files, f)
	}
	return nil
}

// known reports whether Take reads files from the entry, so an odd shape
// there makes the whole state unusable.
func known(key string) bool {
	for _, list := range [][]string{sourceEntries, manifestTargets, ignitionTargets} {
		for _, k := range list {
			if k == key {
				return true
			}
		}
	}
	return false
}

// index is the state file turned into what Take compares against.
type index struct {
	// files maps a path relative to the asset directory (forward slashes) to
	// the authoritative generated version.
	files map[string]generated
	// known holds every file name any entry mentions: a file the installer
	// knows is never user-added, even when we do not know which entry is
	// authoritative for it.
	known map[string]bool
	// vouched holds the generated names that are the installer's own: held
	// by an entry other than the two that absorb the user's files
	// (*manifests.Manifests, *manifests.Openshift), rendered from a template
	// entry, or cluster-config.yaml. Another name in those two entries may be
	// a file the user added that an earlier run absorbed: it never becomes a
	// label.
	vouched map[string]bool
	// written lists, per `create manifests` target entry, the files it wrote,
	// when that was the last command that wrote assets (nil otherwise).
	written [][]string
	infraID string
}

// newIndex orders the entries by authority (sourceEntries, then targets).
func newIndex(st *stateFile) *index {
	ix := &index{files: map[string]generated{}, known: map[string]bool{}, infraID: st.infraID}
	add := func(keys []string) {
		for _, k := range keys {
			for _, f := range st.entries[k] {
				p := cleanName(f.name)
				if _, dup := ix.files[p]; !dup && p != "" {
					ix.files[p] = generated{data: f.data}
				}
			}
		}
	}
	add(sourceEntries)
	add(manifestTargets)
	add(ignitionTargets)
	add([]string{installConfigEntry})
	ix.vouched = map[string]bool{clusterConfigName: true}
	for k, files := range st.entries {
		absorbing := k == manifestsEntry || k == openshiftEntry
		for _, f := range files {
			p := cleanName(f.name)
			ix.known[p] = true
			if !absorbing {
				ix.vouched[p] = true
			}
			if base, ok := strings.CutPrefix(p, "templates/"); ok {
				base = strings.TrimSuffix(base, ".template")
				for _, v := range []string{"manifests/" + base, "openshift/" + base, "openshift/99_" + base} {
					ix.vouched[v] = true
				}
			}
		}
	}
	manifestsLevel := st.seen(manifestsEntry)
	for _, k := range afterManifests {
		if st.seen(k) {
			manifestsLevel = false
		}
	}
	if manifestsLevel {
		for _, k := range manifestTargets {
			var names []string
			for _, f := range st.entries[k] {
				if p := cleanName(f.name); inAssetDirs(p) {
					names = append(names, p)
				}
			}
			if len(names) > 0 {
				ix.written = append(ix.written, names)
			}
		}
	}
	return ix
}

// cleanName turns a state-file name into a relative slash path; names that
// leave the directory become "".
func cleanName(name string) string {
	p := path.Clean(name)
	if p == "." || path.IsAbs(p) || p == ".." || strings.HasPrefix(p, "../") {
		return ""
	}
	return p
}
