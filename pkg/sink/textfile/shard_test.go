package textfile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/install-metrics/install-metrics/pkg/metrics"
	"github.com/install-metrics/install-metrics/pkg/metrics/metricstest"
	"github.com/install-metrics/install-metrics/pkg/sink"
)

// runOf is one create-cluster run of an installer version.
func runOf(version string) []metrics.Sample {
	inv := metricstest.Invocations()["create-cluster-success"]
	inv.Version = version
	return metrics.Samples(inv, metrics.SampleOptions{})
}

// mergedText is the merged view of a textfile and its shards (ReadFamilies)
// in the text format.
func mergedText(t *testing.T, path string) string {
	t.Helper()
	mfs, err := ReadFamilies(path)
	if err != nil {
		t.Fatal(err)
	}
	text, err := metrics.EncodeText(mfs)
	if err != nil {
		t.Fatal(err)
	}
	return string(text)
}

// sampleText is what the merged view must show for samples.
func sampleText(t *testing.T, samples ...[]metrics.Sample) string {
	t.Helper()
	text, err := metrics.Text(slices.Concat(samples...))
	if err != nil {
		t.Fatal(err)
	}
	return string(text)
}

// seriesOnce checks what node_exporter needs to merge the files: each
// parses on its own and no series is in two of them.
func seriesOnce(t *testing.T, path string) {
	t.Helper()
	files, err := Files(path)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p := expfmt.NewTextParser(model.LegacyValidation)
		mfs, err := p.TextToMetricFamilies(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for name, mf := range mfs {
			for _, m := range mf.Metric {
				k := name + "{" + labelKey(m) + "}"
				if other, ok := seen[k]; ok {
					t.Errorf("series %q in %s and %s", k, other, f)
				}
				seen[k] = f
			}
		}
	}
}

// The counters stay in PATH; the histograms of each version are in their
// own shard beside it, named so that node_exporter reads them; the merged
// view has them all.
func TestTextfileShardLayout(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "metrics.prom")
	tf := sharding(path, nil, nil)
	var all []metrics.Sample
	for _, v := range []string{"4.16.3", "4.17.0-rc.1", "4.5.0-okd", "unreleased-master-123", ""} {
		all = append(all, runOf(v)...)
		send(t, tf, runOf(v))
	}
	versions := []string{"4.16", "4.17-pre", "4.5-okd", "dev", "unknown"}
	want := []string{path}
	for _, v := range versions {
		want = append(want, filepath.Join(dir, "metrics.histograms-"+v+".prom"))
	}
	got, err := Files(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	data, _ := os.ReadFile(path)
	mfs, err := parseText(path, data)
	if err != nil {
		t.Fatal(err)
	}
	for name, mf := range mfs {
		if sharded(name) || mf.GetType().String() != "COUNTER" {
			t.Errorf("the textfile holds %s (%v)", name, mf.GetType())
		}
	}
	for i, v := range versions {
		data, _ := os.ReadFile(want[i+1])
		mfs, err := parseShard(want[i+1], v, data)
		if err != nil {
			t.Fatal(err)
		}
		if names := metrics.SortedKeys(mfs); !slices.Equal(names, []string{metrics.CommandDurationFamily, metrics.StageDurationFamily}) {
			t.Errorf("shard %s holds %v", v, names)
		}
	}
	if diff := cmp.Diff(sampleText(t, all), mergedText(t, path)); diff != "" {
		t.Errorf("merged view (-want +got):\n%s", diff)
	}
	seriesOnce(t, path)

	// The shards alone (the textfile deleted) still read; nothing at all is
	// fs.ErrNotExist.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if mfs, err := Read(path); err != nil || mfs[metrics.StageDurationFamily] == nil || mfs[metrics.InvocationFamily] != nil {
		t.Errorf("shards alone: %v", err)
	}
	if _, err := Read(filepath.Join(dir, "other.prom")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("nothing: %v", err)
	}
}

func TestShardPath(t *testing.T) {
	for path, want := range map[string]string{
		"/x/metrics.prom": "/x/metrics.histograms-4.16.prom",
		"/x/m.txt":        "/x/m.txt.histograms-4.16.prom",
		"/x/.prom":        "/x/.histograms-4.16.prom",
	} {
		if got, err := ShardPath(path, "4.16"); err != nil || got != want {
			t.Errorf("ShardPath(%q) = %q, %v; want %q", path, got, err, want)
		}
	}
	for _, v := range []string{"4.16", "4.17-pre", "4.5-okd", "99.999-okd", "dev", "unknown"} {
		if _, err := ShardPath("/x/m.prom", v); err != nil {
			t.Errorf("%q: %v", v, err)
		}
	}
	for _, v := range []string{"", "..", "../4.16", "4.16/..", "4.16/x", ".4.16", "-4.16", "4.16.3", "4.16.prom",
		"4.16-rc.1", "4.16-PRE", "V4.16", "other", "4.16\x00", "4.16\n", strings.Repeat("1", 40)} {
		if p, err := ShardPath("/x/m.prom", v); err == nil {
			t.Errorf("%q names %s", v, p)
		}
	}
}

