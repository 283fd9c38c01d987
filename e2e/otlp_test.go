package e2e

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/install-metrics/install-metrics/internal/testenv"
	"github.com/install-metrics/install-metrics/pkg/record"
	"github.com/install-metrics/install-metrics/pkg/sink"
	"github.com/install-metrics/install-metrics/pkg/sink/otlp"
	"github.com/install-metrics/install-metrics/pkg/stages"
)

// replayed builds the record of a replayed install from one of the replay
// installer's logs (internal/replay/testdata/logs), as the wrapper would:
// the log's stages and result, the exit the replay scenario gives. keep
// bounds the lines read (an interrupted run stops part way).
func replayed(t *testing.T, log string, keep int, exit stages.Exit, command, target, platform string) *record.Invocation {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "internal", "replay", "testdata", "logs", log))
	if err != nil {
		t.Fatal(err)
	}
	if keep > 0 {
		lines := bytes.SplitAfter(data, []byte("\n"))
		data = bytes.Join(lines[:min(keep, len(lines))], nil)
	}
	now := func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	sum, err := stages.Classify(bytes.NewReader(data), now, exit)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Stages) == 0 || !sum.Timed {
		t.Fatalf("%s: no timed stages", log)
	}
	first, last := sum.Stages[0], sum.Stages[len(sum.Stages)-1]
	return &record.Invocation{
		Command: command, Target: target, OS: "linux", Platform: platform, Version: sum.Version,
		Stages: sum.Stages, Result: sum.Result, Deciding: sum.Deciding, ExitCode: exit.Code,
		Start: first.Start.Add(-time.Second), Wall: last.End.Sub(first.Start) + 2*time.Second,
	}
}

// agentRun is an `agent wait-for install-complete` by hand, for the sink
// alone (TestOTLPWrappedRunsIntoJaeger has the tracker cut the agent stages
// from a replayed log).
func agentRun() *record.Invocation {
	t0 := time.Date(2025, 3, 4, 8, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	var st []record.Stage
	bounds := []int{0, 95, 160, 1380, 2100, 3300}
	for i, name := range record.AgentStageNames {
		st = append(st, record.Stage{Name: name, Start: at(bounds[i]), End: at(bounds[i+1]), Finished: true})
	}
	return &record.Invocation{Command: "agent", Target: "wait-for", OS: "linux", Platform: "baremetal", Version: "4.18.3",
		Stages: st, Result: record.Success, Deciding: "Cluster is installed", Start: at(0), Wall: 3300 * time.Second}
}

// Jaeger's query API answer (/api/traces), the parts read here.
type jaegerTraces struct {
	Data []struct {
		TraceID string `json:"traceID"`
		Spans   []struct {
			SpanID        string `json:"spanID"`
			OperationName string `json:"operationName"`
			References    []struct {
				RefType string `json:"refType"`
				SpanID  string `json:"spanID"`
			} `json:"references"`
			StartTime int64 `json:"startTime"` // µs
			Duration  int64 `json:"duration"`  // µs
			Tags      []struct {
				Key   string `json:"key"`
				Value any    `json:"value"`
			} `json:"tags"`
		} `json:"spans"`
	} `json:"data"`
}

func getTraces(url string) (jaegerTraces, error) {
	var out jaegerTraces
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return out, err
	}
	if resp.StatusCode == http.StatusNotFound {
		return out, nil
	}
	if resp.StatusCode != http.StatusOK {
		return out, fmt.Errorf("%s: %d %s", url, resp.StatusCode, data)
	}
	return out, json.Unmarshal(data, &out)
}

