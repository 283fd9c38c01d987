package e2e

import (
	"slices"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/install-metrics/install-metrics/internal/testenv"
	"github.com/install-metrics/install-metrics/monitoring"
)

// checkMonitoring runs every user-story query of monitoring/queries.yaml
// (docs/queries.md) and every target of every dashboard panel against the
// real Prometheus holding the wrapped runs' data (its rules loaded from
// monitoring/rules.yaml), and checks that each answers with series that carry
// the labels the query promises, those over the v2 histograms included (the
// wrapped runs push them).
func checkMonitoring(t *testing.T, api string) {
	t.Helper()
	if !hasHistograms(t, api) {
		t.Fatal("the wrapped runs pushed no v2 histogram series")
	}
	queries, err := monitoring.Queries()
	if err != nil {
		t.Fatal(err)
	}
	panels, err := monitoring.DashboardQueries(monitoring.DefaultVars("7d"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range append(queries, panels...) {
		t.Run("query/"+q.Name, func(t *testing.T) {
			v := waitNonEmpty(t, api, q.Expr, waitQuery)
			for _, s := range v {
				for _, l := range q.Labels {
					if _, ok := s.Metric[model.LabelName(l)]; !ok {
						t.Errorf("series %v lacks label %q that %s promises", s.Metric, l, q.Name)
					}
				}
				if !slices.Contains(q.Labels, "le") && (s.Value < 0 || s.Value != s.Value) {
					t.Errorf("series %v = %v", s.Metric, s.Value)
				}
			}
		})
	}
}

// hasHistograms reports whether Prometheus holds any series of the v2 histograms.
func hasHistograms(t *testing.T, api string) bool {
	t.Helper()
	v, err := testenv.QueryErr(api, `count({__name__=~"cluster_installation_(stage|command)_duration_seconds_bucket"})`)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return len(v) > 0
}

// waitNonEmpty polls an instant query until it answers with at least one
// series (recording rules need an evaluation or two first).
func waitNonEmpty(t *testing.T, api, expr string, timeout time.Duration) model.Vector {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		v, err := testenv.QueryErr(api, expr)
		if err != nil {
			t.Fatalf("%v", err)
		}
		if len(v) > 0 {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("no series after %v for:\n%s", timeout, expr)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
