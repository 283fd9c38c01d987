package otlp

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/install-metrics/install-metrics/internal/buildinfo"
	"github.com/install-metrics/install-metrics/pkg/sink"
)

const secret = "s3cret-t0ken"

func newSink(t *testing.T, endpoint string, kv ...string) *Sink {
	t.Helper()
	u, err := ParseURL("otlp+" + endpoint)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(u, Options{Getenv: env(kv...)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func batch() sink.Batch { return sink.Batch{Invocation: invocations()["create-cluster-success"]} }

func send(t *testing.T, s *Sink, timeout time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return s.Send(ctx, batch())
}

func TestSendDelivers(t *testing.T) {
	var mu sync.Mutex
	var got *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, body = r, b
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer srv.Close()
	s := newSink(t, srv.URL, EnvHeaders, "authorization=Bearer%20"+secret, EnvServiceName, "ci-installs")
	if err := send(t, s, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if got.URL.Path != "/v1/traces" || got.Method != http.MethodPost {
		t.Errorf("%s %s", got.Method, got.URL.Path)
	}
	if h := got.Header.Get("User-Agent"); h != buildinfo.UserAgent() {
		t.Errorf("User-Agent %q", h)
	}
	if h := got.Header.Get("Content-Type"); h != "application/x-protobuf" {
		t.Errorf("Content-Type %q", h)
	}
	if h := got.Header.Get("Authorization"); h != "Bearer "+secret {
		t.Errorf("Authorization %q", h)
	}
	var td tracepb.TracesData
	if err := proto.Unmarshal(body, &td); err != nil {
		t.Fatal(err)
	}
	b := batch()
	want := Trace(b.Invocation, closedLabels(*b.Invocation), [][2]string{{"service.name", "ci-installs"}}, nil, buildinfo.Version())
	if diff := cmp.Diff(want, &td, protocmp.Transform()); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

// partial encodes an ExportTraceServiceResponse with partial_success.
func partial(rejected int64, msg string) []byte {
	var ps []byte
	ps = protowire.AppendTag(ps, 1, protowire.VarintType)
	ps = protowire.AppendVarint(ps, uint64(rejected))
	ps = protowire.AppendTag(ps, 2, protowire.BytesType)
	ps = protowire.AppendString(ps, msg)
	b := protowire.AppendTag(nil, 1, protowire.BytesType)
	return protowire.AppendBytes(b, ps)
}

// rpcStatus encodes a google.rpc.Status {code, message}.
func rpcStatus(code int, msg string) []byte {
	b := protowire.AppendTag(nil, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(code))
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	return protowire.AppendString(b, msg)
}

// The fault classes of the gateway sink, and OTLP's partial success. Every
// server echoes the credential in its answer; no error may show it.
func TestSendClassifies(t *testing.T) {
	for _, tc := range []struct {
		name         string
		status       int
		contentType  string
		body         []byte
		header       http.Header
		ok           bool
		notDelivered bool
		want         string
	}{
		{name: "200 empty", status: 200, ok: true},
		{name: "200 partial, nothing rejected", status: 200, contentType: "application/x-protobuf", body: partial(0, "slow down "+secret), ok: true},
		{name: "200 partial, rejected", status: 200, contentType: "application/x-protobuf", body: partial(2, "span too old "+secret), want: "rejected 2 of 6 spans: span too old [REDACTED]"},
		{name: "202 json", status: 202, contentType: "application/json", body: []byte(`{}`), ok: true},
		{name: "400", status: 400, contentType: "application/x-protobuf", body: rpcStatus(3, "bad trace id "+secret), want: "(400: bad trace id [REDACTED]); it is not resent"},
		{name: "401", status: 401, contentType: "text/plain", body: []byte("token " + secret + " unknown"), notDelivered: true, want: "refused the credentials (401: token [REDACTED] unknown)"},
		{name: "403", status: 403, notDelivered: true, want: "check OTEL_EXPORTER_OTLP_HEADERS"},
		{name: "404", status: 404, body: []byte("404 page not found"), notDelivered: true, want: "answered 404: 404 page not found: check the endpoint"},
		{name: "413", status: 413, notDelivered: true, want: "answered 413"},
		{name: "429", status: 429, notDelivered: true, want: "collector is throttling (429"},
		{name: "301", status: 301, header: http.Header{"Location": {"https://elsewhere.example.com/v1/traces?k=" + secret}}, notDelivered: true, want: "redirecting to https://elsewhere.example.com;"},
		{name: "500", status: 500, body: []byte("boom " + secret), want: "answered 500: boom [REDACTED]; the trace may have been stored"},
		{name: "501", status: 501, want: "answered 501"},
		{name: "502", status: 502, notDelivered: true, want: "unavailable (502)"},
		{name: "503", status: 503, contentType: "application/x-protobuf", body: rpcStatus(14, "overloaded"), notDelivered: true, want: "unavailable (503: overloaded)"},
		{name: "504", status: 504, notDelivered: true, want: "unavailable (504)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				for k, v := range tc.header {
					w.Header()[k] = v
				}
				if tc.contentType != "" {
					w.Header().Set("Content-Type", tc.contentType)
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write(tc.body)
			}))
			defer srv.Close()
			var debug []string
			u, _ := ParseURL("otlp+" + srv.URL)
			s, err := New(u, Options{Getenv: env(EnvHeaders, "x-api-key="+secret), Debugf: func(f string, a ...any) {
				debug = append(debug, f)
			}})
			if err != nil {
				t.Fatal(err)
			}
			err = send(t, s, 5*time.Second)
			checkErr(t, err, tc.ok, tc.notDelivered, tc.want)
			for _, d := range debug {
				if strings.Contains(d, secret) {
					t.Errorf("debug line shows the credential: %s", d)
				}
			}
		})
	}
}

func checkErr(t *testing.T, err error, ok, notDelivered bool, want string) {
	t.Helper()
	switch {
	case ok && err != nil:
		t.Fatalf("got %v, want success", err)
	case ok:
		return
	case err == nil:
		t.Fatal("no error")
	}
	if sink.IsNotDelivered(err) != notDelivered {
		t.Errorf("IsNotDelivered = %v, want %v: %v", !notDelivered, notDelivered, err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
	if strings.Contains(err.Error(), secret) || strings.ContainsAny(err.Error(), "\n\r") {
		t.Errorf("error shows the credential or breaks the line: %q", err)
	}
}

func TestSendRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	err = send(t, newSink(t, "http://"+addr), 2*time.Second)
	checkErr(t, err, false, true, "connection refused")
}

func TestSendDNSFailure(t *testing.T) {
	u, _ := ParseURL("otlp+https://collector.invalid")
	s, err := New(u, Options{Getenv: env(), Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nil, &net.DNSError{Err: "no such host", Name: "collector.invalid", IsNotFound: true}
	}})
	if err != nil {
		t.Fatal(err)
	}
	checkErr(t, send(t, s, 2*time.Second), false, true, "no such host")
}

// A collector that takes the request and never answers: the send ends at
// the deadline, and since the trace was written it is not resent.
func TestSendSilent(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		<-release
	}))
	defer srv.Close()
	defer close(release)
	err := send(t, newSink(t, srv.URL), 300*time.Millisecond)
	checkErr(t, err, false, false, "after the trace was sent; it may have been stored, so it is not resent")
}

