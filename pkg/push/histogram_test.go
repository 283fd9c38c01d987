package push

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/install-metrics/install-metrics/pkg/metrics"
	"github.com/install-metrics/install-metrics/pkg/metrics/metricstest"
	"github.com/install-metrics/install-metrics/pkg/record"
	"github.com/install-metrics/install-metrics/pkg/sink/gateway/gatewaytest"
	"github.com/install-metrics/install-metrics/pkg/spool"
)

// edgeBuckets is metricstest.EdgeBuckets keyed by bound, as the fake
// gateway reports them.
func edgeBuckets() map[float64]uint64 {
	out := map[float64]uint64{math.Inf(1): metricstest.EdgeBuckets["+Inf"]}
	for _, b := range metrics.StageBounds {
		out[b] = metricstest.EdgeBuckets[strconv.FormatFloat(b, 'g', -1, 64)]
	}
	return out
}

func checkEdgeHistogram(t *testing.T, g *gatewaytest.Server) {
	t.Helper()
	h := g.Histogram(metrics.StageDurationFamily, map[string]string{"stage": "bootstrap", "job": Job})
	if diff := cmp.Diff(edgeBuckets(), h.Buckets); diff != "" {
		t.Errorf("stage buckets at the gateway mismatch (-want +got):\n%s", diff)
	}
	if h.Count != 5 || h.Sum != metricstest.EdgeSum {
		t.Errorf("count %d sum %v, want 5 %v", h.Count, h.Sum, float64(metricstest.EdgeSum))
	}
	if c := g.Histogram(metrics.CommandDurationFamily, nil); c.Count != 5 {
		t.Errorf("command histogram count %d, want 5", c.Count)
	}
}

// The bucket edges (59 s, 60 s, 61 s, 3 h, 30 h) pushed to the gateway
// fake, one run per push: exact cumulative counts after the merge.
func TestGatewayHistogramBucketEdges(t *testing.T) {
	g := newGatewayServer(t, gatewaytest.Options{})
	s := newSender(t, Config{}, g.URL)
	for _, inv := range metricstest.EdgeInvocations() {
		if rep := s.Send(t.Context(), inv); len(rep.Warnings) != 0 {
			t.Fatal(warnings(rep))
		}
	}
	checkEdgeHistogram(t, g)
}

// TestGatewayBoundsNeverDiffer: the gateway's merge is right only when
// every push has the same bounds (gatewaytest.TestMismatchedBoundsMergeWrong
// shows the wrong result otherwise). Many different runs pushed one by one
// give at the gateway exactly what summing them locally gives.
func TestGatewayBoundsNeverDiffer(t *testing.T) {
	g := newGatewayServer(t, gatewaytest.Options{})
	s := newSender(t, Config{}, g.URL)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var all []metrics.Sample
	for i := range 40 {
		d := time.Duration(i*i*37+1) * time.Second
		inv := record.Invocation{Command: "create", Target: "cluster", OS: "linux", Platform: []string{"aws", "gcp"}[i%2],
			Version: "4.16.1", Result: record.Success, Wall: d,
			Stages: []record.Stage{{Name: record.Bootstrap, Start: t0, End: t0.Add(d), Finished: true, Timed: true}}}
		all = append(all, metrics.Samples(inv, metrics.SampleOptions{})...)
		if rep := s.Send(t.Context(), inv); len(rep.Warnings) != 0 {
			t.Fatal(warnings(rep))
		}
	}
	mfs, err := metrics.Gather(all)
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if metrics.KindOf(mf.GetName()) != metrics.Histogram {
			continue
		}
		for _, m := range mf.Metric {
			match := map[string]string{}
			for _, l := range m.Label {
				match[l.GetName()] = l.GetValue()
			}
			want := map[float64]uint64{math.Inf(1): m.GetHistogram().GetSampleCount()}
			for _, b := range m.GetHistogram().GetBucket() {
				want[b.GetUpperBound()] = b.GetCumulativeCount()
			}
			got := g.Histogram(mf.GetName(), match)
			if diff := cmp.Diff(want, got.Buckets); diff != "" {
				t.Errorf("%s %v: gateway mismatch (-local +gateway):\n%s", mf.GetName(), match, diff)
			}
		}
	}
}

