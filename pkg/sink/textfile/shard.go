package textfile

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"

	"github.com/install-metrics/install-metrics/pkg/metrics"
	"github.com/install-metrics/install-metrics/pkg/sink"
)

// A textfile PATH keeps the counter families; the histogram families (each
// series carries a version label) live in one shard file per version
// beside it, PATH's name with ".histograms-<version>" before ".prom". A run
// then rewrites PATH (small: one line per counter series) and the one shard
// of its version, not the histograms of every version ever installed.
// node_exporter's textfile collector reads every *.prom file of its
// directory and merges same-named families whose HELP and TYPE agree; each
// series is in exactly one file.
const shardInfix = ".histograms-"

// sharded reports whether a family's series live in the shards (our
// histogram families) rather than in PATH.
func sharded(family string) bool { return metrics.KindOf(family) == metrics.Histogram }

// shardPrefix is the start of the names of path's shards.
func shardPrefix(path string) string {
	return strings.TrimSuffix(filepath.Base(path), ".prom") + shardInfix
}

// ShardPath returns the file beside the textfile at path that holds the
// histograms of version: dir/metrics.histograms-4.16.prom for
// dir/metrics.prom (PATH.histograms-4.16.prom for a path not ending in
// .prom). A version outside the version label's closed set, or one that
// could not safely name a file, is an error.
func ShardPath(path, version string) (string, error) {
	if !safeVersion(version) {
		return "", fmt.Errorf("textfile %s: the version label %q cannot name a histogram shard", path, version)
	}
	return filepath.Join(filepath.Dir(path), shardPrefix(path)+version+".prom"), nil
}

// safeVersion accepts a value of the version label's closed set (4.16,
// 4.17-pre, 4.5-okd, dev, unknown) and nothing that could leave the
// directory or hide a file: lower-case letters, digits, dots and dashes
// only, no "..", no leading dot or dash.
func safeVersion(v string) bool {
	if v == "" || len(v) > 16 || v[0] == '.' || v[0] == '-' || strings.Contains(v, "..") {
		return false
	}
	for _, c := range []byte(v) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'z') && c != '.' && c != '-' {
			return false
		}
	}
	return metrics.NormalizeVersion(v) == v
}

// shard is one shard file of a textfile.
type shard struct {
	path, version string
}

// shardFiles lists the shards of path that exist, sorted by version name.
// A missing directory has none.
func shardFiles(path string) ([]shard, error) {
	dir := filepath.Dir(path)
	des, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing the histogram shards of textfile %s: %w", path, err)
	}
	prefix := shardPrefix(path)
	var out []shard
	for _, de := range des {
		name := de.Name()
		v, ok := strings.CutPrefix(name, prefix)
		if !ok || !strings.HasSuffix(v, ".prom") {
			continue
		}
		if v = strings.TrimSuffix(v, ".prom"); safeVersion(v) {
			out = append(out, shard{filepath.Join(dir, name), v})
		}
	}
	return out, nil
}

// Files returns the textfile at path, when it exists, and the histogram
// shards beside it: every file that holds its series, path first.
func Files(path string) ([]string, error) {
	var out []string
	if _, err := os.Lstat(path); err == nil {
		out = append(out, path)
	}
	shards, err := shardFiles(path)
	if err != nil {
		return nil, err
	}
	for _, s := range shards {
		out = append(out, s.path)
	}
	return out, nil
}

// splitFamilies separates the counter families of mfs (PATH's) from the
// histogram series, which it groups by version into new families. Series
// whose version cannot name a shard stay with the counters when keepBad
// (a file's own content is never lost) and are an error otherwise (a batch
// we are about to write).
func splitFamilies(mfs []*dto.MetricFamily, keepBad bool) (main []*dto.MetricFamily, byVersion map[string][]*dto.MetricFamily, err error) {
	byVersion = map[string][]*dto.MetricFamily{}
	ok := map[string]bool{}
	for _, mf := range mfs {
		if !sharded(mf.GetName()) {
			main = append(main, mf)
			continue
		}
		var bad []*dto.Metric
		parts := map[string]*dto.MetricFamily{}
		for _, m := range mf.Metric {
			v := versionOf(m)
			safe, seen := ok[v]
			if !seen {
				safe = safeVersion(v)
				ok[v] = safe
			}
			if !safe {
				if !keepBad {
					return nil, nil, fmt.Errorf("%s has the version label %q, which cannot name a histogram shard", mf.GetName(), v)
				}
				bad = append(bad, m)
				continue
			}
			p := parts[v]
			if p == nil {
				p = &dto.MetricFamily{Name: mf.Name, Help: mf.Help, Type: mf.Type}
				parts[v] = p
				byVersion[v] = append(byVersion[v], p)
			}
			p.Metric = append(p.Metric, m)
		}
		if len(bad) > 0 {
			main = append(main, &dto.MetricFamily{Name: mf.Name, Help: mf.Help, Type: mf.Type, Metric: bad})
		}
	}
	return main, byVersion, nil
}

