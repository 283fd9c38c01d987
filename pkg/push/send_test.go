package push

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/install-metrics/install-metrics/pkg/metrics"
	"github.com/install-metrics/install-metrics/pkg/sink"
	"github.com/install-metrics/install-metrics/pkg/sink/gateway/gatewaytest"
)

// All sinks at once, under one deadline: two dead gateways cost one warning
// each and do not delay the healthy sinks nor the return.
func TestSendAllSinksWithinOneDeadline(t *testing.T) {
	healthy := newGatewayServer(t, gatewaytest.Options{})
	hung := newGatewayServer(t, gatewaytest.Options{})
	hung.SetFault(gatewaytest.Fault{Kind: gatewaytest.Hang})
	b, err := gatewaytest.NewBlackhole()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	state := t.TempDir()
	const timeout = 2 * time.Second // the healthy sinks need margin on a loaded machine
	s := newSender(t, Config{StateDir: state, Timeout: timeout},
		healthy.URL, hung.URL, b.URL, "statsd://"+pc.LocalAddr().String(), "file://"+DefaultTextfile(state))
	var rep *Report
	if d := timed(func() { rep = s.Send(t.Context(), testInv()) }); d > timeout+slack {
		t.Errorf("Send took %v with a %v timeout", d, timeout)
	}
	if len(rep.Warnings) != 2 || len(rep.Sent) != 3 {
		t.Errorf("sent %v, warnings %q", rep.Sent, warnings(rep))
	}
	if healthy.Pushes() != 1 {
		t.Error("the healthy gateway missed the push")
	}
	assertCount(t, DefaultTextfile(state), 1)
	buf := make([]byte, 65535)
	_ = pc.SetReadDeadline(time.Now().Add(time.Second))
	if _, _, err := pc.ReadFrom(buf); err != nil {
		t.Errorf("statsd: %v", err)
	}
}

// SIGTERM during the send phase: the caller cancels the context and Send
// returns promptly.
func TestSendInterrupted(t *testing.T) {
	g := newGatewayServer(t, gatewaytest.Options{})
	g.SetFault(gatewaytest.Fault{Kind: gatewaytest.Hang})
	s := newSender(t, Config{Timeout: time.Minute}, g.URL)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for len(g.Requests()) == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	var rep *Report
	if d := timed(func() { rep = s.Send(ctx, testInv()) }); d > slack {
		t.Errorf("Send took %v after the interrupt", d)
	}
	want := []string{g.URL + ": sending interrupted after the samples were sent; they may have been counted, so they are not resent"}
	if diff := cmp.Diff(want, warnings(rep)); diff != "" {
		t.Errorf("warnings mismatch (-want +got):\n%s", diff)
	}
}

// stuckSink ignores its context until released: the safety net must not
// let it hold Send past the deadline.
type stuckSink struct{ release chan struct{} }

func (s stuckSink) Send(context.Context, sink.Batch) error { <-s.release; return nil }

func TestSendDoesNotWaitForAStuckSink(t *testing.T) {
	const timeout = 100 * time.Millisecond
	s := newSender(t, Config{Timeout: timeout}, "http://127.0.0.1:9")
	stuck := stuckSink{release: make(chan struct{})}
	done := make(chan struct{})
	s.newSink = func(SinkURL, func(error)) sink.Sink {
		return sinkFunc(func(ctx context.Context, smp sink.Batch) error {
			defer close(done)
			return stuck.Send(ctx, smp)
		})
	}
	var rep *Report
	if d := timed(func() { rep = s.Send(t.Context(), testInv()) }); d > timeout+slack {
		t.Errorf("Send took %v", d)
	}
	close(stuck.release)
	<-done
	want := []string{"http://127.0.0.1:9: did not finish before --metrics-timeout ran out; the samples may have arrived, so they are not resent"}
	if diff := cmp.Diff(want, warnings(rep)); diff != "" {
		t.Errorf("warnings mismatch (-want +got):\n%s", diff)
	}
}

type sinkFunc func(context.Context, sink.Batch) error

func (f sinkFunc) Send(ctx context.Context, b sink.Batch) error { return f(ctx, b) }

// When even the spool cannot keep the samples, the one warning says so.
func TestSendLostWhenSpoolFails(t *testing.T) {
	state := t.TempDir()
	s := newSender(t, Config{StateDir: state}, "http://127.0.0.1:9")
	s.newSink = func(SinkURL, func(error)) sink.Sink {
		return sinkFunc(func(context.Context, sink.Batch) error { return sink.NotDelivered(errors.New("connection refused")) })
	}
	if err := writeFileAt(SpoolDir(state), "not a directory"); err != nil {
		t.Fatal(err)
	}
	rep := s.Send(t.Context(), testInv())
	want := []string{"http://127.0.0.1:9: connection refused; the samples could not be kept for later either, they are lost: creating spool " + SpoolDir(state) + ": not a directory"}
	if diff := cmp.Diff(want, warnings(rep)); diff != "" {
		t.Errorf("warnings mismatch (-want +got):\n%s", diff)
	}
}

