package otlp

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/install-metrics/install-metrics/pkg/record"
)

var t0 = time.Date(2024, 5, 2, 10, 0, 0, 0, time.UTC)

// invocations are the records of the golden traces.
func invocations() map[string]*record.Invocation {
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	return map[string]*record.Invocation{
		"create-cluster-success": {
			Command: "create", Target: "cluster", OS: "linux", Platform: "aws", Version: "4.16.20",
			Stages: []record.Stage{
				{Name: record.Provisioning, Start: at(0), End: at(1), Finished: true},
				{Name: record.Infrastructure, Start: at(1), End: at(9), Finished: true},
				{Name: record.API, Start: at(9), End: at(12), Finished: true},
				{Name: record.Bootstrap, Start: at(12), End: at(25), Finished: true},
				{Name: record.Operators, Start: at(25), End: at(41), Finished: true},
			},
			Result: record.Success, Deciding: "Install complete!", ExitCode: 0,
			Start: at(0), Wall: 41*time.Minute + 2*time.Second, CI: true,
		},
		"create-cluster-bootstrap-failed": {
			Command: "create", Target: "cluster", OS: "linux", Platform: "vsphere", Version: "4.7.0-rc.1",
			Stages: []record.Stage{
				{Name: record.Provisioning, Start: at(0), End: at(1), Finished: true},
				{Name: record.Infrastructure, Start: at(1), End: at(5), Finished: true},
				{Name: record.API, Start: at(5), End: at(8), Finished: true},
				{Name: record.Bootstrap, Start: at(8), End: at(38)},
			},
			Result: record.BootstrapFailed, ExitCode: 5,
			Deciding: "Bootstrap failed to complete: timed out waiting for the condition\xff",
			Start:    at(0), Wall: 38 * time.Minute,
		},
		"create-manifests-modified": {
			Command: "create", Target: "manifests", OS: "darwin", Platform: "none", Version: "unreleased-master-3881-gabc",
			Result: record.Success, Start: at(0), Wall: 3 * time.Second, Modified: []string{"install-config.yaml", "user-added"},
		},
	}
}

// golden compares the protojson form of td, indented, with testdata/name.json.
func golden(t *testing.T, name string, td *tracepb.TracesData) {
	t.Helper()
	raw, err := protojson.Marshal(td)
	if err != nil {
		t.Fatal(err)
	}
	var compact, got bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil { // protojson's spacing is random on purpose
		t.Fatal(err)
	}
	if err := json.Indent(&got, compact.Bytes(), "", "  "); err != nil {
		t.Fatal(err)
	}
	got.WriteByte('\n')
	path := filepath.Join("testdata", name+".json")
	if *update {
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if diff := cmp.Diff(string(want), got.String()); diff != "" {
		t.Errorf("%s: mismatch (-want +got):\n%s", path, diff)
	}
}

func TestTraceGolden(t *testing.T) {
	resource := [][2]string{{"service.name", "install-metrics"}}
	for name, inv := range invocations() {
		t.Run(name, func(t *testing.T) {
			td := Trace(inv, closedLabels(*inv), resource, nil, "v1.2.3")
			if _, err := proto.Marshal(td); err != nil {
				t.Fatalf("the trace does not encode: %v", err)
			}
			golden(t, name, td)
		})
	}
	t.Run("with-parent", func(t *testing.T) {
		p, err := ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
		if err != nil {
			t.Fatal(err)
		}
		inv := invocations()["create-cluster-bootstrap-failed"]
		golden(t, "with-parent", Trace(inv, closedLabels(*inv), resource, &p, ""))
	})
}

// The IDs come from the record: the same record gives the same trace (a
// resend from the spool is never a second trace), another record another.
func TestIDsDeterministic(t *testing.T) {
	inv := invocations()["create-cluster-success"]
	tr1, root1, st1 := IDs(inv, nil)
	tr2, root2, st2 := IDs(inv, nil)
	if tr1 != tr2 || root1 != root2 || st1(3) != st2(3) {
		t.Fatal("the same record gave other IDs")
	}
	if st1(0) == st1(1) || st1(0) == root1 {
		t.Error("two spans of one trace share an ID")
	}
	other := *inv
	other.Start = other.Start.Add(time.Nanosecond)
	if tr3, _, _ := IDs(&other, nil); tr3 == tr1 {
		t.Error("another start time gave the same trace ID")
	}
	p := Parent{TraceID: [16]byte{1}, SpanID: [8]byte{2}, Sampled: true}
	tr4, root4, _ := IDs(inv, &p)
	if tr4 != p.TraceID || root4 == root1 {
		t.Errorf("with a parent: trace %x root %x", tr4, root4)
	}
}

// Nothing outside the closed sets reaches the trace: a label value the
// counters would not carry becomes "other"/"unknown" here too.
func TestTraceClosedSets(t *testing.T) {
	inv := &record.Invocation{Command: "frobnicate", Target: "my-cluster-name", OS: "plan10", Platform: "myhost.example.com",
		Version: "my free text", Result: "Whatever", ExitCode: 3, Start: t0, Wall: time.Second}
	td := Trace(inv, closedLabels(*inv), nil, nil, "")
	raw, err := protojson.Marshal(td)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"frobnicate", "my-cluster-name", "plan10", "myhost", "free text", "Whatever"} {
		if bytes.Contains(raw, []byte(leak)) {
			t.Errorf("%q reached the trace: %s", leak, raw)
		}
	}
	if got := td.ResourceSpans[0].ScopeSpans[0].Spans[0].Name; got != "openshift-install other other" {
		t.Errorf("root span name %q", got)
	}
}
