package junit_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	gojunit "github.com/joshdk/go-junit"

	"github.com/install-metrics/install-metrics/pkg/junit"
	"github.com/install-metrics/install-metrics/pkg/record"
	"github.com/install-metrics/install-metrics/pkg/stages"
	"github.com/install-metrics/install-metrics/pkg/timeline"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// at returns t0 plus m minutes.
func at(m float64) time.Time { return t0.Add(time.Duration(m * float64(time.Minute))) }

// timelineOf builds the stages: each name with its minutes, the last one
// finished only when last is true.
func timelineOf(names []record.StageName, minutes []float64, lastFinished bool) []record.Stage {
	var out []record.Stage
	start := 0.0
	for i, n := range names {
		end := start + minutes[i]
		out = append(out, record.Stage{Name: n, Start: at(start), End: at(end), Finished: i < len(names)-1 || lastFinished})
		start = end
	}
	return out
}

func ipi(n int, lastFinished bool) []record.Stage {
	return timelineOf(record.StageNames[:n], []float64{1, 4.5, 6, 14, 27}, lastFinished)
}

func cluster(res record.Result, code int, st []record.Stage, deciding string) record.Invocation {
	var wall time.Duration
	if len(st) > 0 {
		wall = st[len(st)-1].End.Sub(t0) + 2*time.Second
	}
	return record.Invocation{Command: "create", Target: "cluster", OS: "linux", Platform: "aws", Version: "4.16.20",
		Stages: st, Result: res, Deciding: deciding, ExitCode: code, Start: t0, Wall: wall}
}

// want is the expected status of each case, in order, as go-junit reads it.
type golden struct {
	name string
	inv  record.Invocation
	want []string
}

const (
	P = string(gojunit.StatusPassed)
	F = string(gojunit.StatusFailed)
	S = string(gojunit.StatusSkipped)
)

func goldens(t *testing.T) []golden {
	log47 := classified(t, "039-vsphere-4.7-create-bootstrap-timeout-file.log", 1)
	log47.Command, log47.Target, log47.Wall = "create", "cluster", 0
	notStable := classified(t, "120-ci-4.15dev-create-operators-not-stable-file.log", 1)
	notStable.Command, notStable.Target = "create", "cluster"
	agent := timelineOf(record.AgentStageNames, []float64{3, 1, 9, 12, 31}, true)
	return []golden{
		{"success", cluster(record.Success, 0, ipi(5, true), "Install complete!"), []string{P, P, P, P, P, P, P}},
		{"invalidconfig", cluster(record.InvalidConfig, 3, ipi(1, false),
			`failed to fetch Metadata: failed to load asset "Install Config": platform.aws.region: Unsupported value: "mars-1"`),
			[]string{P, F, S, S, S, S, F}},
		{"provisioningfailed", cluster(record.ProvisioningFailed, 4, ipi(2, false),
			"failed to create cluster: failed to provision infrastructure"), []string{P, P, F, S, S, S, F}},
		{"apifailed", cluster(record.APIFailed, 5, ipi(3, false),
			"Failed waiting for Kubernetes API. This error usually happens when there is a problem on the bootstrap host"),
			[]string{P, P, P, F, S, S, F}},
		{"bootstrapfailed", cluster(record.BootstrapFailed, 5, ipi(4, false),
			"Bootstrap failed to complete: timed out waiting for the condition"), []string{P, P, P, F, S, S, F}},
		{"operatorsdegraded", cluster(record.OperatorsDegraded, 6, ipi(5, false),
			"failed to initialize the cluster: Cluster operators authentication, console are not available"),
			[]string{P, P, P, P, F, S, F}},
		{"operators-not-stable-exit7", cluster(record.OperatorsDegraded, 7, ipi(5, false),
			"failed to initialize the cluster: timed out waiting for the condition"), []string{P, P, P, P, P, F, F}},
		{"operators-not-stable-log", notStable, []string{P, P, P, P, P, F, F}},
		{"failed", cluster(record.Failed, 1, nil, ""), []string{F, S, S, S, S, S, F}},
		{"interrupted", withSignal(cluster(record.Interrupted, 130, ipi(4, false), "Received interrupt signal")),
			[]string{F, P, P, S, S, S, F}},
		{"exit1-4.7-log", log47, []string{P, P, P, F, S, S, F}},
		{"agent-success", record.Invocation{Command: "agent", Target: "wait-for", OS: "linux", Platform: "baremetal",
			Version: "4.18.3", Stages: agent, Result: record.Success, ExitCode: 0, Start: t0, Wall: 56 * time.Minute,
			Deciding: "Cluster is installed"}, []string{P, P, P, P, P, P, P}},
		{"agent-bootstrapfailed", record.Invocation{Command: "agent", Target: "wait-for", OS: "linux", Platform: "baremetal",
			Version: "4.18.3", Stages: timelineOf(record.AgentStageNames[:4], []float64{3, 1, 9, 12}, false),
			Result: record.BootstrapFailed, ExitCode: 5, Start: t0, Wall: 25 * time.Minute,
			Deciding: "Bootstrap failed to complete: : timed out waiting for the condition"},
			[]string{P, P, P, F, S, S, F}},
		{"create-manifests", record.Invocation{Command: "create", Target: "manifests", OS: "linux", Platform: "aws",
			Version: "4.16.20", Result: record.Success, Start: t0, Wall: 3 * time.Second}, []string{P}},
		{"destroy-cluster-failed", record.Invocation{Command: "destroy", Target: "cluster", OS: "linux", Platform: "gcp",
			Version: "4.16.20", Result: record.Failed, ExitCode: 1, Start: t0, Wall: 90 * time.Second,
			Deciding: "failed to destroy cluster: context deadline exceeded"}, []string{F}},
	}
}