func TestParseSink(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"https://Metrics.Example.com/", "https://metrics.example.com"},
		{"http://127.0.0.1:9091/prefix/", "http://127.0.0.1:9091/prefix"},
		{"statsd://127.0.0.1:9125", "statsd://127.0.0.1:9125"},
		{"statsd+udp://127.0.0.1:9125?prefix=im.ocp", "statsd://127.0.0.1:9125?prefix=im.ocp"},
		{"statsd+tcp://[::1]:9125", "statsd+tcp://[::1]:9125"},
		{"file:///var/lib/node_exporter/textfile/install.prom", "file:///var/lib/node_exporter/textfile/install.prom"},
		{"file://localhost/tmp/x.prom", "file:///tmp/x.prom"},
		{" file:///tmp/a/../b.prom ", "file:///tmp/b.prom"},
		{"otlp+http://127.0.0.1:4318", "otlp+http://127.0.0.1:4318/v1/traces"},
		{"OTLP+HTTPS://Collector.example.com/custom", "otlp+https://collector.example.com/custom"},
		{" otlp ", "otlp"},
	} {
		s, err := ParseSink(tc.in)
		if err != nil || s.String() != tc.want {
			t.Errorf("ParseSink(%q) = %q, %v; want %q", tc.in, s.String(), err, tc.want)
		}
	}
	for in, want := range map[string]string{
		"":                                          `"": empty sink URL: use https://host[:port][/prefix], statsd://host:port[?prefix=P], statsd+tcp://host:port[?prefix=P], file:///abs/path.prom or otlp+http[s]://host[:port][/path] (traces; plain otlp reads OTEL_EXPORTER_OTLP_ENDPOINT)`,
		"metrics.example.com":                       `"metrics.example.com": not a URL: use https://host[:port][/prefix], statsd://host:port[?prefix=P], statsd+tcp://host:port[?prefix=P], file:///abs/path.prom or otlp+http[s]://host[:port][/path] (traces; plain otlp reads OTEL_EXPORTER_OTLP_ENDPOINT)`,
		"ftp://x":                                   `"ftp://x": unsupported scheme "ftp": use https://host[:port][/prefix], statsd://host:port[?prefix=P], statsd+tcp://host:port[?prefix=P], file:///abs/path.prom or otlp+http[s]://host[:port][/path] (traces; plain otlp reads OTEL_EXPORTER_OTLP_ENDPOINT)`,
		"https://user:" + testPassword + "@gw":      `"https://***@gw": credentials in the URL are not accepted (they would end up in logs and the spool): pass them with --metrics-auth`,
		"https://" + testToken + "@gw/p":            `"https://***@gw/p": credentials in the URL are not accepted (they would end up in logs and the spool): pass them with --metrics-auth`,
		"https://gw?token=x":                        `"https://gw?token=x": a gateway URL takes no query string (pass credentials with --metrics-auth)`,
		"https://gw/metrics/job/install-metrics":    `"https://gw/metrics/job/install-metrics": give the gateway's base URL: install-metrics adds /metrics/job/install-metrics itself`,
		"https://gw:99999":                          `"https://gw:99999": port "99999" is not a number from 1 to 65535`,
		"http://:80":                                `"http://:80": no host: use https://host[:port][/prefix], statsd://host:port[?prefix=P], statsd+tcp://host:port[?prefix=P], file:///abs/path.prom or otlp+http[s]://host[:port][/path] (traces; plain otlp reads OTEL_EXPORTER_OTLP_ENDPOINT)`,
		"statsd://127.0.0.1":                        `"statsd://127.0.0.1": no port: StatsD has no default port here, use host:port (statsd_exporter listens on 9125)`,
		"statsd://127.0.0.1:9125?prefix=a:b":        `"statsd://127.0.0.1:9125?prefix=a:b": prefix "a:b" must be dot-separated words of letters, digits and underscores`,
		"statsd://127.0.0.1:9125?rate=0.5":          `"statsd://127.0.0.1:9125?rate=0.5": unknown query parameter "rate": the only one is prefix=P`,
		"statsd://127.0.0.1:9125/x":                 `"statsd://127.0.0.1:9125/x": a StatsD URL has no path: use statsd://host:port[?prefix=P]`,
		"file://relative/x.prom":                    `"file://relative/x.prom": a file URL names a local file: file:///abs/path.prom (three slashes)`,
		"file:///tmp/metrics.txt":                   `"file:///tmp/metrics.txt": the textfile must be a file whose name ends in .prom (node_exporter's textfile collector reads only those)`,
		"file:///tmp/dir/":                          `"file:///tmp/dir/": the textfile must be a file whose name ends in .prom (node_exporter's textfile collector reads only those)`,
		"https://gw#frag":                           `"https://gw#frag": a sink URL has no #fragment`,
		"otlp+http://u:" + testPassword + "@h":      `"otlp+http://***@h": credentials in the URL are not accepted (they would end up in logs and the spool): pass them in OTEL_EXPORTER_OTLP_HEADERS`,
		"otlp+https://h/v1/traces?key=" + testToken: `"otlp+https://h/v1/traces?…": an OTLP endpoint takes no query string (pass credentials in OTEL_EXPORTER_OTLP_HEADERS)`,
		"otlp+grpc://h:4317":                        `"otlp+grpc://h:4317": unsupported scheme "otlp+grpc": use https://host[:port][/prefix], statsd://host:port[?prefix=P], statsd+tcp://host:port[?prefix=P], file:///abs/path.prom or otlp+http[s]://host[:port][/path] (traces; plain otlp reads OTEL_EXPORTER_OTLP_ENDPOINT)`,
	} {
		_, err := ParseSink(in)
		if err == nil || err.Error() != want || !errors.Is(err, ErrBadSink) {
			t.Errorf("ParseSink(%q):\n got %v\nwant %s", in, err, want)
		}
	}
}

