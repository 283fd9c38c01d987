package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/install-metrics/install-metrics/internal/testenv"
	"github.com/install-metrics/install-metrics/monitoring"
	"github.com/install-metrics/install-metrics/pkg/metrics"
)

// The alert under test, and the releases it compares.
const (
	p90Alert      = "InstallStageP90Regressed"
	p90OldVersion = "4.16"
	p90NewVersion = "4.17"
)

const (
	// p90RawStep is the spacing of the backfilled raw samples; each adds one
	// finished run of every stage for each version and platform.
	p90RawStep = 15 * time.Minute
	// p90EvalStep is the evaluation interval of the backfilled rules: the
	// one rules.yaml recommends.
	p90EvalStep = time.Minute
	// p90AlertHistory is how far back the alert's own history (the for
	// state) reaches: more than its `for`.
	p90AlertHistory = 90 * time.Minute
	// p90LookbackDelta is Prometheus's default lookback for instant selectors.
	p90LookbackDelta = 5 * time.Minute
	// p90BlockDuration is promtool's --max-block-duration: few blocks, and
	// one rule's range query per block stays below Prometheus's 11,000
	// points a series (162h at 1m is 9,720).
	p90BlockDuration = "162h"
	// p90AlertWait bounds the wait for the alert to fire after the last start.
	p90AlertWait = 30 * time.Second
	// p90MidnightMargin: a test starting closer than this to a midnight
	// (UTC) waits for it first. A midnight passing between the backfill
	// and the last checks would move the rules' 7 days past what was
	// backfilled.
	p90MidnightMargin = 2 * time.Minute
)

// p90Platforms are the two cases: on aws every stage of the newest release
// takes twice as long as on the release before it, on gcp as long.
var p90Platforms = []struct {
	platform string
	factor   float64
}{{"aws", 2}, {"gcp", 1}}

// p90Rule is one rule of rules.yaml, with what the test learns from its
// expression.
type p90Rule struct {
	Record string            `yaml:"record,omitempty"`
	Alert  string            `yaml:"alert,omitempty"`
	Expr   string            `yaml:"expr"`
	For    string            `yaml:"for,omitempty"`
	Labels map[string]string `yaml:"labels,omitempty"`
	// reads maps each series name the expression selects to how far back
	// from the evaluation time it reads it (ranges, subquery ranges and
	// offsets on the way, plus the lookback delta).
	reads map[string]time.Duration
	// instant holds the names read other than at a subquery's steps only
	// (there, each step sees one sample: the last within the lookback
	// delta before it).
	instant map[string]bool
	// level is 1 for rules reading only raw families, else one more than
	// the highest level of the recorded series read; from, to the window it
	// must be evaluated over.
	level    int
	from, to time.Time
	// every is the interval to evaluate it at: p90EvalStep, or the
	// lookback delta where every rule reading it reads it only at
	// subquery steps (one sample within the lookback before each step is
	// all they see; the hourly and daily tiles then take a fifth of the
	// work).
	every time.Duration
}

func (r *p90Rule) name() string { return r.Record + r.Alert }

