package push

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	dto "github.com/prometheus/client_model/go"

	"github.com/install-metrics/install-metrics/pkg/record"
)

// ShowFormats are the formats Show accepts ("" is "table").
var ShowFormats = []string{"table", "prom", "json"}

// Series is one counter of the local record.
type Series struct {
	Labels map[string]string `json:"labels"`
	Count  float64           `json:"count"`
}

// Record is the local textfile as Show --format json prints it.
type Record struct {
	Path          string   `json:"path"`
	Invocations   []Series `json:"invocations"`
	Durations     []Series `json:"durations"`
	Modifications []Series `json:"modifications"`
}

// LoadRecord reads our three families from a textfile. A missing file is an
// empty record.
func LoadRecord(path string) (*Record, error) {
	rec := &Record{Path: path, Invocations: []Series{}, Durations: []Series{}, Modifications: []Series{}}
	mfs, err := ReadTextfile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return rec, nil
	}
	if err != nil {
		return nil, err
	}
	for _, mf := range mergeFamilies(mfs, nil) {
		var dst *[]Series
		switch mf.GetName() {
		case InvocationFamily:
			dst = &rec.Invocations
		case DurationFamily:
			dst = &rec.Durations
		case ModificationFamily:
			dst = &rec.Modifications
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
	return rec, nil
}

// Show prints the local record at path for `install-metrics metrics show`:
// format "table" (or "") for people, "prom" for the exposition text, "json"
// for machines.
func Show(w io.Writer, path, format string) error {
	switch format {
	case "", "table", "json":
	case "prom":
		mfs, err := ReadTextfile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		var ours []*dto.MetricFamily
		for _, mf := range mergeFamilies(mfs, nil) {
			if _, ok := familyLabels[mf.GetName()]; ok {
				ours = append(ours, mf)
			}
		}
		data, err := encodeText(ours)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	default:
		return fmt.Errorf("unknown format %q: use %s", format, strings.Join(ShowFormats, ", "))
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
	keys := sortedKeys(b)
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
