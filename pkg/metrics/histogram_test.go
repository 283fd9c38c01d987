package metrics

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/install-metrics/install-metrics/pkg/installer"
	"github.com/install-metrics/install-metrics/pkg/metrics/metricstest"
	"github.com/install-metrics/install-metrics/pkg/record"
)

// histogramOf gathers samples and returns the cumulative counts by le, the
// sum and the count of the one series of family.
func histogramOf(t *testing.T, samples []Sample, family string) (map[string]uint64, float64, uint64) {
	t.Helper()
	mfs, err := Gather(samples)
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != family {
			continue
		}
		if len(mf.Metric) != 1 {
			t.Fatalf("%s has %d series, want 1", family, len(mf.Metric))
		}
		h := mf.Metric[0].GetHistogram()
		got := map[string]uint64{"+Inf": h.GetSampleCount()}
		for _, b := range h.GetBucket() {
			got[strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64)] = b.GetCumulativeCount()
		}
		return got, h.GetSampleSum(), h.GetSampleCount()
	}
	t.Fatalf("no %s", family)
	return nil, 0, 0
}

func TestHistogramBucketEdges(t *testing.T) {
	var samples []Sample
	for _, inv := range metricstest.EdgeInvocations() {
		samples = append(samples, Samples(inv, SampleOptions{})...)
	}
	got, sum, count := histogramOf(t, samples, StageDurationFamily)
	if diff := cmp.Diff(metricstest.EdgeBuckets, got); diff != "" {
		t.Errorf("stage buckets mismatch (-want +got):\n%s", diff)
	}
	if sum != metricstest.EdgeSum || count != 5 {
		t.Errorf("sum %v count %d, want %v 5", sum, count, float64(metricstest.EdgeSum))
	}
	// The command histogram: the same walls, other bounds.
	got, _, _ = histogramOf(t, samples, CommandDurationFamily)
	want := map[string]uint64{"1": 0, "5": 0, "30": 0, "60": 2, "300": 3, "600": 3, "1200": 3, "1800": 3,
		"2700": 3, "3600": 3, "5400": 3, "7200": 3, "10800": 4, "+Inf": 5}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("command buckets mismatch (-want +got):\n%s", diff)
	}
}

// TestBoundsNeverDiffer: the aggregation gateway adds histograms bucket by
// bucket only when every push has the same bounds (ecosystem.md §9); every
// invocation, whatever it did, gives exactly the contract's.
func TestBoundsNeverDiffer(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var samples []Sample
	for i := range 500 {
		d := time.Duration(i*i*997) * time.Millisecond
		inv := record.Invocation{Command: []string{"create", "wait-for", "agent", "destroy", "version"}[i%5],
			Target:   []string{"cluster", "install-complete", "wait-for", "cluster", ""}[i%5],
			Platform: []string{"aws", "gcp", "none"}[i%3], Version: fmt.Sprintf("4.%d.1", i%20),
			Result: record.Results[i%len(record.Results)], Wall: d, CI: i%2 == 0}
		for j, st := range record.AllStageNames[:1+i%8] {
			inv.Stages = append(inv.Stages, record.Stage{Name: st, Start: t0, End: t0.Add(d * time.Duration(j)), Timed: true, Finished: j%2 == 0})
		}
		samples = append(samples, Samples(inv, SampleOptions{})...)
	}
	mfs, err := Gather(samples)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mf := range mfs {
		want := Bounds(mf.GetName())
		if want == nil {
			continue
		}
		for _, m := range mf.Metric {
			var got []float64
			for _, b := range m.GetHistogram().GetBucket() {
				if !math.IsInf(b.GetUpperBound(), 1) {
					got = append(got, b.GetUpperBound())
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("%s: bounds differ from the contract (-want +got):\n%s", mf.GetName(), diff)
			}
			if err := CheckHistogram(m.GetHistogram()); err != nil {
				t.Fatalf("%s: %v", mf.GetName(), err)
			}
			n++
		}
	}
	if n < 100 {
		t.Fatalf("only %d histograms checked", n)
	}
}

// TestCommandClosedSetIsExplicit (issue 16): a command word the installer's
// parser got wrong (matched case-insensitively, say) must still be refused
// by ValidSample, which checks an explicit list, not the parser again. Both
// layers are checked here, each on its own.
func TestCommandClosedSetIsExplicit(t *testing.T) {
	for _, w := range []string{"Version", "CREATE", "Create", "wait-For", "rm"} {
		// Layer 1: the parser and Samples turn the word into "other".
		if got := Samples(record.Invocation{Command: w}, SampleOptions{})[0].Label("command"); got != Other {
			t.Errorf("Samples(command %q) gave command=%q, want other", w, got)
		}
		// Layer 2: a sample that carries the word anyway is refused.
		s := Samples(record.Invocation{Command: "version"}, SampleOptions{})[0]
		s.Labels[0].Value = w
		if ValidSample(s) {
			t.Errorf("ValidSample accepted command=%q", w)
		}
	}
	// The explicit list and the parser agree on every word of the list.
	for cmd, targets := range Commands {
		if got := installer.ParseArgs([]string{cmd}).Command; got != cmd {
			t.Errorf("installer.ParseArgs(%q).Command = %q: the closed lists disagree", cmd, got)
		}
		for _, tg := range targets {
			if strings.HasSuffix(tg, "/"+Other) {
				continue
			}
			words := append([]string{cmd}, strings.Split(tg, "/")...)
			if a := installer.ParseArgs(words); a.Target != tg {
				t.Errorf("installer.ParseArgs(%q).Target = %q: the closed lists disagree", words, a.Target)
			}
		}
	}
}

func TestValidSampleHistograms(t *testing.T) {
	inv := metricstest.Invocations()["create-cluster-success"]
	var stage, command Sample
	for _, s := range Samples(inv, SampleOptions{}) {
		if !ValidSample(s) {
			t.Fatalf("good sample rejected: %+v", s)
		}
		switch s.Name {
		case StageDurationFamily:
			stage = s
		case CommandDurationFamily:
			command = s
		}
	}
	zero := stage
	zero.Value = 0
	if !ValidSample(zero) {
		t.Error("a 0 s observation is a valid observation")
	}
	mutate := func(s Sample, f func(*Sample)) Sample {
		s.Labels = append([]Label(nil), s.Labels...)
		f(&s)
		return s
	}
	for name, s := range map[string]Sample{
		"counter kind":   mutate(stage, func(s *Sample) { s.Kind = Counter }),
		"histogram kind": mutate(Samples(inv, SampleOptions{})[0], func(s *Sample) { s.Kind = Histogram }),
		"negative":       mutate(stage, func(s *Sample) { s.Value = -1 }),
		"NaN":            mutate(stage, func(s *Sample) { s.Value = math.NaN() }),
		"too long":       mutate(command, func(s *Sample) { s.Value = 1e9 }),
		"bad stage":      mutate(stage, func(s *Sample) { s.Labels[0].Value = "lunch" }),
		"bad finished":   mutate(stage, func(s *Sample) { s.Labels[1].Value = "maybe" }),
		"bad version":    mutate(stage, func(s *Sample) { s.Labels[2].Value = "4.16.3" }),
		"bad result":     mutate(command, func(s *Sample) { s.Labels[2].Value = "Pwned" }),
		"bad target":     mutate(command, func(s *Sample) { s.Labels[1].Value = "evil" }),
	} {
		if ValidSample(s) {
			t.Errorf("%s: accepted %+v", name, s)
		}
	}
}
