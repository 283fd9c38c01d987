package push

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/install-metrics/install-metrics/pkg/journal"
	"github.com/install-metrics/install-metrics/pkg/metrics"
	"github.com/install-metrics/install-metrics/pkg/record"
	"github.com/install-metrics/install-metrics/pkg/sink/gateway/gatewaytest"
	"github.com/install-metrics/install-metrics/pkg/sink/textfile"
)

// journalLeft counts the records in the sender's journal.
func journalLeft(t *testing.T, s *Sender) int {
	t.Helper()
	sts, err := journal.Open(JournalDir(s.cfg.StateDir), journal.Config{}).Peek()
	if err != nil {
		t.Fatal(err)
	}
	return len(sts)
}

func textfileInvocations(t *testing.T, path string) map[string]float64 {
	t.Helper()
	mfs, err := textfile.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, m := range mfs[metrics.InvocationFamily].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "result" {
				out[l.GetValue()] += m.GetCounter().GetValue()
			}
		}
	}
	if mfs[metrics.CommandDurationFamily] != nil {
		out["command duration observations"] = float64(mfs[metrics.CommandDurationFamily].GetMetric()[0].GetHistogram().GetSampleCount())
	}
	return out
}

func provisional() record.Invocation {
	inv := testInv()
	return record.Invocation{Command: inv.Command, Target: inv.Target, OS: inv.OS, Platform: inv.Platform, Start: inv.Start}
}

// A journaled run: every sink gets it once and the record is gone.
func TestSendRunJournaled(t *testing.T) {
	gw := newGatewayServer(t, gatewaytest.Options{})
	s := newSender(t, Config{}, "file://"+filepath.Join(t.TempDir(), "m.prom"), gw.URL)
	e, err := s.Begin(provisional(), "")
	if err != nil {
		t.Fatal(err)
	}
	rep := s.SendRun(t.Context(), e, testInv())
	if len(rep.Sent) != 2 || len(rep.Warnings) != 0 {
		t.Errorf("sent %v, warnings %v", rep.Sent, warnings(rep))
	}
	if n := journalLeft(t, s); n != 0 {
		t.Errorf("%d journal records left", n)
	}
	if gw.Pushes() != 1 {
		t.Errorf("%d pushes, want 1", gw.Pushes())
	}
}

// A record whose owner died before the installer ended is sent as it
// stands by the next flush: Interrupted, return "other", no command
// duration; a sink not configured now stays in the journal and is said.
func TestFlushSendsProvisionalRecord(t *testing.T) {
	gw := newGatewayServer(t, gatewaytest.Options{})
	state := t.TempDir()
	tf := filepath.Join(state, "m.prom")
	dead := newSender(t, Config{StateDir: state}, "file://"+tf, gw.URL)
	e, err := dead.Begin(provisional(), "")
	if err != nil {
		t.Fatal(err)
	}
	_ = e.Close() // as a SIGKILL leaves it: lock free, record provisional

	only := newSender(t, Config{StateDir: state}, "file://"+tf)
	rep := only.Flush(t.Context())
	if rep.Flushed != 1 || rep.Waiting[gw.URL] != 1 {
		t.Errorf("flushed %d, waiting %v, warnings %v", rep.Flushed, rep.Waiting, warnings(rep))
	}
	got := textfileInvocations(t, tf)
	if got["Interrupted"] != 1 || len(got) != 1 {
		t.Errorf("textfile: %v, want one Interrupted and no command duration", got)
	}
	if n := journalLeft(t, only); n != 1 {
		t.Errorf("%d journal records left, want 1 (the gateway's)", n)
	}
	rep = dead.Flush(t.Context())
	if rep.Flushed != 1 || gw.Value(metrics.InvocationFamily, map[string]string{"result": "Interrupted", "return": "other"}) != 1 {
		t.Errorf("flushed %d; gateway:\n%s", rep.Flushed, gw.Metrics())
	}
	if got := textfileInvocations(t, tf); got["Interrupted"] != 1 {
		t.Errorf("the textfile got the run again: %v", got)
	}
	if n := journalLeft(t, dead); n != 0 {
		t.Errorf("%d journal records left", n)
	}
}

