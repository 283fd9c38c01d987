package statsd

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/install-metrics/install-metrics/internal/testenv"
	"github.com/install-metrics/install-metrics/pkg/metrics"
	"github.com/install-metrics/install-metrics/pkg/metrics/metricstest"
	"github.com/install-metrics/install-metrics/pkg/sink"
)

func mappingFile(t *testing.T) string {
	return filepath.Join(testenv.RepoRoot(t), "monitoring", "statsd-mapping.yaml")
}

// The shipped mapping's buckets are exactly pkg/metrics' bounds.
func TestMappingBucketsAreTheContracts(t *testing.T) {
	data, err := os.ReadFile(mappingFile(t))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Mappings []struct {
			Match, Name string
			Options     struct {
				Buckets []float64 `yaml:"buckets"`
			} `yaml:"histogram_options"`
		}
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, m := range cfg.Mappings {
		family := strings.TrimPrefix(m.Name, "${1}_") // the ?prefix=P form
		if diff := cmp.Diff(metrics.Bounds(family), m.Options.Buckets); diff != "" {
			t.Errorf("%s: buckets differ from the contract (-want +got):\n%s", m.Match, diff)
		}
		seen[family]++
	}
	if seen[metrics.StageDurationFamily] != 2 || seen[metrics.CommandDurationFamily] != 2 {
		t.Errorf("mappings per family: %v", seen)
	}
}

// scrapeHistogram returns the cumulative counts by le of the stage
// histogram's series for stage at url, and its _count.
func scrapeHistogram(t *testing.T, url, family string, match map[string]string) (map[string]uint64, uint64) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	parser := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	mf := mfs[family]
	if mf == nil {
		return nil, 0
	}
next:
	for _, m := range mf.Metric {
		for k, v := range match {
			ok := false
			for _, l := range m.Label {
				ok = ok || (l.GetName() == k && l.GetValue() == v)
			}
			if !ok {
				continue next
			}
		}
		h := m.GetHistogram()
		got := map[string]uint64{}
		for _, b := range h.GetBucket() {
			got[strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64)] = b.GetCumulativeCount()
		}
		return got, h.GetSampleCount()
	}
	return nil, 0
}

// The bucket edges (59 s, 60 s, 61 s, 3 h, 30 h) through the real
// statsd_exporter with the shipped mapping, over UDP and TCP, with and
// without a prefix: its /metrics shows the _bucket series with the exact
// counts.
func TestStatsdExporterHistogramBucketEdges(t *testing.T) {
	udp, tcp, url := testenv.StartStatsdExporter(t, "--statsd.mapping-config="+mappingFile(t))
	for _, tc := range []struct{ scheme, addr, prefix, platform string }{
		{"statsd", udp, "", "aws"},
		{"statsd+tcp", tcp, "im", "gcp"},
	} {
		u, err := sink.Parse(tc.scheme + "://" + tc.addr + map[bool]string{true: "?prefix=" + tc.prefix}[tc.prefix != ""])
		if err != nil {
			t.Fatal(err)
		}
		s := New(u, nil)
		for _, inv := range metricstest.EdgeInvocations() {
			inv.Platform = tc.platform
			if err := s.Send(t.Context(), sink.Batch{Samples: metrics.Samples(inv, metrics.SampleOptions{})}); err != nil {
				t.Fatal(err)
			}
		}
		// With ?prefix=P the mapping names the histogram P_NAME, as
		// statsd_exporter names the counters.
		stageFamily, cmdFamily := metrics.StageDurationFamily, metrics.CommandDurationFamily
		if tc.prefix != "" {
			stageFamily, cmdFamily = tc.prefix+"_"+stageFamily, tc.prefix+"_"+cmdFamily
		}
		match := map[string]string{"stage": "bootstrap", "platform": tc.platform}
		var got map[string]uint64
		var count uint64
		for i := 0; i < 100 && count < 5; i++ { // UDP: the exporter reads asynchronously
			time.Sleep(50 * time.Millisecond)
			got, count = scrapeHistogram(t, url, stageFamily, match)
		}
		if diff := cmp.Diff(metricstest.EdgeBuckets, got); diff != "" {
			t.Errorf("%s: stage buckets at statsd_exporter mismatch (-want +got):\n%s", tc.scheme, diff)
		}
		cmdGot, cmdCount := scrapeHistogram(t, url, cmdFamily, map[string]string{"platform": tc.platform})
		if cmdCount != 5 || cmdGot["1"] != 0 || cmdGot["60"] != 2 || cmdGot["10800"] != 4 {
			t.Errorf("%s: command histogram %v count %d", tc.scheme, cmdGot, cmdCount)
		}
	}
}