// p90Rules reads rules.yaml and returns the alert and the recording rules it
// depends on, directly or not, each with its level and the window over
// which it must be known for the alert to be evaluated over (now -
// p90AlertHistory, now].
func p90Rules(t *testing.T, now time.Time) (alert *p90Rule, byLevel [][]*p90Rule, raw map[string][2]time.Time) {
	t.Helper()
	var file struct {
		Groups []struct {
			Rules []*p90Rule `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(monitoring.RulesYAML(), &file); err != nil {
		t.Fatal(err)
	}
	p := parser.NewParser(parser.Options{})
	recorded := map[string]*p90Rule{}
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			e, err := p.ParseExpr(r.Expr)
			if err != nil {
				t.Fatalf("%s: %v", r.name(), err)
			}
			r.reads, r.instant = map[string]time.Duration{}, map[string]bool{}
			parser.Inspect(e, func(n parser.Node, path []parser.Node) error {
				vs, ok := n.(*parser.VectorSelector)
				if !ok {
					return nil
				}
				back := vs.OriginalOffset + p90LookbackDelta
				stepped := false
				for _, anc := range path {
					switch a := anc.(type) {
					case *parser.MatrixSelector:
						back += a.Range
					case *parser.SubqueryExpr:
						back += a.Range + a.OriginalOffset
						stepped = true
					}
				}
				if len(path) == 0 || !stepped {
					r.instant[vs.Name] = true
				} else if _, ok := path[len(path)-1].(*parser.MatrixSelector); ok {
					r.instant[vs.Name] = true
				}
				r.reads[vs.Name] = max(r.reads[vs.Name], back)
				return nil
			})
			if r.Record != "" {
				recorded[r.Record] = r
			}
			if r.Alert == p90Alert {
				alert = r
			}
		}
	}
	if alert == nil {
		t.Fatalf("%s has no alert %s", monitoring.RulesPath, p90Alert)
	}
	// The dependencies' levels, depth first.
	var levelOf func(r *p90Rule, seen []string) int
	levelOf = func(r *p90Rule, seen []string) int {
		if r.level > 0 {
			return r.level
		}
		if slices.Contains(seen, r.name()) {
			t.Fatalf("rules read each other in a cycle: %v", append(seen, r.name()))
		}
		r.level = 1
		for name := range r.reads {
			if dep, ok := recorded[name]; ok {
				r.level = max(r.level, levelOf(dep, append(seen, r.name()))+1)
			}
		}
		return r.level
	}
	levelOf(alert, nil)
	byLevel = make([][]*p90Rule, alert.level)
	for _, r := range recorded {
		if r.level > 0 {
			byLevel[r.level] = append(byLevel[r.level], r)
		}
	}
	// The windows, from the alert down: a series read back d by a rule
	// evaluated over (from, to] must be known over (from - d, to].
	alert.from, alert.to = now.Add(-p90AlertHistory), now
	raw = map[string][2]time.Time{}
	widen := func(w [2]time.Time, from, to time.Time) [2]time.Time {
		if w[0].IsZero() || from.Before(w[0]) {
			w[0] = from
		}
		if to.After(w[1]) {
			w[1] = to
		}
		return w
	}
	for l := alert.level; l >= 1; l-- {
		rs := []*p90Rule{alert}
		if l < alert.level {
			rs = byLevel[l]
		}
		for _, r := range rs {
			for name, back := range r.reads {
				if dep, ok := recorded[name]; ok {
					w := widen([2]time.Time{dep.from, dep.to}, r.from.Add(-back), r.to)
					dep.from, dep.to = w[0], w[1]
					if r.instant[name] || dep.every == p90EvalStep {
						dep.every = p90EvalStep
					} else {
						dep.every = p90LookbackDelta
					}
				} else {
					raw[name] = widen(raw[name], r.from.Add(-back), r.to)
				}
			}
		}
	}
	for _, rs := range byLevel[1:] {
		slices.SortFunc(rs, func(a, b *p90Rule) int { return strings.Compare(a.Record, b.Record) })
	}
	return alert, byLevel[1:], raw
}

// p90Bucket is the p90 histogram_quantile gives when every observation took
// secs: 90% into the contract bucket holding secs.
func p90Bucket(secs float64) float64 {
	lo, hi := bucketOf(secs)
	return lo + 0.9*(hi-lo)
}

// p90RawOpenMetrics is the raw history, as Prometheus would have scraped it
// from an aggregation gateway every p90RawStep over [from, to]: the stage
// duration histogram (contract buckets, _sum, _count) with one more
// finished run of each stage of clusterSuccessStages at each step, for each
// platform and version, the newest version's durations factor times the
// other's.
func p90RawOpenMetrics(from, to time.Time) []byte {
	// Each series: its name and labels, and by how much each run moves it.
	type series struct {
		name string
		per  float64
	}
	var all []series
	family := metrics.StageDurationFamily
	for _, p := range p90Platforms {
		for version, factor := range map[string]float64{p90OldVersion: 1, p90NewVersion: p.factor} {
			for st, secs := range clusterSuccessStages {
				secs *= factor
				lbls := fmt.Sprintf(`job="install-metrics",instance="gw-a",stage=%q,finished="true",version=%q,platform=%q,ci="false"`, st, version, p.platform)
				for _, le := range append(slices.Clone(metrics.StageBounds), math.Inf(1)) {
					in := 0.0
					if secs <= le {
						in = 1
					}
					all = append(all, series{fmt.Sprintf("%s_bucket{%s,le=%q}", family, lbls, strconv.FormatFloat(le, 'f', -1, 64)), in})
				}
				all = append(all, series{family + "_sum{" + lbls + "}", secs}, series{family + "_count{" + lbls + "}", 1})
			}
		}
	}
	var b []byte
	runs := 0.0
	for ts := from; !ts.After(to); ts = ts.Add(p90RawStep) {
		runs++
		for _, s := range all {
			b = append(b, s.name...)
			b = append(b, ' ')
			b = strconv.AppendFloat(b, runs*s.per, 'g', -1, 64)
			b = append(b, ' ')
			b = strconv.AppendInt(b, ts.Unix(), 10)
			b = append(b, '\n')
		}
	}
	return append(b, "# EOF\n"...)
}

// TestP90RegressionAlertRealPrometheus proves with the real Prometheus that
// monitoring/rules.yaml, as shipped, fires InstallStageP90Regressed for a
// stage that got slower on the newest release and not for one that did not.
// The rules compare 7 days to the last midnight (UTC), so the history is
// backfilled:
//
//  1. Raw histogram samples over the 8 days and more the rules read (two
//     releases, 96 finished runs of each stage a day each; aws: 4.17 twice
//     as slow as 4.16, gcp: as fast), written into an empty TSDB by
//     `promtool tsdb create-blocks-from openmetrics`.
//  2. The recording rules the alert depends on, level by level (each level
//     a rule file of rules.yaml's own rules, unchanged, that read only raw
//     families or lower levels), by `promtool tsdb create-blocks-from rules`
//     against the real Prometheus running on the TSDB so far, over the
//     window the levels above read (their ranges, subqueries and offsets,
//     from the parsed expressions), every minute, or every 5 minutes (the
//     lookback delta) for the hourly and daily tiles, which are read only
//     at whole hours and midnights; Prometheus restarts between levels to
//     load the new blocks.
//  3. The alert's for state. promtool backfills no alerts, and `for: 1h`
//     would take an hour of real evaluation. Prometheus restores an alert's
//     pending time at start-up from its ALERTS_FOR_STATE series (value: the
//     time the alert became active), which it writes at every evaluation
//     while the alert is active. The test writes that series as a
//     Prometheus evaluating every minute over the last 90 minutes would
//     have: from the alert's own expression (from rules.yaml) over the
//     backfilled history, each series from the first minute it held to the
//     last. Where the expression never held (gcp) there is none.
//  4. The real Prometheus starts on it all with monitoring/rules.yaml
//     itself (nothing in it changed), evaluating every second: the alert
//     is active at its first evaluation (the recorded 7-day series come
//     from the backfilled daily tiles at the last seven midnights),
//     Prometheus restores its for state after the second, and it fires at
//     the next. The test checks that it
//     fires, with the labels, value and active time expected, for each aws
//     stage whose p90 moves up a bucket far enough (all but provisioning,
//     whose 2 s and 4 s share the first bucket), and not at all for gcp,
//     whose ratios are exactly 1.
func TestP90RegressionAlertRealPrometheus(t *testing.T) {
	testenv.Tool(t, "prometheus")
	testenv.Tool(t, "promtool")
	began := time.Now()
	phase := began
	logPhase := func(what string) {
		t.Logf("%s: %v", what, time.Since(phase).Round(time.Millisecond))
		phase = time.Now()
	}
	now := time.Now().UTC().Truncate(time.Second)
	if wait := now.Truncate(24 * time.Hour).Add(24 * time.Hour).Sub(now); wait < p90MidnightMargin {
		t.Logf("waiting %v for midnight (UTC) to pass", wait)
		time.Sleep(wait + time.Second)
		now = time.Now().UTC().Truncate(time.Second)
	}
	alert, levels, rawWindows := p90Rules(t, now)
	data, work := t.TempDir(), t.TempDir()

	// 1. The raw history.
	var from time.Time
	for name, w := range rawWindows {
		if !strings.HasPrefix(name, metrics.StageDurationFamily) {
			t.Fatalf("%s depends on %s, which this test does not backfill", p90Alert, name)
		}
		if from.IsZero() || w[0].Before(from) {
			from = w[0]
		}
	}
	from = from.Truncate(p90RawStep)
	rawPath := filepath.Join(work, "raw.om")
	if err := os.WriteFile(rawPath, p90RawOpenMetrics(from, now), 0o644); err != nil {
		t.Fatal(err)
	}
	testenv.Promtool(t, "tsdb", "create-blocks-from", "--quiet", "--max-block-duration="+p90BlockDuration, "openmetrics", rawPath, data)
	logPhase(fmt.Sprintf("raw history from %s", from.Format(time.RFC3339)))

	// 2. The recording rules, level by level.
	p90BackfillLevels(t, data, work, levels, logPhase)

	// 3. The alert's for state.
	first := p90BackfillForState(t, data, work, alert, now)
	logPhase(fmt.Sprintf("for state of %d alerts", len(first)))

	// What the rules must find: each stage's p90 in its bucket, the ratio of
	// the newest release's to the other's, and an alert where it is >= 1.5.
	wantRatio := map[string]float64{}
	wantAlerts := map[string]float64{}
	for _, p := range p90Platforms {
		for st, secs := range clusterSuccessStages {
			ratio := p90Bucket(secs*p.factor) / p90Bucket(secs)
			lbls := model.LabelSet{"stage": model.LabelValue(st), "platform": model.LabelValue(p.platform), "ci": "false",
				"version": p90NewVersion, "previous_version": p90OldVersion}
			wantRatio[lbls.String()] = ratio
			if ratio >= 1.5 {
				lbls = lbls.Clone()
				lbls[model.MetricNameLabel], lbls[model.AlertNameLabel], lbls["alertstate"] = "ALERTS", p90Alert, "firing"
				for k, v := range alert.Labels {
					lbls[model.LabelName(k)] = model.LabelValue(v)
				}
				wantAlerts[model.Metric(lbls).String()] = 1
			}
		}
	}
	if len(wantAlerts) == 0 || len(wantAlerts) == len(wantRatio)/2 {
		t.Fatalf("the durations make %d of the %d aws stages alert: want some, not all", len(wantAlerts), len(wantRatio)/2)
	}
	// The alert's expression held over the backfilled history exactly
	// where it should.
	for series := range first {
		if wantRatio[series] < 1.5 {
			t.Errorf("%s%s held over the backfilled history: p90 ratio %v", p90Alert, series, wantRatio[series])
		}
	}
	if len(first) != len(wantAlerts) {
		t.Errorf("%s held over the backfilled history for %d series, want %d", p90Alert, len(first), len(wantAlerts))
	}

	// 4. The real Prometheus with rules.yaml as shipped.
	rulesPath := filepath.Join(testenv.RepoRoot(t), monitoring.RulesPath)
	prom := testenv.StartPrometheusOn(t, data, fmt.Appendf(nil, "global:\n  evaluation_interval: 1s\nrule_files: [%q]\n", rulesPath))
	// Firing, as ALERTS says (written only once the for state is restored).
	testenv.WaitForQuery(t, prom.URL, `ALERTS{alertname="`+p90Alert+`"}`, wantAlerts, p90AlertWait)
	logPhase("firing")
	alerts := getAlerts(t, prom.URL)
	if len(alerts) != len(wantAlerts) {
		t.Errorf("/api/v1/alerts: %d alerts, want %d", len(alerts), len(wantAlerts))
	}
	for _, a := range alerts {
		if a.State != "firing" {
			t.Errorf("%v: %s, want firing", a.Labels, a.State)
		}
		lbls := model.LabelSet{}
		for k, v := range a.Labels {
			if k != "alertname" && k != "severity" {
				lbls[model.LabelName(k)] = model.LabelValue(v)
			}
		}
		if at := first[lbls.String()]; !a.ActiveAt.Equal(time.Unix(int64(at), 0)) {
			t.Errorf("%v: active since %v, want %v (restored from ALERTS_FOR_STATE)", a.Labels, a.ActiveAt, time.Unix(int64(at), 0).UTC())
		}
		if v, err := strconv.ParseFloat(a.Value, 64); err != nil || !closeTo(v, wantRatio[lbls.String()]) {
			t.Errorf("%v: value %q, want %v", a.Labels, a.Value, wantRatio[lbls.String()])
		}
		if want := fmt.Sprintf("was %.2f times as long on OpenShift %s", wantRatio[lbls.String()], p90NewVersion); !strings.Contains(a.Annotations["description"], want) {
			t.Errorf("%v: description %q, want it to say %q", a.Labels, a.Annotations["description"], want)
		}
	}
	// The recorded series behind it, as the real Prometheus evaluates them.
	checkValues(t, prom.URL, "cluster_installation:stage_duration_p90_newest_release:ratio7d", wantRatio)
	wantP90, wantCount := map[string]float64{}, map[string]float64{}
	for _, p := range p90Platforms {
		for st, secs := range clusterSuccessStages {
			for v, f := range map[string]float64{p90OldVersion: 1, p90NewVersion: p.factor} {
				lbls := model.LabelSet{"stage": model.LabelValue(st), "platform": model.LabelValue(p.platform), "ci": "false", "version": model.LabelValue(v)}.String()
				wantP90[lbls] = p90Bucket(secs * f)
				wantCount[lbls] = float64(7 * 24 * time.Hour / p90RawStep)
			}
		}
	}
	checkValues(t, prom.URL, "cluster_installation:stage_duration_seconds:p90_7d", wantP90)
	checkValues(t, prom.URL, "cluster_installation:stage_duration_seconds_count:sum7d", wantCount)
	t.Logf("wall time: %v", time.Since(began).Round(time.Millisecond))
}

// p90NoRules configures a Prometheus that only answers queries.
var p90NoRules = []byte("global:\n  evaluation_interval: 1s\n")

// p90BackfillLevels backfills the recording rules into the TSDB data, level
// by level: a rule file of each level's rules, evaluated by promtool over
// the level's window against the real Prometheus running on data, the
// blocks it writes moved into data before the next level.
func p90BackfillLevels(t *testing.T, data, work string, levels [][]*p90Rule, logPhase func(string)) {
	t.Helper()
	for i, rules := range levels {
		var file struct {
			Groups []map[string]any `yaml:"groups"`
		}
		lfrom, lto, every := rules[0].from, rules[0].to, rules[0].every
		var names []string
		for _, r := range rules {
			every = min(every, r.every)
			if r.from.Before(lfrom) {
				lfrom = r.from
			}
			if r.to.After(lto) {
				lto = r.to
			}
			names = append(names, r.Record)
		}
		file.Groups = []map[string]any{{"name": fmt.Sprintf("level-%d", i+1), "rules": rules}}
		y, err := yaml.Marshal(file)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(work, fmt.Sprintf("level-%d.yaml", i+1))
		if err := os.WriteFile(path, y, 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(work, fmt.Sprintf("level-%d", i+1))
		prom := testenv.StartPrometheusOn(t, data, p90NoRules)
		testenv.Promtool(t, "tsdb", "create-blocks-from", "--quiet", "--max-block-duration="+p90BlockDuration, "rules",
			"--url="+prom.URL, "--eval-interval="+every.String(), "--output-dir="+out,
			"--start="+strconv.FormatInt(lfrom.Unix(), 10), "--end="+strconv.FormatInt(lto.Unix(), 10), path)
		prom.Stop()
		moveBlocks(t, out, data)
		logPhase(fmt.Sprintf("level %d from %s every %v: %s", i+1, lfrom.Format(time.RFC3339), every, strings.Join(names, ", ")))
	}
}

// p90BackfillForState writes into the TSDB data the ALERTS_FOR_STATE series
// a Prometheus evaluating alert every p90EvalStep over the p90AlertHistory
// before now would have written, from alert's expression over what data
// holds, and returns the time (Unix seconds) each alert became active, by
// the label set of its expression.
func p90BackfillForState(t *testing.T, data, work string, alert *p90Rule, now time.Time) map[string]float64 {
	t.Helper()
	prom := testenv.StartPrometheusOn(t, data, p90NoRules)
	expr := strings.TrimSpace(alert.Expr)
	window := fmt.Sprintf("[%s:%s] @ %d", model.Duration(p90AlertHistory), model.Duration(p90EvalStep), now.Unix())
	firstV := testenv.Query(t, prom.URL, "min_over_time(timestamp(("+expr+"))"+window+")")
	last := testenv.VectorMap(testenv.Query(t, prom.URL, "max_over_time(timestamp(("+expr+"))"+window+")"))
	evals := testenv.VectorMap(testenv.Query(t, prom.URL, "count_over_time(("+expr+")"+window+")"))
	prom.Stop()
	hold, err := model.ParseDuration(alert.For)
	if err != nil {
		t.Fatalf("%s: for %q: %v", p90Alert, alert.For, err)
	}
	first := testenv.VectorMap(firstV)
	var state bytes.Buffer
	for _, s := range firstV {
		series, at := s.Metric.String(), float64(s.Value)
		// Active without a break from first to last, for longer than `for`.
		if want := (last[series]-at)/p90EvalStep.Seconds() + 1; evals[series] != want || last[series]-at < time.Duration(hold).Seconds() {
			t.Fatalf("%s%s held at %v of the minutes from %v to %v: want all of them, over more than %v", p90Alert, series, evals[series], at, last[series], hold)
		}
		lbls := s.Metric.Clone()
		lbls[model.AlertNameLabel] = p90Alert
		for k, v := range alert.Labels {
			lbls[model.LabelName(k)] = model.LabelValue(v)
		}
		var sel []string
		for _, k := range slices.Sorted(maps.Keys(lbls)) {
			sel = append(sel, fmt.Sprintf("%s=%q", k, lbls[k]))
		}
		for ts := at; ts <= last[series]; ts += p90EvalStep.Seconds() {
			fmt.Fprintf(&state, "ALERTS_FOR_STATE{%s} %d %d\n", strings.Join(sel, ","), int64(at), int64(ts))
		}
	}
	state.WriteString("# EOF\n")
	statePath := filepath.Join(work, "for-state.om")
	if err := os.WriteFile(statePath, state.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if len(first) > 0 {
		testenv.Promtool(t, "tsdb", "create-blocks-from", "--quiet", "openmetrics", statePath, data)
	}
	return first
}

// moveBlocks moves the TSDB blocks promtool wrote into dir into the TSDB data.
func moveBlocks(t *testing.T, dir, data string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.Rename(filepath.Join(dir, e.Name()), filepath.Join(data, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
}

// closeTo reports whether a and b agree to a billionth.
func closeTo(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b)) }

// checkValues compares the vector of promql, by label set without the
// metric name, with want, values to a billionth.
func checkValues(t *testing.T, api, promql string, want map[string]float64) {
	t.Helper()
	got := map[string]float64{}
	for _, s := range testenv.Query(t, api, promql) {
		delete(s.Metric, model.MetricNameLabel)
		got[s.Metric.String()] = float64(s.Value)
	}
	if !cmp.Equal(want, got, cmp.Comparer(closeTo)) {
		t.Errorf("%s: mismatch (-want +got):\n%s", promql, cmp.Diff(want, got, cmp.Comparer(closeTo)))
	}
}

// promAlert is one alert of Prometheus's /api/v1/alerts.
type promAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
	ActiveAt    time.Time         `json:"activeAt"`
	Value       string            `json:"value"`
}

// getAlerts returns the alerts of Prometheus's /api/v1/alerts.
func getAlerts(t *testing.T, api string) []promAlert {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Get(api + "/api/v1/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Alerts []promAlert `json:"alerts"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Status != "success" {
		t.Fatalf("%s/api/v1/alerts: status %q, %v", api, r.Status, err)
	}
	return r.Data.Alerts
}
