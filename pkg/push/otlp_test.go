package push

import (
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// otlpFake is a collector that answers status (200 when 0) and records
// each trace it took with its Authorization header.
type otlpFake struct {
	*httptest.Server
	mu     sync.Mutex
	status int
	traces []*tracepb.TracesData
	authz  []string
	calls  int
}

func newOTLPFake(t *testing.T) *otlpFake {
	t.Helper()
	f := &otlpFake{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.calls++
		if f.status != 0 {
			w.WriteHeader(f.status)
			return
		}
		var td tracepb.TracesData
		if err := proto.Unmarshal(body, &td); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		f.traces = append(f.traces, &td)
		f.authz = append(f.authz, r.Header.Get("Authorization"))
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *otlpFake) setStatus(s int) { f.mu.Lock(); f.status = s; f.mu.Unlock() }

func (f *otlpFake) got() ([]*tracepb.TracesData, []string, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*tracepb.TracesData(nil), f.traces...), append([]string(nil), f.authz...), f.calls
}

func envOf(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func rootSpan(td *tracepb.TracesData) *tracepb.Span {
	return td.ResourceSpans[0].ScopeSpans[0].Spans[0]
}

func TestOTLPSendsTheInvocationAsATrace(t *testing.T) {
	f := newOTLPFake(t)
	s := newSender(t, Config{Getenv: envOf("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20"+testToken)}, "otlp+"+f.URL)
	inv := testInv()
	rep := s.Send(t.Context(), inv)
	if len(rep.Warnings) != 0 || len(rep.Sent) != 1 || rep.Sent[0] != "otlp+"+f.URL+"/v1/traces" {
		t.Fatalf("sent %q, warnings %q", rep.Sent, warnings(rep))
	}
	traces, authz, _ := f.got()
	if len(traces) != 1 || authz[0] != "Bearer "+testToken {
		t.Fatalf("%d traces, authorization %q", len(traces), authz)
	}
	root := rootSpan(traces[0])
	if got, want := root.StartTimeUnixNano, uint64(inv.Start.UnixNano()); got != want {
		t.Errorf("root start %d, want the run's %d", got, want)
	}
	if got, want := root.EndTimeUnixNano, uint64(inv.Start.Add(inv.Wall).UnixNano()); got != want {
		t.Errorf("root end %d, want the run's %d", got, want)
	}
	if n := len(traces[0].ResourceSpans[0].ScopeSpans[0].Spans); n != 1+len(inv.Stages) {
		t.Errorf("%d spans, want the root and one per stage (%d)", n, len(inv.Stages))
	}
}

// A collector that is down keeps the trace in the spool; a later flush,
// from another environment (its own headers, another TRACEPARENT), sends it
// once, under the run's parent and with the flusher's headers.
func TestOTLPSpooledTraceFlushedOnceWithTheRunsParent(t *testing.T) {
	const runParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	f := newOTLPFake(t)
	f.setStatus(http.StatusServiceUnavailable)
	state := t.TempDir()
	s := newSender(t, Config{StateDir: state, Getenv: envOf("OTEL_EXPORTER_OTLP_HEADERS", "authorization=old-"+testPassword)}, "otlp+"+f.URL)
	inv := testInv()
	inv.Traceparent = runParent
	rep := s.Send(t.Context(), inv)
	if len(rep.Spooled) != 1 || len(rep.Warnings) != 1 || !rep.Warnings[0].Spooled {
		t.Fatalf("spooled %q, warnings %q", rep.Spooled, warnings(rep))
	}
	if w := rep.Warnings[0].Error(); !strings.Contains(w, "collector unavailable (503)") {
		t.Errorf("warning %q", w)
	}
	assertNoSecrets(t, warnings(rep), state)
	f.setStatus(0)

	env := envOf("OTEL_EXPORTER_OTLP_HEADERS", "authorization=new", "TRACEPARENT", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	for range 2 {
		fs := newSender(t, Config{StateDir: state, Getenv: env}, "otlp+"+f.URL)
		fs.Flush(t.Context())
	}
	traces, authz, calls := f.got()
	if len(traces) != 1 || calls != 2 {
		t.Fatalf("%d traces in %d requests, want the spooled one once after the failed try", len(traces), calls)
	}
	if authz[0] != "new" {
		t.Errorf("authorization %q: the headers are the flusher's, never spooled", authz[0])
	}
	root := rootSpan(traces[0])
	if got := hex.EncodeToString(root.ParentSpanId); got != "00f067aa0ba902b7" {
		t.Errorf("parent %q, want the run's", got)
	}
	if got := hex.EncodeToString(root.TraceId); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("trace %q, want the run's", got)
	}
}

// A rejected trace (400) is one warning and is not spooled.
func TestOTLPRejectedNotSpooled(t *testing.T) {
	f := newOTLPFake(t)
	f.setStatus(http.StatusBadRequest)
	s := newSender(t, Config{Getenv: envOf()}, "otlp+"+f.URL)
	rep := s.Send(t.Context(), testInv())
	if len(rep.Spooled) != 0 || len(rep.Warnings) != 1 || len(spoolEntries(t, s)) != 0 {
		t.Fatalf("spooled %q, warnings %q", rep.Spooled, warnings(rep))
	}
}

// With --metrics-timeout 0 the trace goes to the spool untried, like every
// network sink's samples.
func TestOTLPTimeoutZeroSpools(t *testing.T) {
	f := newOTLPFake(t)
	s := newSender(t, Config{Timeout: -1, Getenv: envOf()}, "otlp+"+f.URL)
	rep := s.Send(t.Context(), testInv())
	if _, _, calls := f.got(); calls != 0 || len(rep.Spooled) != 1 || len(spoolEntries(t, s)) != 1 {
		t.Fatalf("%d requests, spooled %q, warnings %q", calls, rep.Spooled, warnings(rep))
	}
	if rep := s.Flush(t.Context()); rep.Flushed != 1 {
		t.Fatalf("flushed %d: %q", rep.Flushed, warnings(rep))
	}
}

// An OTLP environment that cannot be used is said once, before the run,
// by Preflight; the run's failure with the same error is that warning's.
func TestOTLPPreflight(t *testing.T) {
	for name, env := range map[string]func(string) (string, bool){
		"bad endpoint":      envOf("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "grpc://h:4317"),
		"headers over http": envOf("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector.example.com:4318", "OTEL_EXPORTER_OTLP_HEADERS", "api-key="+testToken),
		"malformed headers": envOf("OTEL_EXPORTER_OTLP_HEADERS", testToken),
		"missing CA file":   envOf("OTEL_EXPORTER_OTLP_ENDPOINT", "https://127.0.0.1:1", "OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem"),
	} {
		t.Run(name, func(t *testing.T) {
			s := newSender(t, Config{Getenv: env, Timeout: -1}, "otlp")
			pre := s.Preflight()
			if len(pre) != 1 || pre[0].Sink != "otlp" {
				t.Fatalf("preflight %v", pre)
			}
			s.cfg.Timeout = DefaultTimeout
			rep := s.Send(t.Context(), testInv())
			if len(rep.Warnings) != 1 || !rep.Warnings[0].Spooled || rep.Warnings[0].Err.Error() != pre[0].Err.Error() {
				t.Errorf("send: %q, want the preflight's error, spooled", warnings(rep))
			}
			assertNoSecrets(t, append(warnings(rep), pre[0].Error()), s.cfg.StateDir)
		})
	}
	if pre := newSender(t, Config{Getenv: envOf()}, "otlp+http://127.0.0.1:4318").Preflight(); len(pre) != 0 {
		t.Errorf("a usable environment: %v", pre)
	}
}