// A listener that accepts and reads nothing, with a full window: the
// request is never completely written, so the trace provably did not arrive.
func TestSendSilentBeforeWrite(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns []net.Conn
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	u, _ := ParseURL("otlp+https://" + ln.Addr().String()) // TLS: the handshake never completes
	s, err := New(u, Options{Getenv: env()})
	if err != nil {
		t.Fatal(err)
	}
	checkErr(t, send(t, s, 300*time.Millisecond), false, true, "no connection before --metrics-timeout ran out")
	_ = ln.Close()
	<-done
	mu.Lock()
	for _, c := range conns {
		_ = c.Close()
	}
	mu.Unlock()
}

func TestSendTLSUnknownAuthority(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Config.ErrorLog = nil
	defer srv.Close()
	err := send(t, newSink(t, srv.URL), 5*time.Second)
	checkErr(t, err, false, true, "pass the collector's CA with --metrics-ca-file")
}

func TestSendTLSWithCA(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	ca := writeCA(t, srv)
	u, _ := ParseURL("otlp+" + srv.URL)
	s, err := New(u, Options{Getenv: env(EnvCertificate, ca)})
	if err != nil {
		t.Fatal(err)
	}
	if err := send(t, s, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestSendNothing(t *testing.T) {
	var calls int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
	}))
	defer srv.Close()
	b := batch()
	b.Invocation.Traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
	if err := newSink(t, srv.URL).Send(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if err := newSink(t, srv.URL).Send(context.Background(), sink.Batch{}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 0 {
		t.Errorf("%d requests, want none (unsampled parent, no invocation)", calls)
	}
}

func TestNewRefusesClearTextHeaders(t *testing.T) {
	u, _ := ParseURL("otlp+http://collector.example.com:4318")
	_, err := New(u, Options{Getenv: env(EnvHeaders, "authorization="+secret)})
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Fatalf("got %v", err)
	}
	for _, ok := range []string{"otlp+http://127.0.0.1:4318", "otlp+http://localhost:4318", "otlp+https://collector.example.com"} {
		u, _ := ParseURL(ok)
		if _, err := New(u, Options{Getenv: env(EnvHeaders, "authorization="+secret)}); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

// The parent is the run's, recorded in the invocation: not the TRACEPARENT
// of whoever builds the sink later (a flush in another job, the next run).
func TestSendParentFromTheRecord(t *testing.T) {
	const (
		recorded = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
		flusher  = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	)
	var mu sync.Mutex
	var bodies [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
	}))
	defer srv.Close()
	var debug []string
	u, _ := ParseURL("otlp+" + srv.URL)
	s, err := New(u, Options{Getenv: env(EnvTraceparent, flusher), Debugf: func(f string, a ...any) {
		debug = append(debug, fmt.Sprintf(f, a...))
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range []string{recorded, "", "00-garbage"} {
		b := batch()
		b.Invocation.Traceparent = tp
		if err := s.Send(context.Background(), b); err != nil {
			t.Fatalf("%q: %v", tp, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 3 {
		t.Fatalf("%d requests, want 3", len(bodies))
	}
	for i, want := range []string{"00f067aa0ba902b7", "", ""} {
		var td tracepb.TracesData
		if err := proto.Unmarshal(bodies[i], &td); err != nil {
			t.Fatal(err)
		}
		root := td.ResourceSpans[0].ScopeSpans[0].Spans[0]
		if got := hex.EncodeToString(root.ParentSpanId); got != want {
			t.Errorf("send %d: root's parent %q, want %q", i, got, want)
		}
		if i == 0 && hex.EncodeToString(root.TraceId) != "4bf92f3577b34da6a3ce929d0e0e4736" {
			t.Errorf("trace ID %x, want the recorded parent's", root.TraceId)
		}
	}
	if !slices.ContainsFunc(debug, func(l string) bool { return strings.Contains(l, "recorded traceparent is ignored") }) {
		t.Errorf("no debug line for the malformed recorded traceparent: %q", debug)
	}
}

func TestRecordTraceparent(t *testing.T) {
	for in, want := range map[string]string{
		"": "",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01":          "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		" 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03 ":        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-whatever": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
	} {
		got, err := RecordTraceparent(env(EnvTraceparent, in))
		if err != nil || got != want {
			t.Errorf("RecordTraceparent(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if got, err := RecordTraceparent(env()); got != "" || err != nil {
		t.Errorf("unset: %q, %v", got, err)
	}
	got, err := RecordTraceparent(env(EnvTraceparent, "00-garbage"))
	if got != "" || err == nil || !strings.Contains(err.Error(), "ignored") {
		t.Errorf("malformed: %q, %v", got, err)
	}
}

func TestNewDefaultEndpoint(t *testing.T) {
	u, _ := ParseURL("otlp")
	s, err := New(u, Options{Getenv: env()})
	if err != nil {
		t.Fatal(err)
	}
	if s.Endpoint() != defaultEndpoint {
		t.Errorf("endpoint %s", s.Endpoint())
	}
}

func TestNewBadEnvironment(t *testing.T) {
	u, _ := ParseURL("otlp")
	for _, kv := range [][]string{
		{EnvEndpoint, "grpc://collector:4317"},
		{EnvTracesEndpoint, "https://u:" + secret + "@collector"},
		{EnvHeaders, secret},
	} {
		_, err := New(u, Options{Getenv: env(kv...)})
		if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "OTEL_EXPORTER_OTLP_") {
			t.Errorf("%v: %v", kv, err)
		}
	}
	if _, err := New(u, Options{Getenv: env(EnvEndpoint, "https://x", EnvCertificate, "/nonexistent/ca.pem")}); err != nil {
		t.Errorf("the CA file is read at send time, not by New: %v", err)
	}
	var nd *sink.NotDeliveredError
	s, _ := New(u, Options{Getenv: env(EnvEndpoint, "https://127.0.0.1:1", EnvCertificate, "/nonexistent/ca.pem")})
	if err := s.Send(context.Background(), batch()); !errors.As(err, &nd) {
		t.Errorf("a missing CA file: %v, want not delivered", err)
	}
}
