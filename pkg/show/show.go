package show

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/install-metrics/install-metrics/pkg/metrics"
	"github.com/install-metrics/install-metrics/pkg/record"
	"github.com/install-metrics/install-metrics/pkg/sink/textfile"
)

// Formats are the formats Show accepts ("" is "table").
var Formats = []string{"table", "prom", "json"}

// Series is one counter of the local record.
type Series struct {
	Labels map[string]string `json:"labels"`
	Count  float64           `json:"count"`
}

// Histogram is one histogram series of the local record: cumulative counts
// by upper bound ("+Inf" included), sum and count of the observations.
type Histogram struct {
	Labels  map[string]string `json:"labels"`
	Count   uint64            `json:"count"`
	Sum     float64           `json:"sum_seconds"`
	Buckets map[string]uint64 `json:"buckets"`

	bounds []float64 // finite bounds, increasing
	counts []uint64  // cumulative, one per bound
}

// StageSummary is one stage over every run of the local record: how many
// observations and the 0.5 and 0.9 quantiles, estimated from the buckets
// the way PromQL's histogram_quantile does (linear within a bucket; a
// quantile in the +Inf bucket is the highest finite bound, and Above says
// so).
type StageSummary struct {
	Stage string  `json:"stage"`
	Runs  uint64  `json:"runs"`
	P50   float64 `json:"p50_seconds"`
	P90   float64 `json:"p90_seconds"`
	Above bool    `json:"above_last_bucket,omitempty"`
}

// Record is the local textfile as Show --format json prints it.
type Record struct {
	Path             string         `json:"path"`
	Invocations      []Series       `json:"invocations"`
	Durations        []Series       `json:"durations"`
	Modifications    []Series       `json:"modifications"`
	StageDurations   []Histogram    `json:"stage_durations"`
	CommandDurations []Histogram    `json:"command_durations"`
	Stages           []StageSummary `json:"stages"`
}

// LoadRecord reads our families from a textfile. A missing file is an
// empty record.
func LoadRecord(path string) (*Record, error) {
	rec := &Record{Path: path, Invocations: []Series{}, Durations: []Series{}, Modifications: []Series{},
		StageDurations: []Histogram{}, CommandDurations: []Histogram{}, Stages: []StageSummary{}}
	mfs, err := textfile.ReadFamilies(path)
	if errors.Is(err, fs.ErrNotExist) {
		return rec, nil
	}
	if err != nil {
		return nil, err
	}
	for _, mf := range mfs {
		var dst *[]Series
		switch mf.GetName() {
		case metrics.InvocationFamily:
			dst = &rec.Invocations
		case metrics.DurationFamily:
			dst = &rec.Durations
		case metrics.ModificationFamily:
			dst = &rec.Modifications
		case metrics.StageDurationFamily:
			rec.StageDurations = histograms(mf)
			continue
		case metrics.CommandDurationFamily:
			rec.CommandDurations = histograms(mf)
			continue
		default:
			continue
		}
		for _, m := range mf.Metric {
			s := Series{Labels: map[string]string{}, Count: m.GetCounter().GetValue()}
			for _, l := range m.Label {
				s.Labels[l.GetName()] = l.GetValue()
			}
			*dst = append(*dst, s)
		}
	}
	rec.Stages = stageSummaries(rec.StageDurations)
	return rec, nil
}

func histograms(mf *dto.MetricFamily) []Histogram {
	out := make([]Histogram, 0, len(mf.Metric))
	for _, m := range mf.Metric {
		h := m.GetHistogram()
		x := Histogram{Labels: map[string]string{}, Count: h.GetSampleCount(), Sum: h.GetSampleSum(),
			Buckets: map[string]uint64{"+Inf": h.GetSampleCount()}}
		for _, l := range m.Label {
			x.Labels[l.GetName()] = l.GetValue()
		}
		for _, b := range h.GetBucket() {
			if ub := b.GetUpperBound(); !math.IsInf(ub, 1) {
				x.Buckets[strconv.FormatFloat(ub, 'g', -1, 64)] = b.GetCumulativeCount()
				x.bounds = append(x.bounds, ub)
				x.counts = append(x.counts, b.GetCumulativeCount())
			}
		}
		out = append(out, x)
	}
	return out
}

