package metrics

import (
	"bytes"
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/install-metrics/install-metrics/pkg/metrics/metricstest"
	"github.com/install-metrics/install-metrics/pkg/record"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestBucket(t *testing.T) {
	for _, tc := range []struct {
		d, step time.Duration
		want    string
	}{
		{0, DefaultBucket, "2.5"},
		{-time.Minute, DefaultBucket, "2.5"},
		{time.Second, DefaultBucket, "2.5"},
		{150 * time.Second, DefaultBucket, "2.5"},
		{150*time.Second + 1, DefaultBucket, "5"},
		{25 * time.Minute, DefaultBucket, "25"},
		{25*time.Minute + time.Second, DefaultBucket, "27.5"},
		{47 * time.Minute, DefaultBucket, "47.5"},
		{59 * time.Second, time.Minute, "1"},
		{61 * time.Second, time.Minute, "2"},
		{31 * time.Second, 30 * time.Second, "1"},
		{29 * time.Second, 30 * time.Second, "0.5"},
		{100 * time.Second, 36 * time.Second, "1.8"},
		{24 * time.Hour, DefaultBucket, "1440"},
		{24*time.Hour + time.Second, DefaultBucket, InfBucket},
		{time.Minute, 7 * time.Second, "2.5"}, // invalid step: the default
		{0, 0, "2.5"},
	} {
		if got := Bucket(tc.d, tc.step); got != tc.want {
			t.Errorf("Bucket(%v, %v) = %q, want %q", tc.d, tc.step, got, tc.want)
		}
		if got := Bucket(tc.d, tc.step); !validBucketLabel(got) {
			t.Errorf("Bucket(%v, %v) = %q is not a valid bucket label", tc.d, tc.step, got)
		}
	}
}

func TestValidateBucket(t *testing.T) {
	for _, ok := range []time.Duration{30 * time.Second, time.Minute, DefaultBucket, 36 * time.Second, 24 * time.Hour} {
		if err := ValidateBucket(ok); err != nil {
			t.Errorf("ValidateBucket(%v) = %v", ok, err)
		}
	}
	for step, want := range map[time.Duration]string{
		0:                     "0s is too small: the bucket step must be at least 30s",
		-time.Minute:          "-1m0s is too small: the bucket step must be at least 30s",
		20 * time.Second:      "20s is too small: the bucket step must be at least 30s",
		35 * time.Second:      "35s is not a multiple of 6s: use a step such as 30s, 1m or 2m30s",
		25 * time.Hour:        "25h0m0s is too large: the bucket step must be at most 24h0m0s",
		time.Minute + 1:       "1m0.000000001s is not a multiple of 6s: use a step such as 30s, 1m or 2m30s",
		150*time.Second + 500: "2m30.0000005s is not a multiple of 6s: use a step such as 30s, 1m or 2m30s",
	} {
		err := ValidateBucket(step)
		if err == nil || err.Error() != want {
			t.Errorf("ValidateBucket(%v) = %v, want %q", step, err, want)
		}
	}
}

func TestNormalizeVersion(t *testing.T) {
	for in, want := range map[string]string{
		"4.16.20":                          "4.16",
		"4.14":                             "4.14",
		"v4.2.0":                           "4.2",
		"v0.16.1":                          "0.16",
		"4.5.37":                           "4.5",
		"4.10.0-rc.1":                      "4.10-pre",
		"4.15.0-ec.2":                      "4.15-pre",
		"4.14.0-0.nightly-2023-10-01-1234": "4.14-pre",
		"4.14.0-0.ci-2023-10-01-123456":    "4.14-pre",
		"4.5.0-0.okd-2020-07-14-153706-ga": "4.5-okd",
		"4.4.0-0.okd-2020-03-21-112849":    "4.4-okd",
		"4.16.0-0.okd-scos-2024-05-01":     "4.16-okd",
		"4.14-okd":                         "4.14-okd",
		"4.14-pre":                         "4.14-pre",
		"4.16.3+build.5":                   "4.16",
		"unreleased-master-542-g0e12f4527c25e9d1e2ddb31bea0ace0cb6d463ca-dirty": "dev",
		"7ad0e35651d59acc86772481d79ea17241f3ecd7":                              "dev",
		"7ad0e35":                       "dev",
		"was not built correctly":       "dev",
		"dev":                           "dev",
		"":                              "unknown",
		"  ":                            "unknown",
		"unknown":                       "unknown",
		"hello world":                   "unknown",
		"4":                             "unknown",
		"4.16.20 extra":                 "unknown",
		"100.1.0":                       "unknown",
		"4.16.20\n":                     "4.16",
		"4.16.0-rc.1,evil":              "unknown",
		"<script>":                      "unknown",
		strings.Repeat("4.", 100) + "1": "unknown",
	} {
		got := NormalizeVersion(in)
		if got != want {
			t.Errorf("NormalizeVersion(%q) = %q, want %q", in, got, want)
		}
		if again := NormalizeVersion(got); again != got {
			t.Errorf("NormalizeVersion is not idempotent on %q: %q", got, again)
		}
	}
}

func goldenCompare(t *testing.T, name string, got []byte) {
	t.Helper()
	metricstest.Golden(t, name, got, *update)
}

func TestSamplesGolden(t *testing.T) {
	for name, inv := range metricstest.Invocations() {
		for _, joined := range []bool{false, true} {
			golden := "samples/" + name + ".prom"
			if joined {
				if len(inv.Modified) == 0 || inv.Result != record.Success {
					continue
				}
				golden = "samples/" + name + "-joined.prom"
			}
			t.Run(strings.TrimSuffix(filepath.Base(golden), ".prom"), func(t *testing.T) {
				samples := Samples(inv, SampleOptions{Joined: joined})
				for _, s := range samples {
					if !ValidSample(s) {
						t.Errorf("sample outside the closed sets: %+v", s)
					}
				}
				got, err := Text(samples)
				if err != nil {
					t.Fatal(err)
				}
				goldenCompare(t, golden, got)

				reg := prometheus.NewPedanticRegistry()
				reg.MustRegister(NewCollector(samples...))
				if err := testutil.GatherAndCompare(reg, bytes.NewReader(got), Families...); err != nil {
					t.Errorf("GatherAndCompare: %v", err)
				}
			})
		}
	}
}

// TestCollectAndLint: the only lint finding is the agreed one. The schema's
// family names are the interface with the people who query them, so they keep
// no _total suffix (docs/STYLE.md, exception to item 12).
func TestCollectAndLint(t *testing.T) {
	inv := metricstest.Invocations()["create-cluster-success"]
	problems, err := testutil.CollectAndLint(NewCollector(Samples(inv, SampleOptions{})...))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range problems {
		got = append(got, p.Metric+": "+p.Text)
	}
	want := []string{
		`cluster_installation_duration: counter metrics should have "_total" suffix`,
		`cluster_installation_invocation: counter metrics should have "_total" suffix`,
		`cluster_installation_modification: counter metrics should have "_total" suffix`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lint problems mismatch (-want +got):\n%s", diff)
	}
}

func TestSamplesClosedSets(t *testing.T) {
	inv := metricstest.Invocations()["hostile"]
	inv.Result = record.Success
	inv.ExitCode = 0
	samples := Samples(inv, SampleOptions{})
	text, err := Text(samples)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"rm -rf", "evil", "TempleOS", "AWS", "Pwned", "passwd", "secret", "a,b", "-1"} {
		if strings.Contains(string(text), bad) {
			t.Errorf("free text %q reached the samples:\n%s", bad, text)
		}
	}
	for _, s := range samples {
		if !ValidSample(s) {
			t.Errorf("invalid sample %+v", s)
		}
	}
	var assets []string
	for _, s := range samples {
		if s.Name == ModificationFamily {
			assets = append(assets, s.Label("asset"))
		}
	}
	if diff := cmp.Diff([]string{"manifests/ok.yaml", "other"}, assets); diff != "" {
		t.Errorf("assets mismatch (-want +got):\n%s", diff)
	}
}

