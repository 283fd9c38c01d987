package e2e

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/install-metrics/install-metrics/internal/testenv"
	"github.com/install-metrics/install-metrics/pkg/metrics"
	"github.com/install-metrics/install-metrics/pkg/sink/gateway/gatewaytest"
)

// The stages of replay scenario cluster-success (its log, by `install-metrics
// metrics classify`): provisioning 2s, infrastructure 6m49s, api 3m29s,
// bootstrap 12m19s, operators 9m50s.
var clusterSuccessStages = map[string]float64{
	"provisioning": 2, "infrastructure": 409, "api": 209, "bootstrap": 739, "operators": 590,
}

// stretchedScenario writes a copy of the replay scenario cluster-success
// whose log timestamps are factor times as far apart (every stage lasts
// factor times as long; the replay keeps the log's time deltas), and
// returns its path.
func stretchedScenario(t *testing.T, factor float64) string {
	t.Helper()
	src := filepath.Join(testenv.RepoRoot(t), "internal", "replay", "testdata", "scenarios")
	data, err := os.ReadFile(filepath.Join(src, "cluster-success.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sc map[string]any
	if err := json.Unmarshal(data, &sc); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	logData, err := os.ReadFile(filepath.Join(src, sc["log"].(string)))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	var t0 time.Time
	sc2 := bufio.NewScanner(strings.NewReader(string(logData)))
	sc2.Buffer(nil, 1<<20)
	for sc2.Scan() {
		line := sc2.Text()
		if rest, ok := strings.CutPrefix(line, `time="`); ok {
			ts, tail, _ := strings.Cut(rest, `"`)
			at, err := time.Parse(time.RFC3339, ts)
			if err != nil {
				t.Fatal(err)
			}
			if t0.IsZero() {
				t0 = at
			}
			at = t0.Add(time.Duration(factor * float64(at.Sub(t0))))
			line = `time="` + at.Format(time.RFC3339) + `"` + tail
		}
		out.WriteString(line + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "stretched.log"), []byte(out.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	state, err := os.ReadFile(filepath.Join(src, sc["state"].(string)))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "state.json"), state, 0o644); err != nil {
		t.Fatal(err)
	}
	sc["log"], sc["state"], sc["default"] = "stretched.log", "state.json", false
	data, _ = json.Marshal(sc)
	path := filepath.Join(dir, fmt.Sprintf("cluster-success-x%v.json", factor))
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// bucketOf is the contract bucket (lower, upper] holding v seconds.
func bucketOf(v float64) (float64, float64) {
	lower := 0.0
	for _, b := range metrics.StageBounds {
		if v <= b {
			return lower, b
		}
		lower = b
	}
	return lower, math.Inf(1)
}

// TestHistogramQuantilesPerStage runs replayed installs with known stage
// durations through the real wrapper into the textfile, the gateway fake and
// the real statsd_exporter (with monitoring/statsd-mapping.yaml); the real
// Prometheus scrapes all three, and histogram_quantile per stage and
// version lands, from each source, in the bucket the known durations put it
// in: three runs of 4.16 at the recorded speed, two of 4.17 four times
// slower.
func TestHistogramQuantilesPerStage(t *testing.T) {
	testenv.Tool(t, "prometheus")
	mapping := filepath.Join(testenv.RepoRoot(t), "monitoring", "statsd-mapping.yaml")
	im, installer := build(t)
	udp, _, statsdMetrics := testenv.StartStatsdExporter(t, "--statsd.mapping-config="+mapping)
	state := t.TempDir()
	textfile := filepath.Join(state, "install-metrics", "metrics.prom")
	tf := testenv.ServeTextfile(t, textfile)
	gw := gatewaytest.NewServer(gatewaytest.Options{})
	t.Cleanup(gw.Close)
	env := append(os.Environ(),
		"XDG_STATE_HOME="+state, "HOME="+t.TempDir(),
		"INSTALL_METRICS_INSTALLER="+installer,
		"INSTALL_METRICS_SINKS=statsd://"+udp+",file://"+textfile+","+gw.URL,
		"OPENSHIFT_INSTALL_REPLAY_SPEED=inf",
		"CI=", "OPENSHIFT_CI=", "PROW_JOB_ID=", "JENKINS_URL=", "GITHUB_ACTIONS=", "GITLAB_CI=", "BUILD_ID=",
		"INSTALL_METRICS=", "DO_NOT_TRACK=",
	)
	versions := []struct {
		version, label string
		factor         float64
		runs           int
	}{
		{"4.16.20", "4.16", 1, 3},
		{"4.17.3", "4.17", 4, 2},
	}
	work := t.TempDir()
	n := 0
	for _, v := range versions {
		scenario := stretchedScenario(t, v.factor)
		for range v.runs {
			dir := filepath.Join(work, fmt.Sprintf("c%d", n))
			n++
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "install-config.yaml"), fmt.Appendf(nil, installConfig, "aws"), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(im, "create", "cluster", "--dir", dir)
			cmd.Env = append(env[:len(env):len(env)], "OPENSHIFT_INSTALL_REPLAY_SCENARIO="+scenario, "OPENSHIFT_INSTALL_REPLAY_VERSION="+v.version)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if errors.As(err, &ee) || err != nil {
				t.Fatalf("run %d: %v\n%s", n, err, out)
			}
			if strings.Contains(string(out), "install-metrics: warning") {
				t.Errorf("run %d: a sink failed:\n%s", n, out)
			}
		}
	}

	api := testenv.StartPrometheus(t, statsdMetrics, tf.URL+"/metrics", gw.URL+"/metrics")
	sources := map[string]string{
		"statsd":   strings.TrimPrefix(strings.TrimSuffix(statsdMetrics, "/metrics"), "http://"),
		"textfile": strings.TrimPrefix(tf.URL, "http://"),
		"gateway":  strings.TrimPrefix(gw.URL, "http://"),
	}
	for name, inst := range sources {
		sel := `instance="` + inst + `"`
		t.Run(name, func(t *testing.T) {
			// Every run observed once per stage: _count per version.
			counts := map[string]float64{}
			for _, v := range versions {
				for st := range clusterSuccessStages {
					counts[fmt.Sprintf(`{stage=%q, version=%q}`, st, v.label)] = float64(v.runs)
				}
			}
			testenv.WaitForQuery(t, api, `sum by (stage, version) (cluster_installation_stage_duration_seconds_count{`+sel+`})`, counts, waitQuery)
			testenv.WaitForQuery(t, api, `sum(cluster_installation_command_duration_seconds_count{`+sel+`, command="create", target="cluster"})`,
				map[string]float64{"{}": 5}, waitQuery)

			// The textfile and StatsD hold totals since the start; the
			// gateway too. Every scrape holds all runs, so the buckets
			// themselves (no rate: the series began with the runs) give the
			// quantiles.
			for _, q := range []float64{0.5, 0.9} {
				query := fmt.Sprintf(`histogram_quantile(%v, sum by (le, stage, version) (cluster_installation_stage_duration_seconds_bucket{%s}))`, q, sel)
				got := testenv.VectorMap(testenv.Query(t, api, query))
				for _, v := range versions {
					for st, secs := range clusterSuccessStages {
						key := fmt.Sprintf(`{stage=%q, version=%q}`, st, v.label)
						lo, hi := bucketOf(secs * v.factor)
						if val, ok := got[key]; !ok || !(val > lo && val <= hi) {
							t.Errorf("%s %s: histogram_quantile(%v) = %v, want in (%v, %v] (the stage took %vs)", name, key, q, val, lo, hi, secs*v.factor)
						}
					}
				}
			}
			// Across versions: bootstrap's p50 among the three fast runs,
			// its p90 among the two slow ones.
			for q, secs := range map[float64]float64{0.5: 739, 0.9: 739 * 4} {
				query := fmt.Sprintf(`histogram_quantile(%v, sum by (le) (cluster_installation_stage_duration_seconds_bucket{%s, stage="bootstrap"}))`, q, sel)
				v := testenv.Query(t, api, query)
				lo, hi := bucketOf(secs)
				if len(v) != 1 || !(float64(v[0].Value) > lo && float64(v[0].Value) <= hi) {
					t.Errorf("%s: bootstrap over all versions: histogram_quantile(%v) = %v, want in (%v, %v]", name, q, v, lo, hi)
				}
			}
		})
	}
	// Two runs pushed to the gateway fake (4.17): _count 2, as the real
	// Prometheus scrapes it.
	testenv.WaitForQuery(t, api, `sum(cluster_installation_stage_duration_seconds_count{instance="`+sources["gateway"]+`", stage="bootstrap", version="4.17"})`,
		map[string]float64{"{}": 2}, waitQuery)
}
