package metrics

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// Collector exposes samples as constant counters and histograms, so that
// client_golang's registry, push package and testutil can work with them.
// Counter samples with the same family and label values are summed;
// histogram observations with the same labels become one histogram with the
// family's fixed bounds (cumulative buckets, _sum, _count).
type Collector struct {
	series []series
	descs  map[string]*prometheus.Desc
}

// series is one counter or histogram of a Collector.
type series struct {
	Sample          // Value: the counter's sum, or the observations' sum
	count  uint64   // observations
	counts []uint64 // observations at or below each bound (cumulative)
}

// NewCollector returns a Collector for samples. All samples of one family
// must have the same label names in the same order (Samples guarantees it).
func NewCollector(samples ...Sample) *Collector {
	c := &Collector{descs: map[string]*prometheus.Desc{}}
	index := map[string]int{}
	for _, s := range samples {
		if _, ok := c.descs[s.Name]; !ok {
			names := make([]string, len(s.Labels))
			for i, l := range s.Labels {
				names[i] = l.Name
			}
			help := familyHelp[s.Name]
			if help == "" {
				help = s.Name
			}
			c.descs[s.Name] = prometheus.NewDesc(s.Name, help, names, nil)
		}
		key := SeriesKey(s)
		i, ok := index[key]
		if !ok {
			i = len(c.series)
			index[key] = i
			first := s
			first.Value = 0
			c.series = append(c.series, series{Sample: first})
			if s.Kind == Histogram {
				c.series[i].counts = make([]uint64, len(Bounds(s.Name)))
			}
		}
		c.series[i].add(s.Value)
	}
	return c
}

func (s *series) add(v float64) {
	s.Value += v
	if s.Kind != Histogram {
		return
	}
	s.count++
	for j, b := range Bounds(s.Name) {
		if v <= b {
			s.counts[j]++
		}
	}
}

// SeriesKey identifies the series of a sample: its family and labels.
func SeriesKey(s Sample) string {
	var b strings.Builder
	b.WriteString(s.Name)
	for _, l := range s.Labels {
		b.WriteByte(0xff)
		b.WriteString(l.Name)
		b.WriteByte(0xfe)
		b.WriteString(l.Value)
	}
	return b.String()
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, name := range SortedKeys(c.descs) {
		ch <- c.descs[name]
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.series {
		desc := c.descs[s.Name]
		values := make([]string, len(s.Labels))
		for i, l := range s.Labels {
			values[i] = l.Value
		}
		var m prometheus.Metric
		var err error
		if s.Kind == Histogram {
			buckets := make(map[float64]uint64, len(s.counts))
			for j, b := range Bounds(s.Name) {
				buckets[b] = s.counts[j]
			}
			m, err = prometheus.NewConstHistogram(desc, s.count, s.Value, buckets, values...)
		} else {
			m, err = prometheus.NewConstMetric(desc, prometheus.CounterValue, s.Value, values...)
		}
		if err != nil {
			m = prometheus.NewInvalidMetric(desc, err)
		}
		ch <- m
	}
}

// SortedKeys returns the keys of m in order.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Gather returns the samples as metric families, checked by a pedantic
// registry and sorted by name and labels.
func Gather(samples []Sample) ([]*dto.MetricFamily, error) {
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(NewCollector(samples...)); err != nil {
		return nil, fmt.Errorf("building metric families: %w", err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		return nil, fmt.Errorf("building metric families: %w", err)
	}
	return mfs, nil
}

// TextFormat is the exposition format every sink writes: the aggregation
// gateway parses only text, and so does node_exporter's textfile collector.
var TextFormat = expfmt.NewFormat(expfmt.TypeTextPlain)

// EncodeText writes families in the text exposition format.
func EncodeText(mfs []*dto.MetricFamily) ([]byte, error) {
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, TextFormat)
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return nil, fmt.Errorf("encoding %s: %w", mf.GetName(), err)
		}
	}
	return buf.Bytes(), nil
}

// Text renders samples in the text exposition format, as the gateway and
// textfile sinks send them (HELP and TYPE lines, sorted, no timestamps).
func Text(samples []Sample) ([]byte, error) {
	mfs, err := Gather(samples)
	if err != nil {
		return nil, err
	}
	return EncodeText(mfs)
}

// CheckHistogram reports what makes h impossible as one of ours: a
// negative or non-finite sum, buckets whose bounds do not increase or whose
// cumulative counts decrease, or a bucket above _count.
func CheckHistogram(h *dto.Histogram) error {
	sum := h.GetSampleSum()
	if sum < 0 || math.IsNaN(sum) || math.IsInf(sum, 0) {
		return fmt.Errorf("_sum is %v", sum)
	}
	prevBound, prevCount := math.Inf(-1), uint64(0)
	for _, b := range h.GetBucket() {
		ub, n := b.GetUpperBound(), b.GetCumulativeCount()
		switch {
		case math.IsNaN(ub) || ub <= prevBound:
			return fmt.Errorf("bucket bounds not increasing at le=%v", ub)
		case n < prevCount:
			return fmt.Errorf("cumulative count falls at le=%v", ub)
		case n > h.GetSampleCount():
			return fmt.Errorf("bucket le=%v above _count", ub)
		}
		prevBound, prevCount = ub, n
	}
	return nil
}