// A kill after the Sending write: the textfile (which already renamed the
// batch in) is sent again and skips it; the gateway, which may have it, is
// never sent again.
func TestFlushAfterKillInSendPhase(t *testing.T) {
	gw := newGatewayServer(t, gatewaytest.Options{})
	tf := filepath.Join(t.TempDir(), "m.prom")
	s := newSender(t, Config{}, "file://"+tf, gw.URL)
	e, err := s.Begin(provisional(), "")
	if err != nil {
		t.Fatal(err)
	}
	inv := testInv()
	if err := e.Complete(inv); err != nil {
		t.Fatal(err)
	}
	if err := e.Sending(urlsOf(s.cfg.Sinks)...); err != nil {
		t.Fatal(err)
	}
	if err := textfile.New(tf, nil, nil).Send(t.Context(), s.batchOf(inv, e.ID())); err != nil {
		t.Fatal(err)
	}
	_ = e.Close() // killed here
	rep := s.Flush(t.Context())
	if len(rep.Warnings) != 0 {
		t.Errorf("warnings %v", warnings(rep))
	}
	if got := textfileInvocations(t, tf); got[string(inv.Result)] != 1 {
		t.Errorf("textfile %v, want the run once", got)
	}
	if gw.Pushes() != 0 {
		t.Errorf("the gateway got %d pushes of a run that may have arrived", gw.Pushes())
	}
	if n := journalLeft(t, s); n != 0 {
		t.Errorf("%d journal records left", n)
	}
}