// sortedFamilies returns the families of a parsed file sorted by name.
func sortedFamilies(mfs map[string]*dto.MetricFamily) []*dto.MetricFamily {
	out := make([]*dto.MetricFamily, 0, len(mfs))
	for _, name := range metrics.SortedKeys(mfs) {
		out = append(out, mfs[name])
	}
	return out
}

func versionOf(m *dto.Metric) string {
	for _, l := range m.Label {
		if l.GetName() == "version" {
			return l.GetValue()
		}
	}
	return ""
}

// parseShard parses the shard of version: it may hold only our histogram
// families, each series of that version (else another file could hold the
// same series, which node_exporter refuses).
func parseShard(path, version string, data []byte) (map[string]*dto.MetricFamily, error) {
	mfs, err := parseText(path, data)
	if err != nil {
		return nil, err
	}
	for name, mf := range mfs {
		if !sharded(name) {
			return nil, corrupt(path, fmt.Sprintf("a histogram shard holds %s", name))
		}
		for _, m := range mf.Metric {
			if v := versionOf(m); v != version {
				return nil, corrupt(path, fmt.Sprintf("the shard of version %s holds %s of version %q", version, name, v))
			}
		}
	}
	return mfs, nil
}

// hasShardedFamilies reports whether a textfile's text holds one of our
// histogram families (the encoder and any file that parses as ours give
// each a TYPE line): a PATH written before the shards, whose histograms
// are yet to move.
func hasShardedFamilies(data []byte) bool {
	for _, name := range []string{metrics.StageDurationFamily, metrics.CommandDurationFamily} {
		if bytes.Contains(data, []byte("# TYPE "+name+" ")) {
			return true
		}
	}
	return false
}

// absorbedPrefix starts the comment line, after the applied ids, of a
// shard written while moving the histograms out of a PATH written before
// the shards: it names PATH's content (its CRC-32C and size) whose
// histograms of that version the shard now holds. PATH is rewritten
// without them next; while it still has exactly that content (a kill
// between the renames), they are not added again, and readers count them
// once. Any later rewrite of the shard drops the line.
const absorbedPrefix = "# install-metrics absorbed "

// absorbedLine names data, PATH's whole content.
func absorbedLine(data []byte) []byte {
	return fmt.Appendf(nil, "%scrc32c=%08x size=%d\n", absorbedPrefix, crc32.Checksum(data, castagnoli()), len(data))
}

// absorbedOf returns the absorbed line of a shard (after its checksum and
// applied-id lines), nil when it has none.
func absorbedOf(data []byte) []byte {
	if _, rest, ok := cutLine(data, checksumPrefix); ok {
		data = rest
	}
	line, _, ok := cutLine(skipApplied(data), absorbedPrefix)
	if !ok || !bytes.HasSuffix(line, []byte{'\n'}) {
		return nil
	}
	return line
}

// skipMeta returns a body after its applied-id and absorbed lines.
func skipMeta(body []byte) []byte {
	_, rest, _ := cutLine(skipApplied(body), absorbedPrefix)
	return rest
}

// dropVersion removes the histogram series of version from mfs.
func dropVersion(mfs map[string]*dto.MetricFamily, version string) {
	for name, mf := range mfs {
		if !sharded(name) {
			continue
		}
		mf.Metric = slices.DeleteFunc(mf.Metric, func(m *dto.Metric) bool { return versionOf(m) == version })
		if len(mf.Metric) == 0 {
			delete(mfs, name)
		}
	}
}

func corrupt(path, reason string) error { return &sink.CorruptError{Path: path, Reason: reason} }