// A batch whose histogram carries a version that cannot name a file is
// refused before anything is written.
func TestTextfileRefusesUnsafeVersion(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "metrics.prom")
	bad := metrics.Sample{Name: metrics.StageDurationFamily, Kind: metrics.Histogram, Value: 60, Labels: []metrics.Label{
		{Name: "stage", Value: "api"}, {Name: "finished", Value: "true"}, {Name: "version", Value: "../../etc/x"},
		{Name: "platform", Value: "aws"}, {Name: "ci", Value: "false"}}}
	err := sharding(path, nil, nil).Send(t.Context(), sink.Batch{Samples: append(runOf("4.16"), bad)})
	if err == nil || !strings.Contains(err.Error(), `version label "../../etc/x", which cannot name a histogram shard`) {
		t.Errorf("err %v", err)
	}
	if des, _ := os.ReadDir(dir); len(des) != 0 {
		t.Errorf("files written: %v", des)
	}
}

// failRename makes the nth rename of tf fail, as a kill there would stop
// the update (the renames before it done, none after).
func failRename(tf *Textfile, n int) {
	calls := 0
	tf.rename = func(oldpath, newpath string) error {
		calls++
		if calls == n {
			return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: syscall.EIO}
		}
		return os.Rename(oldpath, newpath)
	}
}

// noTemporaries checks that an update left no temporary file behind.
func noTemporaries(t *testing.T, dir string) {
	t.Helper()
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// An update stopped between its renames (the shard renamed, the textfile
// not, or neither) and sent again with the same id adds the batch exactly
// once to each file.
func TestTextfileShardsExactlyOnceAcrossKill(t *testing.T) {
	run := runOf("4.16.3")
	for _, failAt := range []int{1, 2} { // the shard's rename, the textfile's
		t.Run(map[int]string{1: "before the shard", 2: "between the renames"}[failAt], func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "metrics.prom")
			tf := sharding(path, nil, nil)
			send(t, tf, run)
			failRename(tf, failAt)
			err := tf.Send(t.Context(), sink.Batch{Samples: run, ID: testID(1)})
			var nd *sink.NotDeliveredError
			if !errors.As(err, &nd) {
				t.Fatalf("err %v, want not delivered", err)
			}
			noTemporaries(t, dir)
			shard, _ := ShardPath(path, "4.16")
			main, _ := os.ReadFile(path)
			sh, _ := os.ReadFile(shard)
			if got := [2]bool{slices.Contains(appliedIDs(main), testID(1)), slices.Contains(appliedIDs(sh), testID(1))}; got != [2]bool{false, failAt == 2} {
				t.Errorf("id in (textfile, shard): %v", got)
			}
			tf.rename = os.Rename
			for range 2 {
				if err := tf.Send(t.Context(), sink.Batch{Samples: run, ID: testID(1)}); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(sampleText(t, run, run), mergedText(t, path)); diff != "" {
				t.Errorf("merged view (-want +got):\n%s", diff)
			}
			for _, f := range []string{path, shard} {
				data, _ := os.ReadFile(f)
				if !Verified(data) || !slices.Equal(appliedIDs(data), []string{testID(1)}) {
					t.Errorf("%s: verified %v, ids %v", f, Verified(data), appliedIDs(data))
				}
			}
		})
	}
}

// syncFailing is a temporary file whose fsync fails.
type syncFailing struct{ *os.File }

func (syncFailing) Sync() error { return syscall.EIO }

// A failed fsync of either file leaves both as they were.
func TestTextfileShardsSyncFailure(t *testing.T) {
	for _, which := range []string{"metrics.prom", "metrics.histograms-4.16.prom"} {
		t.Run(which, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "metrics.prom")
			tf := sharding(path, nil, nil)
			send(t, tf, runOf("4.16.3"))
			before := readFiles(t, path)
			tf.CreateTemp = func(dir, pattern string) (TempFile, error) {
				f, err := os.CreateTemp(dir, pattern)
				if err == nil && strings.HasPrefix(pattern, "."+which+".tmp-") {
					return syncFailing{f}, nil
				}
				return f, err
			}
			err := tf.Send(t.Context(), sink.Batch{Samples: runOf("4.16.3")})
			if err == nil || !strings.Contains(err.Error(), "writing textfile "+filepath.Join(dir, which)+": input/output error") {
				t.Errorf("err %v", err)
			}
			if diff := cmp.Diff(before, readFiles(t, path)); diff != "" {
				t.Errorf("files changed (-before +after):\n%s", diff)
			}
			noTemporaries(t, dir)
		})
	}
}

