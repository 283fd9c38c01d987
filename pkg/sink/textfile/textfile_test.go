package textfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"

	"github.com/install-metrics/install-metrics/pkg/metrics"
	"github.com/install-metrics/install-metrics/pkg/metrics/metricstest"
	"github.com/install-metrics/install-metrics/pkg/sink"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func send(t testing.TB, tf *Textfile, samples []metrics.Sample) {
	t.Helper()
	if err := tf.Send(t.Context(), sink.Batch{Samples: samples}); err != nil {
		t.Fatal(err)
	}
}

// stageBuckets reads the stage histogram's one series from the file.
func stageBuckets(t *testing.T, path string) (map[string]uint64, *dto.Histogram) {
	t.Helper()
	mfs, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	mf := mfs[metrics.StageDurationFamily]
	if mf == nil || len(mf.Metric) != 1 {
		t.Fatalf("stage family: %v", mf)
	}
	h := mf.Metric[0].GetHistogram()
	got := map[string]uint64{}
	for _, b := range h.GetBucket() {
		got[fmt.Sprint(b.GetUpperBound())] = b.GetCumulativeCount()
	}
	return got, h
}

// The bucket edges (59 s, 60 s, 61 s, 3 h, 30 h), one run at a time: the
// file holds the exact cumulative counts, through the fast path (runs after
// the first add in place) and through the full parse (a new series each
// run) alike.
func TestTextfileHistogramBucketEdges(t *testing.T) {
	for _, mode := range []string{"in place", "full parse"} {
		t.Run(mode, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "metrics.prom")
			tf := New(path, nil, nil)
			for i, inv := range metricstest.EdgeInvocations() {
				smp := metrics.Samples(inv, metrics.SampleOptions{})
				if mode == "full parse" {
					smp = append(smp, metrics.Sample{Name: metrics.ModificationFamily, Value: 1,
						Labels: []metrics.Label{{Name: "asset", Value: fmt.Sprintf("manifests/new-%d.yaml", i)}}})
				}
				send(t, tf, smp)
			}
			got, h := stageBuckets(t, path)
			if diff := cmp.Diff(metricstest.EdgeBuckets, got); diff != "" {
				t.Errorf("buckets mismatch (-want +got):\n%s", diff)
			}
			if h.GetSampleCount() != 5 || h.GetSampleSum() != metricstest.EdgeSum {
				t.Errorf("count %d sum %v", h.GetSampleCount(), h.GetSampleSum())
			}
		})
	}
}

// The fast path and the full parse give byte-identical files with
// histograms too: the textfile and each shard.
func TestTextfileHistogramFastPathMatchesFullParse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.prom")
	tf := New(path, nil, nil)
	var all []metrics.Sample
	invs := append(metricstest.EdgeInvocations(), metricstest.EdgeInvocations()...)
	for i, inv := range invs {
		inv.Wall += time.Duration(i) * 1234567 * time.Microsecond // sums that are not whole
		smp := metrics.Samples(inv, metrics.SampleOptions{})
		all = append(all, smp...)
		data, err := os.ReadFile(path)
		fast := err == nil && Verified(data)
		send(t, tf, smp)
		want, err := Canonical(path, all)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, readFiles(t, path)); diff != "" {
			t.Fatalf("run %d (fast path possible: %v) mismatch (-want +got):\n%s", i, fast, diff)
		}
	}
}

// readFiles returns the content of the textfile at path and of its shards,
// by path.
func readFiles(t testing.TB, path string) map[string][]byte {
	t.Helper()
	files, err := Files(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[f] = data
	}
	return out
}

func TestTextfileCorruptHistograms(t *testing.T) {
	const series = `{ci="false",finished="true",platform="aws",stage="api",version="4.16"}`
	name := metrics.StageDurationFamily
	for what, content := range map[string]string{
		"another type":  "# TYPE " + name + " counter\n" + name + series + " 3\n",
		"not monotonic": "# TYPE " + name + " histogram\n" + name + `_bucket{le="60"} 3` + "\n" + name + `_bucket{le="120"} 2` + "\n" + name + `_bucket{le="+Inf"} 3` + "\n" + name + "_sum 10\n" + name + "_count 3\n",
		"negative sum":  "# TYPE " + name + " histogram\n" + name + `_bucket{le="+Inf"} 1` + "\n" + name + "_sum -5\n" + name + "_count 1\n",
	} {
		t.Run(what, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "metrics.prom")
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := Read(path); err == nil {
				t.Fatal("read as ours")
			}
			var notes []string
			now := func() time.Time { return time.Date(2026, 11, 23, 18, 30, 0, 0, time.UTC) }
			tf := New(path, now, func(err error) { notes = append(notes, err.Error()) })
			send(t, tf, metrics.Samples(metricstest.EdgeInvocations()[0], metrics.SampleOptions{}))
			if len(notes) != 1 || !strings.Contains(notes[0], "was corrupt") {
				t.Errorf("notes %q", notes)
			}
			if aside, err := os.ReadFile(path + ".corrupt-20261123T183000Z"); err != nil || string(aside) != content {
				t.Errorf("moved aside: %v %q", err, aside)
			}
			if _, err := Read(path); err != nil {
				t.Errorf("fresh file: %v", err)
			}
		})
	}
}