// `metrics flush --metrics-auth pull-secret` re-reads the token from the
// record's asset directory; without it the record is kept and one line
// says why.
func TestFlushPullSecretFromRecordDir(t *testing.T) {
	gw := newGatewayServer(t, gatewaytest.Options{BearerToken: testPullSecret})
	state, assets := t.TempDir(), t.TempDir()
	tf := filepath.Join(state, "m.prom")
	dead := newSender(t, Config{StateDir: state}, "file://"+tf, gw.URL)
	for _, dir := range []string{assets, ""} {
		e, err := dead.Begin(provisional(), dir)
		if err != nil {
			t.Fatal(err)
		}
		_ = e.Close()
	}
	if err := os.WriteFile(filepath.Join(assets, "install-config.yaml"), []byte(
		`pullSecret: '{"auths":{"cloud.openshift.com":{"auth":"`+testPullSecret+`"}}}'`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	auth, err := ParseAuth("pull-secret")
	if err != nil {
		t.Fatal(err)
	}
	flush := newSender(t, Config{StateDir: state, Auth: auth}, "file://"+tf, gw.URL)
	rep := flush.Flush(t.Context())
	if gw.Pushes() != 1 {
		t.Errorf("the gateway got %d pushes, want the one whose directory holds the pull secret", gw.Pushes())
	}
	ws := warnings(rep)
	if len(ws) != 1 || !strings.Contains(ws[0], "names no asset directory") || !strings.Contains(ws[0], "token-file:PATH") {
		t.Errorf("warnings %q, want one line saying why the other record waits", ws)
	}
	if n := journalLeft(t, flush); n != 1 {
		t.Errorf("%d journal records left, want 1", n)
	}
	assertNoSecrets(t, ws, state)
}

// onDiskSinks reads the sink states of the sender's only journal record
// from disk, as a process taking it over after a SIGKILL would.
func onDiskSinks(t *testing.T, s *Sender) map[string]journal.Status {
	t.Helper()
	sts, err := journal.Open(JournalDir(s.cfg.StateDir), journal.Config{}).Peek()
	if err != nil {
		t.Fatal(err)
	}
	if len(sts) != 1 {
		t.Fatalf("%d journal records, want 1", len(sts))
	}
	rec := sts[0]
	out := map[string]journal.Status{}
	for _, k := range rec.Sinks {
		out[k.URL] = k.Status
	}
	return out
}

// The at-most-once window of the network sinks (issue 16): while the
// gateway's connection is not up, the record on disk says Pending, so a
// kill then leaves the push to be sent later. A connection that fails at
// the deadline is spooled; one that hangs past it (a dialer ignoring the
// deadline) is kept Pending in the journal and can no longer write when it
// comes up. Either way the next flush sends it exactly once. Before, the
// gateway was marked Sending before dialing: a kill while dialing, or a
// hang past the deadline, lost the push.
func TestSendRunMarksSendingOnlyOnceConnected(t *testing.T) {
	for _, hang := range []bool{false, true} {
		t.Run(fmt.Sprintf("hang=%v", hang), func(t *testing.T) {
			gw := newGatewayServer(t, gatewaytest.Options{})
			state := t.TempDir()
			s := newSender(t, Config{StateDir: state, Timeout: 200 * time.Millisecond}, gw.URL)
			dialing, release := make(chan struct{}), make(chan struct{})
			s.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
				close(dialing)
				if hang {
					<-release
					return (&net.Dialer{}).DialContext(context.Background(), network, addr)
				}
				<-ctx.Done() // a gateway whose SYN is never answered
				return nil, ctx.Err()
			}
			e, err := s.Begin(provisional(), "")
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan *Report)
			go func() { done <- s.SendRun(t.Context(), e, testInv()) }()
			<-dialing
			if st := onDiskSinks(t, s)[gw.URL]; st != journal.Pending {
				t.Errorf("while dialing the record says %s, want pending (a kill now must leave the push to send)", st)
			}
			rep := <-done
			close(release)
			kept := len(spoolEntries(t, s))
			if journalLeft(t, s) > 0 && onDiskSinks(t, s)[gw.URL] == journal.Pending {
				kept++
			}
			if len(rep.Sent) != 0 || kept != 1 {
				t.Errorf("sent %v; kept %d times (spool %v, journal %d), want once", rep.Sent, kept, spoolEntries(t, s), journalLeft(t, s))
			}
			if ws := strings.Join(warnings(rep), "\n"); !strings.Contains(ws, gw.URL) {
				t.Errorf("want a warning naming the gateway, got:\n%s", ws)
			}
			time.Sleep(50 * time.Millisecond) // the released dial reaches BeforeWrite
			if gw.Pushes() != 0 {
				t.Fatalf("the hung connection pushed after the send phase gave up")
			}
			later := newSender(t, Config{StateDir: state}, gw.URL)
			if rep := later.Flush(t.Context()); rep.Flushed != 1 {
				t.Errorf("flush sent %d, want 1; warnings %v", rep.Flushed, warnings(rep))
			}
			later.Flush(t.Context())
			if gw.Pushes() != 1 {
				t.Errorf("%d pushes, want exactly 1", gw.Pushes())
			}
			if n := journalLeft(t, later); n != 0 {
				t.Errorf("%d journal records left", n)
			}
		})
	}
}

// Once the connection is up, the record says Sending before the request's
// first byte: a push that may have arrived is never sent twice.
func TestSendRunSendingBeforeTheRequest(t *testing.T) {
	var s *Sender
	seen := make(chan journal.Status, 1)
	gw := newGatewayServer(t, gatewaytest.Options{})
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- onDiskSinks(t, s)[gw.URL]
		w.WriteHeader(http.StatusOK)
	}))
	defer proxy.Close()
	s = newSender(t, Config{}, gw.URL)
	s.dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, proxy.Listener.Addr().String())
	}
	e, err := s.Begin(provisional(), "")
	if err != nil {
		t.Fatal(err)
	}
	if rep := s.SendRun(t.Context(), e, testInv()); len(rep.Sent) != 1 {
		t.Fatalf("sent %v, warnings %v", rep.Sent, warnings(rep))
	}
	if st := <-seen; st != journal.Sending {
		t.Errorf("when the request arrived the record said %s, want sending", st)
	}
}