// waitForSpans polls the trace until it has n spans (stored asynchronously).
func waitForSpans(t *testing.T, url string, n int) jaegerTraces {
	t.Helper()
	var got jaegerTraces
	var err error
	for range 100 {
		got, err = getTraces(url)
		if err == nil && len(got.Data) == 1 && len(got.Data[0].Spans) >= n {
			return got
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: want one trace of %d spans, got %+v (%v)", url, n, got, err)
	return got
}

// TestOTLPTracesIntoJaeger sends the traces of four replayed installs
// through the OTLP sink into the real Jaeger v2 and reads them back through
// its query API: one trace per run, one span per stage with the log's
// durations, the root span the child of TRACEPARENT when one is set.
func TestOTLPTracesIntoJaeger(t *testing.T) {
	otlpURL, queryURL := testenv.StartJaeger(t)
	runs := []struct {
		name        string
		inv         *record.Invocation
		traceparent string
		rootName    string
		result      string
	}{
		{"success", replayed(t, "aws-4.16-create-cluster-success.log", 0, stages.Exit{Code: 0, Known: true}, "create", "cluster", "aws"),
			"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "openshift-install create cluster", "Success"},
		{"bootstrap failure", replayed(t, "vsphere-4.7-create-cluster-bootstrap-failed.log", 0, stages.Exit{Code: 5, Known: true}, "create", "cluster", "vsphere"),
			"", "openshift-install create cluster", "BootstrapFailed"},
		{"interrupted", replayed(t, "aws-4.16-create-cluster-success.log", 40, stages.Exit{Code: 130, Known: true, Signaled: true}, "create", "cluster", "aws"),
			"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "openshift-install create cluster", "Interrupted"},
		{"agent", agentRun(), "", "openshift-install agent wait-for", "Success"},
	}
	service := "install-metrics-e2e-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	for _, run := range runs {
		t.Run(run.name, func(t *testing.T) {
			run.inv.Traceparent = run.traceparent // as the wrapper records it
			getenv := func(k string) (string, bool) {
				switch k {
				case otlp.EnvEndpoint:
					return otlpURL, true
				case otlp.EnvServiceName:
					return service, true
				}
				return "", false
			}
			u, err := otlp.ParseURL("otlp")
			if err != nil {
				t.Fatal(err)
			}
			s, err := otlp.New(u, otlp.Options{Getenv: getenv})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := s.Send(ctx, sink.Batch{Invocation: run.inv}); err != nil {
				t.Fatal(err)
			}

			_ = checkTrace(t, queryURL, run.inv, run.rootName, run.result)
		})
	}

	// A resend (as from the spool) is the same trace, never a second one.
	u, _ := otlp.ParseURL("otlp+" + otlpURL)
	s, err := otlp.New(u, otlp.Options{Getenv: func(k string) (string, bool) {
		if k == otlp.EnvServiceName {
			return service, true
		}
		return "", false
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), sink.Batch{Invocation: runs[1].inv}); err != nil {
		t.Fatal(err)
	}
	search := fmt.Sprintf("%s/api/traces?service=%s&start=1&end=%d&limit=100", queryURL, service, time.Now().Add(time.Hour).UnixMicro())
	var traces jaegerTraces
	for range 50 {
		if traces, err = getTraces(search); err == nil && len(traces.Data) == len(runs) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil || len(traces.Data) != len(runs) {
		t.Fatalf("%d traces of service %s, want %d (one per run): %v", len(traces.Data), service, len(runs), err)
	}
}

// checkTrace reads the trace of inv back from Jaeger's query API and
// compares it with the record: the root span (name, parent from the
// recorded traceparent, the run's start and wall time), one child per stage
// with the log's start and duration, the result and exit code tags.
func checkTrace(t *testing.T, queryURL string, inv *record.Invocation, rootName, result string) jaegerTraces {
	t.Helper()
	var parent *otlp.Parent
	if inv.Traceparent != "" {
		p, err := otlp.ParseTraceparent(inv.Traceparent)
		if err != nil {
			t.Fatal(err)
		}
		parent = &p
	}
	traceID, rootID, _ := otlp.IDs(inv, parent)
	got := waitForSpans(t, queryURL+"/api/traces/"+hex.EncodeToString(traceID[:]), 1+len(inv.Stages))
	spans := got.Data[0].Spans

	type span struct {
		Name   string
		Parent string
		Start  int64
		Micros int64
	}
	var want, have []span
	wantParent := ""
	if parent != nil {
		wantParent = hex.EncodeToString(parent.SpanID[:])
	}
	want = append(want, span{rootName, wantParent, inv.Start.UnixMicro(), inv.Wall.Microseconds()})
	for _, st := range inv.Stages {
		want = append(want, span{string(st.Name), hex.EncodeToString(rootID[:]), st.Start.UnixMicro(), st.Duration().Microseconds()})
	}
	byID := map[string]int{}
	for i, sp := range spans {
		byID[sp.SpanID] = i
	}
	root, ok := byID[hex.EncodeToString(rootID[:])]
	if !ok {
		t.Fatalf("no root span %x among %+v", rootID, spans)
	}
	order := []int{root}
	for i := range spans {
		if i != root {
			order = append(order, i)
		}
	}
	for _, i := range order {
		sp := spans[i]
		p := ""
		for _, r := range sp.References {
			if r.RefType == "CHILD_OF" {
				p = r.SpanID
			}
		}
		have = append(have, span{sp.OperationName, p, sp.StartTime, sp.Duration})
	}
	sortSpans := cmp.Transformer("byStart", func(in []span) []span {
		out := append([]span(nil), in...)
		for i := 1; i < len(out); i++ { // the root first, then by start: stages do not overlap
			for j := i; j > 1 && out[j].Start < out[j-1].Start; j-- {
				out[j], out[j-1] = out[j-1], out[j]
			}
		}
		return out
	})
	if diff := cmp.Diff(want, have, sortSpans); diff != "" {
		t.Errorf("spans mismatch (-want +got):\n%s", diff)
	}
	tags := map[string]any{}
	for _, tag := range spans[root].Tags {
		tags[tag.Key] = tag.Value
	}
	if tags["result"] != result || tags["process.exit.code"] != float64(inv.ExitCode) {
		t.Errorf("root tags %v", tags)
	}
	if (result != "Success") != (tags["error"] == true) {
		t.Errorf("root error tag %v for result %s", tags["error"], result)
	}
	return got
}

// wrappedRecord runs install-metrics with --metrics-debug and returns the
// invocation record it printed, its exit code and its output.
func wrappedRecord(t *testing.T, im string, env []string, args ...string) (*record.Invocation, int, string) {
	t.Helper()
	cmd := exec.Command(im, append([]string{"--metrics-debug"}, args...)...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	_, js, ok := strings.Cut(string(out), "invocation record:\n")
	if end := strings.Index(js, "\n}\n"); ok && end >= 0 {
		js = js[:end+2]
	} else {
		t.Fatalf("%v: no invocation record in the output:\n%s", args, out)
	}
	var inv record.Invocation
	if err := json.Unmarshal([]byte(js), &inv); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, js)
	}
	return &inv, code, string(out)
}

// TestOTLPWrappedRunsIntoJaeger runs replayed installs through the real
// install-metrics binary with --metrics-sink otlp+http://... into the real
// Jaeger v2, `create cluster` and `agent wait-for install-complete` (whose
// agent stages the tracker cuts), and reads each run's trace back: the
// spans are the run's record, the parent is the wrapper's TRACEPARENT. A
// run while the collector is away keeps its trace in the spool; a flush
// later, from an environment with another TRACEPARENT and another endpoint
// (plain "otlp" reads it again), delivers it exactly once with the run's
// parent.
func TestOTLPWrappedRunsIntoJaeger(t *testing.T) {
	testenv.Tool(t, "jaeger") // skip (or fail under CI) before building anything
	im, installer := build(t)
	otlpURL, queryURL := testenv.StartJaeger(t)
	service := "install-metrics-wrapped-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	base := append(os.Environ(),
		"XDG_STATE_HOME="+t.TempDir(), "HOME="+t.TempDir(),
		"INSTALL_METRICS_INSTALLER="+installer, "OPENSHIFT_INSTALL_REPLAY_SPEED=inf",
		"INSTALL_METRICS=", "DO_NOT_TRACK=", "INSTALL_METRICS_SINKS=", "TRACEPARENT=",
		"OTEL_EXPORTER_OTLP_ENDPOINT=", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=",
		"OTEL_EXPORTER_OTLP_HEADERS=", "OTEL_EXPORTER_OTLP_TRACES_HEADERS=", "OTEL_RESOURCE_ATTRIBUTES=",
		"OTEL_SERVICE_NAME="+service,
	)
	const runParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	sinkFlag := "--metrics-sink=otlp+" + otlpURL
	for i, r := range []struct {
		scenario, platform string
		args               []string
		traceparent        string
		code               int
		rootName, result   string
	}{
		{"cluster-success", "aws", []string{"create", "cluster"}, runParent, 0, "openshift-install create cluster", "Success"},
		{"cluster-bootstrap-failed", "vsphere", []string{"create", "cluster"}, "", 1, "openshift-install create cluster", "BootstrapFailed"},
		{"agent-install-complete", "", []string{"agent", "wait-for", "install-complete"}, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", 0,
			"openshift-install agent wait-for/install-complete", "Success"},
		{"agent-install-complete-bootstrap-failed", "", []string{"agent", "wait-for", "install-complete"}, "", 5,
			"openshift-install agent wait-for/install-complete", "BootstrapFailed"},
	} {
		t.Run(r.scenario, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), fmt.Sprintf("c%d", i))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if r.platform != "" {
				if err := os.WriteFile(filepath.Join(dir, "install-config.yaml"), fmt.Appendf(nil, installConfig, r.platform), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			env := append(base[:len(base):len(base)], "OPENSHIFT_INSTALL_REPLAY_SCENARIO="+r.scenario, "TRACEPARENT="+r.traceparent)
			inv, code, out := wrappedRecord(t, im, env, append([]string{sinkFlag}, append(r.args, "--dir", dir)...)...)
			if code != r.code {
				t.Fatalf("exit code %d, want %d\n%s", code, r.code, out)
			}
			if strings.Contains(out, "install-metrics: warning") {
				t.Errorf("the sink failed:\n%s", out)
			}
			if inv.Traceparent != r.traceparent {
				t.Errorf("recorded traceparent %q, want %q", inv.Traceparent, r.traceparent)
			}
			if r.args[0] == "agent" {
				var names []record.StageName
				for _, st := range inv.Stages {
					names = append(names, st.Name)
				}
				if r.result == "Success" && !cmp.Equal(names, record.AgentStageNames) {
					t.Errorf("agent stages %v, want %v", names, record.AgentStageNames)
				}
			}
			_ = checkTrace(t, queryURL, inv, r.rootName, r.result)
		})
	}

	t.Run("spooled then flushed once", func(t *testing.T) {
		const spoolParent = "00-a1b2c3d4e5f60718293a4b5c6d7e8f90-1122334455667788-01"
		state := t.TempDir()
		dir := filepath.Join(t.TempDir(), "c")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "install-config.yaml"), fmt.Appendf(nil, installConfig, "aws"), 0o644); err != nil {
			t.Fatal(err)
		}
		closed := "http://127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
		env := append(base[:len(base):len(base)], "XDG_STATE_HOME="+state, "OPENSHIFT_INSTALL_REPLAY_SCENARIO=cluster-success",
			"TRACEPARENT="+spoolParent, "OTEL_EXPORTER_OTLP_ENDPOINT="+closed)
		inv, code, out := wrappedRecord(t, im, env, "--metrics-sink", "otlp", "create", "cluster", "--dir", dir)
		if code != 0 {
			t.Fatalf("exit code %d, want the installer's 0\n%s", code, out)
		}
		if n := strings.Count(out, "install-metrics: warning"); n != 1 || !strings.Contains(out, "kept in the spool") {
			t.Fatalf("%d warning lines, want one saying the trace is spooled:\n%s", n, out)
		}
		flushEnv := append(base[:len(base):len(base)], "XDG_STATE_HOME="+state,
			"TRACEPARENT=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "OTEL_EXPORTER_OTLP_ENDPOINT="+otlpURL)
		for i, want := range []string{"flushed 1 spooled push(es)", "flushed 0 spooled push(es)"} {
			cmd := exec.Command(im, "--metrics-sink", "otlp", "metrics", "flush")
			cmd.Env = flushEnv
			out, err := cmd.CombinedOutput()
			if err != nil || strings.Contains(string(out), "warning") || strings.TrimSpace(string(out)) != want {
				t.Fatalf("flush %d: %v, want %q:\n%s", i, err, want, out)
			}
		}
		got := checkTrace(t, queryURL, inv, "openshift-install create cluster", "Success")
		if n := len(got.Data[0].Spans); n != 1+len(inv.Stages) {
			t.Errorf("%d spans, want %d: the trace arrived more than once", n, 1+len(inv.Stages))
		}
	})
}