func TestSamplesWhichFamilies(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	timed := []record.Stage{{Name: record.Bootstrap, Start: t0, End: t0.Add(time.Minute), Timed: true}}
	untimed := []record.Stage{{Name: record.Bootstrap, Start: t0, End: t0.Add(time.Minute)}}
	agent := []record.Stage{{Name: record.Rendezvous, Start: t0, End: t0.Add(time.Minute), Timed: true}, timed[0]}
	for _, tc := range []struct {
		inv  record.Invocation
		want []string
	}{
		{record.Invocation{Command: "create", Target: "cluster", Result: record.Success, Modified: []string{}}, []string{InvocationFamily, DurationFamily, CommandDurationFamily}},
		{record.Invocation{Command: "create", Target: "cluster", Result: record.Success, Modified: []string{"bootstrap.ign"}}, []string{InvocationFamily, DurationFamily, ModificationFamily, CommandDurationFamily}},
		{record.Invocation{Command: "create", Target: "cluster", Result: record.APIFailed, ExitCode: 5, Modified: []string{"bootstrap.ign"}}, []string{InvocationFamily, DurationFamily, CommandDurationFamily}},
		{record.Invocation{Command: "create", Target: "ignition-configs", Result: record.Success, Modified: []string{"openshift/99_x.yaml"}, Stages: timed}, []string{InvocationFamily, ModificationFamily, CommandDurationFamily}},
		{record.Invocation{Command: "wait-for", Target: "bootstrap-complete", Result: record.Success, Stages: timed}, []string{InvocationFamily, DurationFamily, StageDurationFamily, CommandDurationFamily}},
		{record.Invocation{Command: "wait-for", Target: "bootstrap-complete", Result: record.Success, Stages: untimed}, []string{InvocationFamily, DurationFamily, CommandDurationFamily}},
		{record.Invocation{Command: "destroy", Target: "cluster", Result: record.Failed, ExitCode: 1, Stages: timed}, []string{InvocationFamily, CommandDurationFamily}},
		{record.Invocation{Command: "agent", Target: "wait-for/install-complete", Result: record.Success, Stages: agent}, []string{InvocationFamily, DurationFamily, StageDurationFamily, StageDurationFamily, CommandDurationFamily}},
		{record.Invocation{}, []string{InvocationFamily, CommandDurationFamily}},
		// A provisional journal record taken over: the wall time is unknown.
		{record.Invocation{Command: "create", Target: "cluster", Result: record.Interrupted, ExitCode: -1}, []string{InvocationFamily, DurationFamily}},
	} {
		var got []string
		for _, s := range Samples(tc.inv, SampleOptions{}) {
			got = append(got, s.Name)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s %s: families mismatch (-want +got):\n%s", tc.inv.Command, tc.inv.Target, diff)
		}
	}
}

