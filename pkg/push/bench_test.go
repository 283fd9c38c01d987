package push

import (
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/install-metrics/install-metrics/pkg/journal"
	"github.com/install-metrics/install-metrics/pkg/metrics"
	"github.com/install-metrics/install-metrics/pkg/metrics/metricstest"
	"github.com/install-metrics/install-metrics/pkg/sink/gateway/gatewaytest"
)

// BenchmarkSendNeverAnswering: a gateway that accepts and never answers
// costs the timeout and no more (target: at most 100ms past it).
func BenchmarkSendNeverAnswering(b *testing.B) {
	bh, err := gatewaytest.NewBlackhole()
	if err != nil {
		b.Fatal(err)
	}
	defer bh.Close()
	const timeout = 200 * time.Millisecond
	s := newSender(b, Config{Timeout: timeout}, bh.URL)
	inv := testInv()
	var over []time.Duration
	for b.Loop() {
		start := time.Now()
		s.Send(b.Context(), inv)
		over = append(over, time.Since(start)-timeout)
	}
	b.ReportMetric(metricstest.MedianMS(over), "ms-past-timeout")
	b.ReportMetric(float64(slices.Max(over))/float64(time.Millisecond), "max-ms-past-timeout")
}

// BenchmarkGatewayPushHealthy: one push to a healthy local gateway
// (target: median at most 5ms), new connection each time as in a real run.
func BenchmarkGatewayPushHealthy(b *testing.B) {
	g := newGatewayServer(b, gatewaytest.Options{})
	s := newSender(b, Config{}, g.URL)
	sendLoop(b, s, func(int) []metrics.Sample { return metrics.Samples(testInv(), metrics.SampleOptions{}) })
}

// sendLoop sends next(i) once per iteration and reports the median time.
func sendLoop(b *testing.B, s *Sender, next func(i int) []metrics.Sample) {
	var ds []time.Duration
	for i := 0; b.Loop(); i++ {
		smp := next(i)
		start := time.Now()
		if rep := s.SendSamples(b.Context(), smp); len(rep.Sent) != 1 {
			b.Fatal(warnings(rep))
		}
		ds = append(ds, time.Since(start))
	}
	b.ReportMetric(metricstest.MedianMS(ds), "median-ms")
}

// seed1000 is 1,000 realistic series: 600 invocation series (nine labels),
// 300 stage-duration series, 100 modified assets; the run's own series are
// among them.
func seed1000() []metrics.Sample {
	plats := []string{"aws", "azure", "gcp", "vsphere", "baremetal", "openstack", "nutanix", "none"}
	results := []string{"Success", "InvalidConfig", "ProvisioningFailed", "APIFailed", "BootstrapFailed", "OperatorsDegraded", "Interrupted", "Failed"}
	out := metrics.Samples(testInv(), metrics.SampleOptions{})
	for i := 0; i < 600-1; i++ {
		out = append(out, metrics.Sample{Name: metrics.InvocationFamily, Value: float64(i%7 + 1), Labels: []metrics.Label{
			{Name: "command", Value: "create"}, {Name: "target", Value: "cluster"}, {Name: "os", Value: "linux"}, {Name: "platform", Value: plats[i%8]},
			{Name: "result", Value: results[(i/8)%8]}, {Name: "return", Value: "0"}, {Name: "version", Value: fmt.Sprintf("4.%d", 10+(i/64)%10)},
			{Name: "duration", Value: "2.5"}, {Name: "ci", Value: "false"}}})
	}
	for i := 0; i < 300-1; i++ {
		out = append(out, metrics.Sample{Name: metrics.DurationFamily, Value: 1, Labels: []metrics.Label{{Name: "provisioning", Value: "2.5"},
			{Name: "infrastructure", Value: fmt.Sprint(5 + i%20*5)}, {Name: "api", Value: "5"}, {Name: "bootstrap", Value: fmt.Sprint(10 + i/20*5)},
			{Name: "operators", Value: "25"}, {Name: "success", Value: "false"}}})
	}
	for i := 0; i < 100-3; i++ {
		out = append(out, metrics.Sample{Name: metrics.ModificationFamily, Value: 1, Labels: []metrics.Label{{Name: "asset", Value: fmt.Sprintf("manifests/m-%04d.yaml", i)}}})
	}
	return out
}