// stageSummaries adds up the stage histograms of every version, platform
// and CI, stage by stage, in the order of record.AllStageNames (the IPI
// stages, then the agent ones); stages never observed are left out.
func stageSummaries(hs []Histogram) []StageSummary {
	out := []StageSummary{}
	for _, st := range record.AllStageNames {
		sum := Histogram{bounds: metrics.StageBounds, counts: make([]uint64, len(metrics.StageBounds))}
		for _, h := range hs {
			if h.Labels["stage"] != string(st) {
				continue
			}
			sum.Count += h.Count
			for i, ub := range metrics.StageBounds {
				sum.counts[i] += h.cumulative(ub)
			}
		}
		if sum.Count == 0 {
			continue
		}
		p50, a50 := sum.quantile(0.5)
		p90, a90 := sum.quantile(0.9)
		out = append(out, StageSummary{Stage: string(st), Runs: sum.Count, P50: p50, P90: p90, Above: a50 || a90})
	}
	return out
}

// cumulative is the count at or below ub (the nearest bound below it when
// the file has other bounds than the contract's).
func (h Histogram) cumulative(ub float64) uint64 {
	var n uint64
	for i, b := range h.bounds {
		if b <= ub {
			n = h.counts[i]
		}
	}
	return n
}

// quantile estimates the q-quantile as histogram_quantile does; above is
// true when it falls beyond the last finite bound.
func (h Histogram) quantile(q float64) (v float64, above bool) {
	if h.Count == 0 || len(h.bounds) == 0 {
		return 0, false
	}
	rank := q * float64(h.Count)
	lower, prev := 0.0, uint64(0)
	for i, ub := range h.bounds {
		if float64(h.counts[i]) >= rank {
			inBucket := h.counts[i] - prev
			if inBucket == 0 {
				return ub, false
			}
			return lower + (ub-lower)*(rank-float64(prev))/float64(inBucket), false
		}
		lower, prev = ub, h.counts[i]
	}
	return h.bounds[len(h.bounds)-1], true
}

// Show prints the local record at path for `install-metrics metrics show`:
// format "table" (or "") for people, "prom" for the exposition text, "json"
// for machines.
func Show(w io.Writer, path, format string) error {
	switch format {
	case "", "table", "json":
	case "prom":
		mfs, err := textfile.ReadFamilies(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		var ours []*dto.MetricFamily
		for _, mf := range mfs {
			if metrics.Ours(mf.GetName()) {
				ours = append(ours, mf)
			}
		}
		data, err := metrics.EncodeText(ours)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	default:
		return fmt.Errorf("unknown format %q: use %s", format, strings.Join(Formats, ", "))
	}
	rec, err := LoadRecord(path)
	if err != nil {
		return err
	}
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rec)
	}
	return rec.writeTable(w)
}

type counted struct {
	key   string
	count float64
}

