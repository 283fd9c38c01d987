package monitoring

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/install-metrics/install-metrics/pkg/metrics"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"
)

// histogramFamily is one histogram family of contract v2 (docs/metrics-schema.md).
type histogramFamily struct {
	Name    string
	Labels  []string  // without le
	Buckets []float64 // upper bounds in seconds, without +Inf
}

// histogramFamilies are the v2 histograms as the model (pkg/metrics)
// defines them: labels in order and bucket bounds.
var histogramFamilies = []histogramFamily{
	{stageDurationFamily, metrics.LabelNames(stageDurationFamily), metrics.Bounds(stageDurationFamily)},
	{commandDurationFamily, metrics.LabelNames(commandDurationFamily), metrics.Bounds(commandDurationFamily)},
}

// counterLabels are the label names of the seed's counter families.
var counterLabels = map[string][]string{
	invocationFamily:   metrics.LabelNames(invocationFamily),
	durationFamily:     metrics.LabelNames(durationFamily),
	modificationFamily: metrics.LabelNames(modificationFamily),
}

// schemaLabels returns the label names of each series name the families
// expose: the counters, and each histogram's _bucket (with le), _count and _sum.
func schemaLabels() map[string][]string {
	out := maps.Clone(counterLabels)
	for _, h := range histogramFamilies {
		out[h.Name+"_bucket"] = append(slices.Clone(h.Labels), "le")
		out[h.Name+"_count"] = h.Labels
		out[h.Name+"_sum"] = h.Labels
	}
	return out
}

// bucketBounds returns the le values of h as the text format writes them.
func (h histogramFamily) bucketBounds() []string {
	var out []string
	for _, b := range h.Buckets {
		out = append(out, strconv.FormatFloat(b, 'f', -1, 64))
	}
	return append(out, "+Inf")
}

// TestHistogramTestSeriesUseContractBuckets checks the input series of the
// promtool tests: every label set of a histogram family has exactly the
// contract's buckets and a _count, and only the family's labels.
func TestHistogramTestSeriesUseContractBuckets(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("tests", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no rule unit tests (%v)", err)
	}
	seen := 0
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var f struct {
			Tests []struct {
				Name   string `yaml:"name"`
				Series []struct {
					Series string `yaml:"series"`
				} `yaml:"input_series"`
			} `yaml:"tests"`
		}
		if err := yaml.Unmarshal(b, &f); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, tg := range f.Tests {
			for _, h := range histogramFamilies {
				les := map[string][]string{} // label set without le -> its le values
				counts := map[string]bool{}
				for _, s := range tg.Series {
					m, err := promql.ParseMetric(s.Series)
					if err != nil {
						t.Fatalf("%s %q: %v", p, s.Series, err)
					}
					name := m.Get("__name__")
					if name != h.Name+"_bucket" && name != h.Name+"_count" {
						continue
					}
					seen++
					m.Range(func(l labels.Label) {
						if l.Name != "__name__" && l.Name != "le" && l.Name != "job" && l.Name != "instance" && !slices.Contains(h.Labels, l.Name) {
							t.Errorf("%s %q: %s has no label %q", p, tg.Name, h.Name, l.Name)
						}
					})
					key := m.MatchLabels(false, "le", model.MetricNameLabel).String()
					if name == h.Name+"_count" {
						counts[key] = true
						continue
					}
					les[key] = append(les[key], m.Get("le"))
				}
				for key, got := range les {
					if !slices.Equal(got, h.bucketBounds()) {
						t.Errorf("%s %q: %s%s has buckets %v, want the contract's %v", p, tg.Name, h.Name, key, got, h.bucketBounds())
					}
					if !counts[key] {
						t.Errorf("%s %q: %s%s has no _count", p, tg.Name, h.Name, key)
					}
				}
			}
		}
	}
	if seen == 0 {
		t.Error("no promtool test feeds the histogram families")
	}
}

// TestLeMatchersAreContractBounds checks that every le="..." an expression
// over the histograms (or what the rules record from them) compares with is
// a bucket bound of the contract.
func TestLeMatchersAreContractBounds(t *testing.T) {
	bounds := map[string]bool{}
	for _, h := range histogramFamilies {
		for _, b := range h.bucketBounds() {
			bounds[b] = true
		}
	}
	for name, expr := range allExprs(t) {
		parser.Inspect(parse(t, name, expr), func(n parser.Node, _ []parser.Node) error {
			vs, ok := n.(*parser.VectorSelector)
			if !ok || !histogramSeries(vs.Name) {
				return nil
			}
			for _, m := range vs.LabelMatchers {
				if m.Name != "le" {
					continue
				}
				for _, alt := range strings.Split(m.Value, "|") {
					if alt = strings.ReplaceAll(alt, `\`, ""); !bounds[alt] {
						t.Errorf("%s: %s le %q: %q is no bucket bound of the contract", name, vs.Name, m.Value, alt)
					}
				}
			}
			return nil
		})
	}
}

// recordedHistogramRE matches the names of series recorded from the histograms' buckets.
var recordedHistogramRE = regexp.MustCompile(`^cluster_installation:[a-z_]+_seconds_bucket:`)

// histogramSeries reports whether name is a histogram family's series or a
// series recorded from them (in seconds).
func histogramSeries(name string) bool {
	for _, h := range histogramFamilies {
		if name == h.Name+"_bucket" {
			return true
		}
	}
	return recordedHistogramRE.MatchString(name)
}

func TestHistogramsFlag(t *testing.T) {
	qs, err := Queries()
	if err != nil {
		t.Fatal(err)
	}
	ds, err := DashboardQueries(DefaultVars("1h"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, q := range append(qs, ds...) {
		want := false
		parser.Inspect(parse(t, q.Name, q.Expr), func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok {
				for _, h := range histogramFamilies {
					if strings.HasPrefix(vs.Name, h.Name) {
						want = true
					}
				}
				if strings.HasPrefix(vs.Name, recordedPrefix) && strings.Contains(vs.Name, "_seconds") {
					want = true
				}
			}
			return nil
		})
		if q.Histograms != want {
			t.Errorf("%s: Histograms %v, want %v", q.Name, q.Histograms, want)
		}
		if want {
			n++
		}
	}
	if n == 0 {
		t.Error("no query or panel reads the histograms")
	}
}