func TestParseSinksDefaultAndDuplicates(t *testing.T) {
	got, err := ParseSinks(nil, "/home/u/.local/state/install-metrics")
	if err != nil || len(got) != 1 || got[0].String() != "file:///home/u/.local/state/install-metrics/metrics.prom" {
		t.Errorf("default: %v %v", got, err)
	}
	got, err = ParseSinks([]string{"https://gw/", "https://GW", "statsd://h:1"}, "/s")
	if err != nil || len(got) != 2 {
		t.Errorf("duplicates: %v %v", got, err)
	}
	if _, err := ParseSinks(nil, ""); err == nil {
		t.Error("no state dir accepted")
	}
}

func TestParseAuth(t *testing.T) {
	for in, want := range map[string]Auth{
		"":                {Mode: AuthNone},
		"none":            {Mode: AuthNone},
		"pull-secret":     {Mode: AuthPullSecret},
		"token-file:/a/b": {Mode: AuthTokenFile, Path: "/a/b"},
		"basic-file:c:d":  {Mode: AuthBasicFile, Path: "c:d"},
	} {
		got, err := ParseAuth(in)
		if err != nil || got != want {
			t.Errorf("ParseAuth(%q) = %+v, %v", in, got, err)
		}
	}
	for _, in := range []string{"token-file:", "bearer", "basic-file", "token:" + testToken} {
		if _, err := ParseAuth(in); err == nil {
			t.Errorf("ParseAuth(%q) accepted", in)
		}
	}
}

func TestStateDir(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"XDG_STATE_HOME": "/x", "HOME": "/h"}, "/x/install-metrics"},
		{map[string]string{"XDG_STATE_HOME": "relative", "HOME": "/h"}, "/h/.local/state/install-metrics"},
		{map[string]string{"HOME": "/h"}, "/h/.local/state/install-metrics"},
		{map[string]string{}, ""},
	} {
		got, err := StateDir(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
		if got != tc.want || (err != nil) != (tc.want == "") {
			t.Errorf("%v: %q, %v", tc.env, got, err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{StateDir: "/s", Bucket: 20 * time.Second}, "invalid --metrics-bucket: 20s is too small: the bucket step must be at least 30s"},
		{Config{StateDir: "/s", Timeout: -time.Second}, "invalid --metrics-timeout: -1s is negative"},
		{Config{}, "no state directory: set XDG_STATE_HOME or HOME to an absolute path"},
		{Config{StateDir: "/s", Sinks: []SinkURL{{}}}, "sink not parsed: use ParseSinks"},
	} {
		if err := tc.cfg.Validate(); err == nil || err.Error() != tc.want {
			t.Errorf("Validate = %v, want %q", err, tc.want)
		}
	}
}

func TestGatewayJoined(t *testing.T) {
	g := newGatewayServer(t, gatewaytest.Options{})
	s := newSender(t, Config{Joined: true}, g.URL)
	s.Send(t.Context(), testInv())
	if got := g.Value(metrics.ModificationFamily, map[string]string{"asset": "install-config.yaml,manifests/cluster-config.yaml,user-added"}); got != 1 {
		t.Errorf("joined sample: %v\n%s", got, g.Metrics())
	}
	if !strings.Contains(g.Metrics(), `job="install-metrics"`) {
		t.Error("no job label from the path")
	}
}
