package push

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/install-metrics/install-metrics/pkg/metrics"
	"github.com/install-metrics/install-metrics/pkg/sink/gateway/gatewaytest"
	"github.com/install-metrics/install-metrics/pkg/spool"
)

// spoolOne makes s spool one push for a gateway that answers 503.
func spoolOne(t *testing.T, s *Sender, g *gatewaytest.Server) {
	t.Helper()
	g.SetFault(gatewaytest.Fault{Kind: gatewaytest.Status, Status: 503})
	if rep := s.Send(t.Context(), testInv()); len(rep.Spooled) != 1 {
		t.Fatalf("not spooled: %q", warnings(rep))
	}
	g.SetFault(gatewaytest.Fault{})
}

func TestSpoolFilesArePrivateAndHoldNoCredential(t *testing.T) {
	g := newGatewayServer(t, gatewaytest.Options{BearerToken: testToken})
	auth, _ := ParseAuth("token-file:" + writeSecret(t, "token", testToken))
	s := newSender(t, Config{Auth: auth}, g.URL)
	spoolOne(t, s, g)
	dir := SpoolDir(s.cfg.StateDir)
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("spool dir: %v %v", fi.Mode(), err)
	}
	names := spoolEntries(t, s)
	if len(names) != 1 {
		t.Fatalf("%d entries", len(names))
	}
	fi, err = os.Stat(filepath.Join(dir, names[0]))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("spool entry: %v %v", fi.Mode(), err)
	}
	var e spool.Entry
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dir, names[0]))), &e); err != nil {
		t.Fatal(err)
	}
	if e.Sink != g.URL || e.Version != spool.Version || len(e.Samples) != len(metrics.Samples(testInv(), metrics.SampleOptions{})) || e.Invocation == nil {
		t.Errorf("entry %+v", e)
	}
	assertNoSecrets(t, nil, s.cfg.StateDir)
}

// Two runs flushing the same spool at once send each entry exactly once.
func TestSpoolConcurrentFlushesNeverDoubleSend(t *testing.T) {
	g := newGatewayServer(t, gatewaytest.Options{})
	state := t.TempDir()
	s := newSender(t, Config{StateDir: state}, g.URL)
	const entries = 20
	for range entries {
		spoolOne(t, s, g)
	}
	var wg sync.WaitGroup
	flushed := make([]int, 4)
	for i := range flushed {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fs := newSender(t, Config{StateDir: state}, g.URL)
			flushed[i] = fs.Flush(t.Context()).Flushed
		}()
	}
	wg.Wait()
	total := 0
	for _, n := range flushed {
		total += n
	}
	if total != entries || g.Value(metrics.InvocationFamily, nil) != entries {
		t.Errorf("flushed %v (total %d), gateway holds %v, want %d", flushed, total, g.Value(metrics.InvocationFamily, nil), entries)
	}
}