// legacyFile writes, at path, the single file an install-metrics older
// than the shards wrote for samples: every family, checksum and applied ids.
func legacyFile(t *testing.T, path string, samples []metrics.Sample, ids ...string) []byte {
	t.Helper()
	body, err := metrics.Text(samples)
	if err != nil {
		t.Fatal(err)
	}
	block := appliedBlock(ids)
	data := slices.Concat(checksumLine(block, body), block, body)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return data
}

// histogramsOf keeps the histogram observations of samples.
func histogramsOf(samples []metrics.Sample) []metrics.Sample {
	return slices.DeleteFunc(slices.Clone(samples), func(s metrics.Sample) bool { return s.Kind != metrics.Histogram })
}

// A textfile written before the shards has its histograms moved into them
// by the first update: nothing counted twice, nothing lost, wherever a kill
// stops that update (every rename in turn fails, and the batch is sent
// again), and readers count once in between.
func TestTextfileMigration(t *testing.T) {
	var old []metrics.Sample
	for _, v := range []string{"4.15.2", "4.16.3", "4.16.9", "4.17.0-ec.2"} {
		old = append(old, runOf(v)...)
	}
	run := runOf("4.16.1")
	versions := []string{"4.15", "4.16", "4.17-pre"}
	// The renames go shards last to first, then the textfile: 4.17-pre,
	// 4.16 (the batch's), 4.15, PATH.
	for failAt := range len(versions) + 2 {
		name := "no kill"
		if failAt > 0 {
			name = "rename " + string(rune('0'+failAt)) + " fails"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "metrics.prom")
			legacy := legacyFile(t, path, old, testID(1))
			tf := sharding(path, nil, func(err error) { t.Errorf("note: %v", err) })
			if failAt > 0 {
				failRename(tf, failAt)
				if err := tf.Send(t.Context(), sink.Batch{Samples: run, ID: testID(2)}); err == nil {
					t.Fatal("the failed rename went unnoticed")
				}
				noTemporaries(t, dir)
				if data, _ := os.ReadFile(path); !bytes.Equal(data, legacy) {
					t.Fatal("the textfile changed")
				}
				// Readers count what is there once: the batch's
				// histograms when their shard was renamed (the second).
				want := sampleText(t, old)
				if failAt > 2 {
					want = sampleText(t, old, histogramsOf(run))
				}
				if diff := cmp.Diff(want, mergedText(t, path)); diff != "" {
					t.Errorf("merged view in between (-want +got):\n%s", diff)
				}
				tf.rename = os.Rename
			}
			for range 2 { // the batch sent again is added once
				if err := tf.Send(t.Context(), sink.Batch{Samples: run, ID: testID(2)}); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(sampleText(t, old, run), mergedText(t, path)); diff != "" {
				t.Errorf("merged view (-want +got):\n%s", diff)
			}
			files, _ := Files(path)
			if len(files) != 1+len(versions) {
				t.Errorf("files %v", files)
			}
			data, _ := os.ReadFile(path)
			if hasShardedFamilies(data) || !Verified(data) {
				t.Errorf("the textfile still holds histograms (or no checksum):\n%s", data)
			}
			if ids := appliedIDs(data); !slices.Equal(ids, []string{testID(1), testID(2)}) {
				t.Errorf("textfile ids %v", ids)
			}
			seriesOnce(t, path)
			noTemporaries(t, dir)

			// The next run takes the fast path on both files and drops
			// the absorbed line of its shard.
			send(t, tf, run)
			if diff := cmp.Diff(sampleText(t, old, run, run), mergedText(t, path)); diff != "" {
				t.Errorf("after the next run (-want +got):\n%s", diff)
			}
			shard, _ := ShardPath(path, "4.16")
			if sh, _ := os.ReadFile(shard); absorbedOf(sh) != nil || !Verified(sh) {
				t.Errorf("shard after the next run:\n%.300s", sh)
			}
		})
	}
}

// A batch the old single file already holds (sent again after a kill
// between its rename and the journal's last write, by the new version) is
// not added to the shards either: they inherit the file's applied ids.
func TestTextfileMigrationKeepsAppliedIDs(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "metrics.prom")
	old := slices.Concat(runOf("4.15.2"), runOf("4.16.3"))
	legacyFile(t, path, old, testID(1))
	tf := sharding(path, nil, nil)
	if err := tf.Send(t.Context(), sink.Batch{Samples: runOf("4.16.3"), ID: testID(1)}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sampleText(t, old), mergedText(t, path)); diff != "" {
		t.Errorf("merged view (-want +got):\n%s", diff)
	}
	shard, _ := ShardPath(path, "4.16")
	if sh, _ := os.ReadFile(shard); !slices.Equal(appliedIDs(sh), []string{testID(1)}) {
		t.Errorf("shard ids %v", appliedIDs(sh))
	}
}