// BenchmarkTextfileUpdate1000Series: one run's update of a textfile that
// already holds 1,000 series, its own among them (target: median at most
// 2ms): the in-place path, lock, fsync and rename included.
func BenchmarkTextfileUpdate1000Series(b *testing.B) {
	s := newSender(b, Config{})
	if rep := s.SendSamples(b.Context(), seed1000()); len(rep.Sent) != 1 {
		b.Fatal(warnings(rep))
	}
	smp := metrics.Samples(testInv(), metrics.SampleOptions{})
	sendLoop(b, s, func(int) []metrics.Sample { return smp })
}

// BenchmarkTextfileUpdate1000SeriesNewSeries: the same with a series the
// file does not hold yet, which takes the full parse.
func BenchmarkTextfileUpdate1000SeriesNewSeries(b *testing.B) {
	s := newSender(b, Config{})
	if rep := s.SendSamples(b.Context(), seed1000()); len(rep.Sent) != 1 {
		b.Fatal(warnings(rep))
	}
	sendLoop(b, s, func(i int) []metrics.Sample {
		return []metrics.Sample{{Name: metrics.ModificationFamily, Labels: []metrics.Label{{Name: "asset", Value: fmt.Sprintf("openshift/new-%06d.yaml", i)}}, Value: 1}}
	})
}

// BenchmarkTextfile100Concurrent: 100 invocations ending at once on one
// textfile; all 100 are counted (checked).
func BenchmarkTextfile100Concurrent(b *testing.B) {
	const writers = 100
	state := b.TempDir()
	senders := make([]*Sender, writers)
	for i := range senders {
		senders[i] = newSender(b, Config{StateDir: state, Timeout: time.Minute})
	}
	inv := testInv()
	rounds := 0
	for b.Loop() {
		var wg sync.WaitGroup
		for _, s := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if rep := s.Send(b.Context(), inv); len(rep.Sent) != 1 {
					b.Error(warnings(rep))
				}
			}()
		}
		wg.Wait()
		rounds++
	}
	b.StopTimer()
	assertCount(b, DefaultTextfile(state), float64(writers*rounds))
}

func BenchmarkSamples(b *testing.B) {
	inv := testInv()
	for b.Loop() {
		metrics.Samples(inv, metrics.SampleOptions{})
	}
}

// BenchmarkRunJournaled: the whole journal work of one wrapped run with
// the default textfile sink (Begin, Ended, SendRun: the record's
// completion, the textfile update, Settle and the takeover scan), beside
// BenchmarkRunUnjournaled (Send alone): their difference is what the
// write-ahead record adds to a run (issue 16's budget: 1 ms).
func BenchmarkRunJournaled(b *testing.B) {
	s := newSender(b, Config{}, "file://"+filepath.Join(b.TempDir(), "m.prom"))
	inv := testInv()
	for b.Loop() {
		e, err := s.Begin(provisional(), "")
		if err != nil {
			b.Fatal(err)
		}
		if err := e.Ended(journal.Ending{ExitCode: 0, Result: inv.Result, Wall: inv.Wall}); err != nil {
			b.Fatal(err)
		}
		if rep := s.SendRun(b.Context(), e, inv); len(rep.Sent) != 1 {
			b.Fatal(warnings(rep))
		}
	}
}

// BenchmarkRunUnjournaled: BenchmarkRunJournaled without the journal.
func BenchmarkRunUnjournaled(b *testing.B) {
	s := newSender(b, Config{}, "file://"+filepath.Join(b.TempDir(), "m.prom"))
	inv := testInv()
	for b.Loop() {
		if rep := s.Send(b.Context(), inv); len(rep.Sent) != 1 {
			b.Fatal(warnings(rep))
		}
	}
}