// histogramFile writes a textfile (and its shards) holding 1,000 counter series and the
// stage and command histograms of 50 versions × 14 platforms (five stages
// each), the benchmark run's own series among them.
func histogramFile(b *testing.B, path string, run []metrics.Sample) {
	platforms := []string{"aws", "azure", "gcp", "vsphere", "baremetal", "openstack", "ovirt", "ibmcloud",
		"powervs", "nutanix", "alibabacloud", "libvirt", "external", "none"}
	out := append([]metrics.Sample(nil), run...)
	results := []string{"Success", "InvalidConfig", "ProvisioningFailed", "APIFailed", "BootstrapFailed", "OperatorsDegraded", "Interrupted", "Failed"}
	for i := range 1000 - 3 {
		out = append(out, metrics.Sample{Name: metrics.InvocationFamily, Value: float64(i%7 + 1), Labels: []metrics.Label{
			{Name: "command", Value: "create"}, {Name: "target", Value: "cluster"}, {Name: "os", Value: "linux"},
			{Name: "platform", Value: platforms[i%14]}, {Name: "result", Value: results[(i/14)%8]}, {Name: "return", Value: "0"},
			{Name: "version", Value: fmt.Sprintf("4.%d", i/112)}, {Name: "duration", Value: "2.5"}, {Name: "ci", Value: "false"}}})
	}
	for v := range 50 {
		for _, p := range platforms {
			version := fmt.Sprintf("4.%d", v+1)
			for j, st := range []string{"provisioning", "infrastructure", "api", "bootstrap", "operators"} {
				out = append(out, metrics.Sample{Name: metrics.StageDurationFamily, Kind: metrics.Histogram, Value: float64(60 * (j + 1) * (v + 1)),
					Labels: []metrics.Label{{Name: "stage", Value: st}, {Name: "finished", Value: "true"}, {Name: "version", Value: version},
						{Name: "platform", Value: p}, {Name: "ci", Value: "false"}}})
			}
			out = append(out, metrics.Sample{Name: metrics.CommandDurationFamily, Kind: metrics.Histogram, Value: float64(2400 + v),
				Labels: []metrics.Label{{Name: "command", Value: "create"}, {Name: "target", Value: "cluster"}, {Name: "result", Value: "Success"},
					{Name: "version", Value: version}, {Name: "platform", Value: p}, {Name: "ci", Value: "false"}}})
		}
	}
	if err := New(path, nil, nil).Send(b.Context(), sink.Batch{Samples: out}); err != nil {
		b.Fatal(err)
	}
	// The file is beyond DefaultShardAt: the next update moves its
	// histograms into their shards, as on a machine whose textfile grew.
	if err := New(path, nil, nil).Send(b.Context(), sink.Batch{Samples: run}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkTextfileUpdateWithHistograms: one run's update (counters and
// histograms) of a textfile holding 1,000 counter series plus the
// histograms of 50 versions × 14 platforms, the run's series among them
// (target: median at most 2 ms), lock, fsync and rename included. The
// histograms are in 50 shards: the run rewrites the textfile and its
// version's shard. file-MB is the size of all 51 files.
func BenchmarkTextfileUpdateWithHistograms(b *testing.B) {
	path := filepath.Join(b.TempDir(), "metrics.prom")
	run := metrics.Samples(metricstest.Invocations()["create-cluster-success"], metrics.SampleOptions{})
	histogramFile(b, path, run)
	files, err := Files(path)
	if err != nil || len(files) != 51 {
		b.Fatalf("%d files: %v", len(files), err)
	}
	tf := New(path, nil, nil)
	var ds []time.Duration
	for b.Loop() {
		start := time.Now()
		if err := tf.Send(b.Context(), sink.Batch{Samples: run}); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(start))
	}
	b.ReportMetric(metricstest.MedianMS(ds), "median-ms")
	var size int64
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			size += fi.Size()
		}
	}
	b.ReportMetric(float64(size)/1e6, "file-MB")
}