// The spool replays histograms exactly once: the edge runs spooled while
// the gateway is down arrive with exact counts at the first flush, and a
// second flush sends nothing.
func TestSpoolReplaysHistogramsOnce(t *testing.T) {
	g := newGatewayServer(t, gatewaytest.Options{})
	s := newSender(t, Config{}, g.URL)
	g.SetFault(gatewaytest.Fault{Kind: gatewaytest.Status, Status: 503})
	for _, inv := range metricstest.EdgeInvocations() {
		if rep := s.Send(t.Context(), inv); len(rep.Spooled) != 1 {
			t.Fatalf("not spooled: %q", warnings(rep))
		}
	}
	g.SetFault(gatewaytest.Fault{})
	if rep := s.Flush(t.Context()); rep.Flushed != 5 || len(rep.Warnings) != 0 {
		t.Fatalf("flush: %d %q", rep.Flushed, warnings(rep))
	}
	checkEdgeHistogram(t, g)
	if rep := s.Flush(t.Context()); rep.Flushed != 0 {
		t.Errorf("second flush sent %d", rep.Flushed)
	}
	checkEdgeHistogram(t, g)
}

// A version 1 entry (counter samples only, written before histograms)
// still reads and flushes.
func TestSpoolVersion1EntryFlushes(t *testing.T) {
	g := newGatewayServer(t, gatewaytest.Options{})
	s := newSender(t, Config{}, g.URL)
	var counters []metrics.Sample
	for _, smp := range metrics.Samples(testInv(), metrics.SampleOptions{}) {
		if smp.Kind == metrics.Counter {
			counters = append(counters, smp)
		}
	}
	entry := map[string]any{"version": 1, "sink": g.URL, "created": time.Now().UTC(), "samples": counters}
	data, err := json.Marshal(entry)
	if err != nil {
		t.Fatal(err)
	}
	dir := SpoolDir(s.cfg.StateDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	name := strconv.FormatInt(time.Now().UnixNano(), 10)
	for len(name) < 20 {
		name = "0" + name
	}
	name += "-" + spool.SinkHash(g.URL) + "-00000000.json"
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if rep := s.Flush(t.Context()); rep.Flushed != 1 || len(rep.Warnings) != 0 {
		t.Fatalf("flush: %d %q", rep.Flushed, warnings(rep))
	}
	if g.Value(metrics.InvocationFamily, nil) != 1 {
		t.Errorf("the version 1 entry's counter did not arrive")
	}
}

// Issue 16b: a spooled push that may have arrived (a 500, or no answer
// after the request was written) is dropped from the spool, never sent
// again by the next flush: the gateway sums, so a resend would count it
// twice.
func TestSpooledPushThatMayHaveArrivedIsNotResent(t *testing.T) {
	for name, fault := range map[string]gatewaytest.Fault{
		"500":                   {Kind: gatewaytest.Status, Status: 500},
		"closed after counting": {Kind: gatewaytest.CloseAfterProcessing},
		"no answer in time":     {Kind: gatewaytest.Slow, Delay: 2 * time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			g := newGatewayServer(t, gatewaytest.Options{})
			s := newSender(t, Config{Timeout: 300 * time.Millisecond}, g.URL)
			spoolOne(t, s, g)
			g.SetFault(fault)
			rep := s.Flush(t.Context())
			if rep.Flushed != 0 || len(rep.Warnings) == 0 {
				t.Fatalf("flush with %s: flushed %d, warnings %q", name, rep.Flushed, warnings(rep))
			}
			if n := len(spoolEntries(t, s)); n != 0 {
				t.Fatalf("%d entries left in the spool after a push that may have arrived", n)
			}
			g.SetFault(gatewaytest.Fault{})
			before := g.Pushes()
			if rep := s.Flush(t.Context()); rep.Flushed != 0 || g.Pushes() != before {
				t.Errorf("the push was sent again: flushed %d, pushes %d -> %d", rep.Flushed, before, g.Pushes())
			}
		})
	}
}