func TestValidSampleRejects(t *testing.T) {
	good := Samples(metricstest.Invocations()["create-cluster-success"], SampleOptions{})
	for _, s := range good {
		if !ValidSample(s) {
			t.Fatalf("good sample rejected: %+v", s)
		}
	}
	mutate := func(f func(*Sample)) Sample {
		s := good[0]
		s.Labels = append([]Label(nil), s.Labels...)
		f(&s)
		return s
	}
	for name, s := range map[string]Sample{
		"unknown family": mutate(func(s *Sample) { s.Name = "evil" }),
		"free text":      mutate(func(s *Sample) { s.Labels[0].Value = "rm -rf" }),
		"label order":    mutate(func(s *Sample) { s.Labels[0], s.Labels[1] = s.Labels[1], s.Labels[0] }),
		"missing label":  mutate(func(s *Sample) { s.Labels = s.Labels[1:] }),
		"zero value":     mutate(func(s *Sample) { s.Value = 0 }),
		"negative value": mutate(func(s *Sample) { s.Value = -1 }),
		"bad bucket":     mutate(func(s *Sample) { s.Labels[7].Value = "2.50" }),
		"bad return":     mutate(func(s *Sample) { s.Labels[5].Value = "256" }),
		"bad target":     mutate(func(s *Sample) { s.Labels[1].Value = "pwned" }),
	} {
		if ValidSample(s) {
			t.Errorf("%s: accepted %+v", name, s)
		}
	}
}