func TestSpoolCorruptEntryMovedAside(t *testing.T) {
	g := newGatewayServer(t, gatewaytest.Options{})
	s := newSender(t, Config{}, g.URL)
	spoolOne(t, s, g)
	spoolOne(t, s, g)
	names := spoolEntries(t, s)
	dir := SpoolDir(s.cfg.StateDir)
	if err := os.WriteFile(filepath.Join(dir, names[0]), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A hand-edited entry smuggling free text into a label is corrupt too.
	data := strings.Replace(readFile(t, filepath.Join(dir, names[1])), `"value":"aws"`, `"value":"my-secret-cluster"`, 1)
	if err := os.WriteFile(filepath.Join(dir, names[1]), []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	rep := s.Flush(t.Context())
	// One line for all of them (a spool of 300 broken entries must not
	// cost 300 lines), naming the first.
	want := []string{
		fmt.Sprintf("spool: 2 corrupt entries moved aside (the first: %s (not JSON), moved aside to %s.corrupt), not retried", names[0], strings.TrimSuffix(names[0], ".json")),
	}
	if diff := cmp.Diff(want, warnings(rep)); diff != "" {
		t.Errorf("warnings mismatch (-want +got):\n%s", diff)
	}
	if rep.Flushed != 0 || len(spoolEntries(t, s)) != 0 || g.Value(metrics.InvocationFamily, nil) != 0 {
		t.Errorf("flushed %d", rep.Flushed)
	}
	if rep := s.Flush(t.Context()); len(rep.Warnings) != 0 {
		t.Errorf("corrupt entries retried: %q", warnings(rep))
	}
}

func TestSpoolBounds(t *testing.T) {
	g := newGatewayServer(t, gatewaytest.Options{})
	now := time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := newSender(t, Config{Now: clock, SpoolLimits: SpoolLimits{MaxEntries: 3, MaxAge: 24 * time.Hour}}, g.URL)
	g.SetFault(gatewaytest.Fault{Kind: gatewaytest.Status, Status: 503})
	var got []string
	for range 5 {
		now = now.Add(time.Minute)
		got = append(got, warnings(s.Send(t.Context(), testInv()))...)
	}
	want := "spool: spool full (at most 3 pushes, 10240 KiB): dropped the 1 oldest"
	if n := strings.Count(strings.Join(got, "\n"), want); n != 2 || len(spoolEntries(t, s)) != 3 {
		t.Errorf("warnings %q, want %q twice; %d entries", got, want, len(spoolEntries(t, s)))
	}
	now = now.Add(25 * time.Hour)
	rep := s.Flush(t.Context())
	want = "spool: dropped 3 spooled pushes older than 24h0m0s"
	if w := warnings(rep); len(w) != 1 || w[0] != want || len(spoolEntries(t, s)) != 0 {
		t.Errorf("warnings %q, want %q first", w, want)
	}

	probe := newSender(t, Config{Now: clock}, g.URL)
	probe.Send(t.Context(), testInv())
	fi, err := os.Stat(filepath.Join(SpoolDir(probe.cfg.StateDir), spoolEntries(t, probe)[0]))
	if err != nil {
		t.Fatal(err)
	}
	limit := fi.Size() * 3 / 2 // one entry fits, two do not
	small := newSender(t, Config{Now: clock, SpoolLimits: SpoolLimits{MaxBytes: limit}}, g.URL)
	for range 3 {
		small.Send(t.Context(), testInv())
	}
	if n := len(spoolEntries(t, small)); n != 1 {
		t.Errorf("%d entries within %d bytes", n, limit)
	}
}

func TestSpoolStaleClaimIsDropped(t *testing.T) {
	g := newGatewayServer(t, gatewaytest.Options{})
	now := time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)
	s := newSender(t, Config{Now: func() time.Time { return now }}, g.URL)
	spoolOne(t, s, g)
	name := spoolEntries(t, s)[0]
	if _, ok := s.spool.Claim(name); !ok { // a run killed while sending
		t.Fatal("claim failed")
	}
	now = now.Add(time.Minute)
	if rep := s.Flush(t.Context()); rep.Flushed != 0 || len(rep.Warnings) != 0 {
		t.Errorf("a fresh claim of a live run was touched: %+v %q", rep, warnings(rep))
	}
	now = now.Add(time.Hour)
	rep := s.Flush(t.Context())
	want := []string{"spool: dropped 1 spooled pushes whose sending was interrupted; they may have been counted, so they are not resent"}
	if diff := cmp.Diff(want, warnings(rep)); diff != "" || g.Value(metrics.InvocationFamily, nil) != 0 {
		t.Errorf("warnings mismatch (-want +got):\n%s", diff)
	}
}

// Spooled pushes for a sink that is not configured now stay (credentials
// go only where the current flags say), and Flush says how to send them.
func TestSpoolWaitsForItsSink(t *testing.T) {
	g := newGatewayServer(t, gatewaytest.Options{})
	state := t.TempDir()
	s := newSender(t, Config{StateDir: state}, g.URL)
	spoolOne(t, s, g)
	spoolOne(t, s, g)
	other := newSender(t, Config{StateDir: state})
	rep := other.Flush(t.Context())
	want := []string{fmt.Sprintf(`spool: 2 pushes wait for %s, which is not a current sink: run "install-metrics --metrics-sink %s metrics flush" to send them`, g.URL, g.URL)}
	if diff := cmp.Diff(want, warnings(rep)); diff != "" || rep.Waiting[g.URL] != 2 {
		t.Errorf("warnings mismatch (-want +got):\n%s", diff)
	}
	if rep := s.Flush(t.Context()); rep.Flushed != 2 || g.Value(metrics.InvocationFamily, nil) != 2 {
		t.Errorf("flush with the sink: %+v", rep)
	}
}

// A flush stops at the first failure of a sink and keeps the rest.
func TestFlushStopsWhenTheSinkIsDown(t *testing.T) {
	g := newGatewayServer(t, gatewaytest.Options{})
	s := newSender(t, Config{}, g.URL)
	for range 3 {
		spoolOne(t, s, g)
	}
	g.SetFault(gatewaytest.Fault{Kind: gatewaytest.Status, Status: 503})
	rep := s.Flush(t.Context())
	if len(rep.Warnings) != 1 || !rep.Warnings[0].Spooled || len(spoolEntries(t, s)) != 3 || len(g.Requests()) != 4 {
		t.Errorf("flush: %q, %d requests", warnings(rep), len(g.Requests()))
	}
}