// tally sums series counts by key, in descending count then key order.
func tally(series []Series, key func(Series) string) []counted {
	sums := map[string]float64{}
	for _, s := range series {
		sums[key(s)] += s.Count
	}
	out := make([]counted, 0, len(sums))
	for k, v := range sums {
		out = append(out, counted{k, v})
	}
	slices.SortFunc(out, func(a, b counted) int {
		if a.count != b.count {
			if a.count > b.count {
				return -1
			}
			return 1
		}
		return strings.Compare(a.key, b.key)
	})
	return out
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func commandOf(s Series) string {
	c := strings.TrimSpace(s.Labels["command"] + " " + s.Labels["target"])
	if c == "" {
		return "(none)"
	}
	return c
}

// writeTable prints what a person wants at a glance: how many runs, how
// they ended, where time went and where runs failed, what was modified.
func (r *Record) writeTable(w io.Writer) error {
	var total, ci float64
	for _, s := range r.Invocations {
		total += s.Count
		if s.Labels["ci"] == "true" {
			ci += s.Count
		}
	}
	if total == 0 {
		_, err := fmt.Fprintf(w, "No runs recorded yet in %s.\ninstall-metrics adds one after each installer command it wraps (unless --no-metrics).\n", r.Path)
		return err
	}
	fmt.Fprintf(w, "Local record: %s\n", r.Path)
	runs := "runs"
	if total == 1 {
		runs = "run"
	}
	fmt.Fprintf(w, "%s %s recorded, %s of them in CI.\n\n", num(total), runs, num(ci))

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "COMMAND\tRESULT\tRUNS\tSHARE\n")
	for _, c := range tally(r.Invocations, func(s Series) string { return commandOf(s) + "\t" + s.Labels["result"] }) {
		fmt.Fprintf(tw, "%s\t%s\t%.0f%%\n", c.key, num(c.count), 100*c.count/total)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "PLATFORM\tVERSION\tOS\tRUNS\n")
	for _, c := range tally(r.Invocations, func(s Series) string {
		return s.Labels["platform"] + "\t" + s.Labels["version"] + "\t" + s.Labels["os"]
	}) {
		fmt.Fprintf(tw, "%s\t%s\n", c.key, num(c.count))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	if len(r.Durations) > 0 {
		fmt.Fprintf(w, "\nStages of create cluster and wait-for (minutes, rounded up to the bucket step):\n")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "STAGE\tREACHED\tFAILED IN\tDURATIONS (minutes×runs)\n")
		for _, st := range record.StageNames {
			var reached, failed float64
			buckets := map[string]float64{}
			for _, s := range r.Durations {
				v := s.Labels[string(st)]
				if v == "" {
					continue
				}
				reached += s.Count
				buckets[v] += s.Count
				if s.Labels["success"] == "false" && lastStage(s) == st {
					failed += s.Count
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", st, num(reached), num(failed), bucketList(buckets))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	if len(r.Stages) > 0 {
		fmt.Fprintf(w, "\nStage durations timed by the log (all versions and platforms; p50 and p90 estimated from the buckets):\n")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "STAGE\tRUNS\tP50\tP90\n")
		for _, st := range r.Stages {
			p50, p90 := seconds(st.P50), seconds(st.P90)
			if st.Above {
				p90 = "> " + p90
				if st.P50 == st.P90 {
					p50 = "> " + p50
				}
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", st.Stage, st.Runs, p50, p90)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	fmt.Fprintf(w, "\nModified assets (successful create cluster / create ignition-configs):\n")
	if len(r.Modifications) == 0 {
		_, err := fmt.Fprintf(w, "  none recorded\n")
		return err
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "ASSET\tRUNS\n")
	for _, c := range tally(r.Modifications, func(s Series) string { return s.Labels["asset"] }) {
		fmt.Fprintf(tw, "%s\t%s\n", c.key, num(c.count))
	}
	return tw.Flush()
}

// lastStage is the last stage a run reached: where a failed run failed.
func lastStage(s Series) record.StageName {
	var last record.StageName
	for _, st := range record.StageNames {
		if s.Labels[string(st)] != "" {
			last = st
		}
	}
	return last
}

// bucketList renders buckets in numeric order: "2.5×3 5×1".
func bucketList(b map[string]float64) string {
	keys := metrics.SortedKeys(b)
	slices.SortFunc(keys, func(x, y string) int {
		fx, ex := strconv.ParseFloat(x, 64)
		fy, ey := strconv.ParseFloat(y, 64)
		if ex != nil || ey != nil || fx == fy {
			return strings.Compare(x, y)
		}
		if fx < fy {
			return -1
		}
		return 1
	})
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"×"+num(b[k]))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

// seconds renders a duration in seconds as people read it: 1m30s, 2h5m.
func seconds(v float64) string {
	d := time.Duration(math.Round(v)) * time.Second
	if d >= time.Hour {
		d = d.Round(time.Minute)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
