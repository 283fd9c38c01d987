package push

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// Collector exposes samples as constant counters, so that client_golang's
// registry, push package and testutil can work with them. Samples with the
// same family and label values are summed.
type Collector struct {
	samples []Sample
	descs   map[string]*prometheus.Desc
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
		key := seriesKey(s)
		if i, ok := index[key]; ok {
			c.samples[i].Value += s.Value
			continue
		}
		index[key] = len(c.samples)
		c.samples = append(c.samples, s)
	}
	return c
}

func seriesKey(s Sample) string {
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
	for _, name := range sortedKeys(c.descs) {
		ch <- c.descs[name]
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.samples {
		desc := c.descs[s.Name]
		values := make([]string, len(s.Labels))
		for i, l := range s.Labels {
			values[i] = l.Value
		}
		m, err := prometheus.NewConstMetric(desc, prometheus.CounterValue, s.Value, values...)
		if err != nil {
			m = prometheus.NewInvalidMetric(desc, err)
		}
		ch <- m
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// gather returns the samples as metric families, checked by a pedantic
// registry and sorted by name and labels.
func gather(samples []Sample) ([]*dto.MetricFamily, error) {
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

// textFormat is the exposition format every sink writes: the aggregation
// gateway parses only text, and so does node_exporter's textfile collector.
var textFormat = expfmt.NewFormat(expfmt.TypeTextPlain)

// encodeText writes families in the text exposition format.
func encodeText(mfs []*dto.MetricFamily) ([]byte, error) {
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, textFormat)
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
	mfs, err := gather(samples)
	if err != nil {
		return nil, err
	}
	return encodeText(mfs)
}