// A corrupt shard is moved aside on its own, with one note; the textfile
// and the other shards keep everything.
func TestTextfileCorruptShard(t *testing.T) {
	name := metrics.StageDurationFamily
	for what, content := range map[string]string{
		"garbage":       "this is not { exposition\n",
		"other version": "# TYPE " + name + " histogram\n" + name + `_bucket{ci="false",finished="true",platform="aws",stage="api",version="4.17",le="+Inf"} 1` + "\n" + name + `_sum{ci="false",finished="true",platform="aws",stage="api",version="4.17"} 5` + "\n" + name + `_count{ci="false",finished="true",platform="aws",stage="api",version="4.17"} 1` + "\n",
		"a counter":     "# TYPE cluster_installation_invocation counter\ncluster_installation_invocation 1\n",
	} {
		t.Run(what, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "metrics.prom")
			var notes []string
			now := func() time.Time { return time.Date(2026, 11, 23, 18, 30, 0, 0, time.UTC) }
			tf := sharding(path, now, func(err error) { notes = append(notes, err.Error()) })
			send(t, tf, runOf("4.16.3"))
			send(t, tf, runOf("4.17.1"))
			shard, _ := ShardPath(path, "4.16")
			if err := os.WriteFile(shard, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			var ce *sink.CorruptError
			if _, err := Read(path); !errors.As(err, &ce) || ce.Path != shard {
				t.Errorf("Read: %v", err)
			}
			other, _ := ShardPath(path, "4.17")
			before, _ := os.ReadFile(other)
			send(t, tf, runOf("4.16.3"))
			want := "textfile " + shard + " was corrupt ("
			if len(notes) != 1 || !strings.HasPrefix(notes[0], want) || !strings.HasSuffix(notes[0], "): moved aside to metrics.histograms-4.16.prom.corrupt-20261123T183000Z, started a fresh one") {
				t.Errorf("notes %q", notes)
			}
			if aside, err := os.ReadFile(shard + ".corrupt-20261123T183000Z"); err != nil || string(aside) != content {
				t.Errorf("moved aside: %v %q", err, aside)
			}
			if after, _ := os.ReadFile(other); !bytes.Equal(before, after) {
				t.Error("the other shard changed")
			}
			// The counters of all three runs, the 4.16 histograms of the
			// last run only (the others moved aside), the 4.17 ones.
			counters := slices.DeleteFunc(slices.Concat(runOf("4.16.3"), runOf("4.17.1"), runOf("4.16.3")), func(s metrics.Sample) bool { return s.Kind == metrics.Histogram })
			if diff := cmp.Diff(sampleText(t, counters, histogramsOf(runOf("4.17.1")), histogramsOf(runOf("4.16.3"))), mergedText(t, path)); diff != "" {
				t.Errorf("merged view (-want +got):\n%s", diff)
			}
		})
	}
}

// sharding is New with the histograms in shards from the first update, as
// a textfile beyond ShardAt has them.
func sharding(path string, now func() time.Time, note func(error)) *Textfile {
	tf := New(path, now, note)
	tf.ShardAt = -1
	return tf
}

// Below ShardAt, with no shard yet, PATH holds everything (one file, one
// fsync per run); the update that finds PATH at ShardAt or beyond moves
// the histograms into their shards, and from then on they stay there,
// whatever PATH's size. Every series is counted once throughout.
func TestTextfileShardsFromShardAt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.prom")
	tf := New(path, nil, nil)
	tf.ShardAt = 4 << 10
	send := func() {
		t.Helper()
		if err := tf.Send(t.Context(), sink.Batch{Samples: runOf("4.16")}); err != nil {
			t.Fatal(err)
		}
	}
	files := func() []string {
		t.Helper()
		fs, err := Files(path)
		if err != nil {
			t.Fatal(err)
		}
		return fs
	}
	send()
	if fs := files(); len(fs) != 1 {
		t.Fatalf("below ShardAt: files %v, want PATH alone", fs)
	}
	for range 3 {
		send()
	}
	if fs := files(); len(fs) != 2 {
		t.Fatalf("after PATH passed ShardAt: files %v, want PATH and the 4.16 shard", fs)
	}
	tf.ShardAt = 1 << 30 // PATH is small again: the shards stay in use
	send()
	if fs := files(); len(fs) != 2 {
		t.Errorf("with shards present: files %v", fs)
	}
	mfs, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mfs[metrics.CommandDurationFamily].GetMetric() {
		if c := m.GetHistogram().GetSampleCount(); c != 5 {
			t.Errorf("command duration count %d, want the 5 runs", c)
		}
	}
	if got := mfs[metrics.InvocationFamily].GetMetric()[0].GetCounter().GetValue(); got != 5 {
		t.Errorf("invocations %v, want 5", got)
	}
}