func withSignal(inv record.Invocation) record.Invocation {
	inv.Signal = "interrupt"
	return inv
}

// classified reads a real log as the wrapper would, given the exit code.
func classified(t *testing.T, name string, code int) record.Invocation {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum, err := stages.Classify(f, func() time.Time { return t0 }, stages.Exit{Code: code, Known: true})
	if err != nil {
		t.Fatal(err)
	}
	return record.Invocation{Version: sum.Version, Stages: sum.Stages, Result: sum.Result, Deciding: sum.Deciding, ExitCode: code}
}

func report(inv record.Invocation) junit.Suite {
	return junit.Build(inv, timeline.String(inv, timeline.Options{ExitCode: true}))
}

// TestGolden renders each report, compares it with testdata/NAME.xml, and
// reads it back with a JUnit reader that is not ours (joshdk/go-junit).
func TestGolden(t *testing.T) {
	for _, g := range goldens(t) {
		t.Run(g.name, func(t *testing.T) {
			b, err := junit.Document(report(g.inv)).Marshal()
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, g.name+".xml", b)
			suites, err := gojunit.Ingest(b)
			if err != nil {
				t.Fatalf("go-junit: %v", err)
			}
			if len(suites) != 1 {
				t.Fatalf("go-junit read %d suites, want 1", len(suites))
			}
			checkCases(t, suites[0], g.inv, g.want)
		})
	}
}

func checkCases(t *testing.T, s gojunit.Suite, inv record.Invocation, want []string) {
	t.Helper()
	var got []string
	for _, c := range s.Tests {
		got = append(got, string(c.Status))
		if c.Classname == "" {
			t.Errorf("case %q has no classname", c.Name)
		}
		if c.Status == gojunit.StatusFailed && c.Message != string(inv.Result) {
			t.Errorf("case %q: failure message %q, want the result class %s", c.Name, c.Message, inv.Result)
		}
		if c.Status == gojunit.StatusFailed && inv.Deciding != "" && (c.Error == nil || c.Error.Error() != inv.Deciding) {
			t.Errorf("case %q: failure text %v, want the deciding line", c.Name, c.Error)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("case statuses (-want +got):\n%s", diff)
	}
	if junit.IsCluster(inv.Command, inv.Target) {
		if s.Name != junit.ClusterSuite || len(s.Tests) != 7 {
			t.Fatalf("suite %q with %d cases, want %q with 7", s.Name, len(s.Tests), junit.ClusterSuite)
		}
		for i, name := range []string{junit.CaseOther, junit.CaseConfiguration, junit.CaseInfra, junit.CaseBootstrap,
			junit.CaseCreation, junit.CaseStability, junit.CaseOverall} {
			if s.Tests[i].Name != name {
				t.Errorf("case %d is %q, want %q", i, s.Tests[i].Name, name)
			}
		}
	}
	if !strings.Contains(s.SystemOut, "result") {
		t.Errorf("system-out has no timeline: %q", s.SystemOut)
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", name, diff)
	}
}

// TestMarkdown: the GitHub step summary (golden step-summary.md).
func TestMarkdown(t *testing.T) {
	var b strings.Builder
	inv := cluster(record.BootstrapFailed, 5, ipi(4, false), "Bootstrap failed to complete: `timed out` waiting for the condition")
	if err := junit.Markdown(&b, inv); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "step-summary.md", []byte(b.String()))
}
