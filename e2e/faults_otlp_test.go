//go:build linux

package e2e

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/install-metrics/install-metrics/pkg/sink/gateway/gatewaytest"
)

// The OTLP trace sink misbehaves as the gateway does (TestFaultsGateway):
// refused, silent, 4xx, 5xx, TLS failures, credentials echoed back. The same
// promises hold (checkPromises): the installer's exit code, a bounded
// delay, every run at the sink or in the spool at most once (or a warning
// naming the sink), no secret anywhere, OTEL_EXPORTER_OTLP_HEADERS included.

// otlpSecretHeader is the header OTEL_EXPORTER_OTLP_HEADERS sets in these
// scenarios; only the collector named may see it.
const otlpSecretHeader = "Api-Key"

// otlpFault is how the test collector answers.
type otlpFault struct {
	status int    // 0: 200 and keep the trace
	body   string // of an error answer; "{headers}" becomes what was sent
	hang   bool   // read the request, never answer (until the test ends)
}

type otlpRequest struct {
	path   string
	header http.Header
	body   []byte
}

// otlpCollector is an OTLP/HTTP trace receiver on 127.0.0.1 that records
// every request and counts the runs it took (root spans).
type otlpCollector struct {
	srv     *httptest.Server
	url     string
	caPEM   []byte
	mu      sync.Mutex
	fault   otlpFault
	reqs    []otlpRequest
	roots   int
	release chan struct{}
}

// newOTLPCollector starts a collector; with tlsOpts non-nil it serves HTTPS
// with a certificate made as they say.
func newOTLPCollector(t *testing.T, fault otlpFault, tlsOpts *gatewaytest.TLSOptions) *otlpCollector {
	t.Helper()
	c := &otlpCollector{fault: fault, release: make(chan struct{})}
	c.srv = httptest.NewUnstartedServer(http.HandlerFunc(c.serve))
	if tlsOpts != nil {
		ca, cert, err := gatewaytest.Certificates(*tlsOpts)
		must(t, err)
		c.caPEM = ca
		c.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		c.srv.StartTLS()
	} else {
		c.srv.Start()
	}
	c.url = c.srv.URL
	t.Cleanup(c.srv.Close)
	t.Cleanup(func() { close(c.release) }) // before Close, which waits for handlers
	return c
}

func (c *otlpCollector) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	c.mu.Lock()
	c.reqs = append(c.reqs, otlpRequest{path: r.URL.Path, header: r.Header.Clone(), body: body})
	f := c.fault
	c.mu.Unlock()
	switch {
	case f.hang:
		<-c.release
		return
	case f.status != 0:
		var sent []string
		for k, vs := range r.Header {
			sent = append(sent, k+": "+strings.Join(vs, ","))
		}
		w.WriteHeader(f.status)
		_, _ = io.WriteString(w, strings.ReplaceAll(f.body, "{headers}", strings.Join(sent, "; ")))
		return
	}
	var td tracepb.TracesData
	if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &td) != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range td.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, sp := range ss.Spans {
				if len(sp.ParentSpanId) == 0 {
					c.roots++
				}
			}
		}
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
}

func (c *otlpCollector) requests() []otlpRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]otlpRequest(nil), c.reqs...)
}

func (c *otlpCollector) delivered() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.roots
}

// setOTLP adds the OTLP sink url to the world; c counts what arrived there
// (nil: nothing can arrive).
func (w *world) setOTLP(url string, c *otlpCollector) {
	ref := &sinkRef{url: url, kind: "otlp", delivered: func() int { return 0 }}
	if c != nil {
		ref.delivered = c.delivered
		w.collectors = append(w.collectors, c)
	}
	w.sinks = append(w.sinks, ref)
}

// otlpEnv is the OTLP environment of these scenarios: a credential header.
func otlpEnv() []string {
	return []string{"OTEL_EXPORTER_OTLP_HEADERS=" + strings.ToLower(otlpSecretHeader) + "=" + otlpHeaderSecret, "TRACEPARENT="}
}

// TestFaultsOTLP: one faulty collector next to a healthy textfile, gateway
// and StatsD.
func TestFaultsOTLP(t *testing.T) {
	t.Parallel()
	for _, sc := range []struct {
		name  string
		fault otlpFault
		tls   *gatewaytest.TLSOptions
		// withCA passes the collector's CA (INSTALL_METRICS_CA_FILE).
		withCA bool
		// setup replaces the collector (nil: one with fault).
		setup func(t *testing.T, w *world)
	}{
		{name: "healthy"},
		{name: "refused", setup: func(t *testing.T, w *world) {
			addr, err := gatewaytest.RefusedAddr()
			must(t, err)
			w.setOTLP("otlp+http://"+addr+"/v1/traces", nil)
		}},
		{name: "accepts and never reads", setup: func(t *testing.T, w *world) {
			bh, err := gatewaytest.NewBlackhole()
			must(t, err)
			t.Cleanup(bh.Close)
			w.setOTLP("otlp+"+bh.URL+"/v1/traces", nil)
		}},
		{name: "never answers", fault: otlpFault{hang: true}},
		{name: "400", fault: otlpFault{status: 400, body: "bad trace"}},
		{name: "401", fault: otlpFault{status: 401, body: "unauthenticated"}},
		{name: "404", fault: otlpFault{status: 404, body: "404 page not found"}},
		{name: "429", fault: otlpFault{status: 429, body: "slow down"}},
		{name: "500", fault: otlpFault{status: 500, body: "internal error"}},
		{name: "503", fault: otlpFault{status: 503, body: "unavailable"}},
		{name: "TLS wrong name", tls: &gatewaytest.TLSOptions{Hosts: []string{"collector.example.invalid"}}, withCA: true},
		{name: "TLS expired", tls: &gatewaytest.TLSOptions{Expired: true}, withCA: true},
		{name: "TLS unknown authority", tls: &gatewaytest.TLSOptions{}},
		{name: "TLS healthy", tls: &gatewaytest.TLSOptions{}, withCA: true},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, worldOpts{})
			if sc.setup != nil {
				sc.setup(t, w)
			} else {
				c := newOTLPCollector(t, sc.fault, sc.tls)
				w.setOTLP("otlp+"+c.url+"/v1/traces", c)
				if sc.withCA {
					p := filepath.Join(w.secrets, "otlp-ca.pem")
					must(t, os.WriteFile(p, c.caPEM, 0o644))
					w.caFile = p
				}
			}
			o := w.run(runSpec{plan: []step{header("4.16.3"), logLine("fatal", "failed to create cluster: quota"), exitCode(4)}, env: otlpEnv()})
			checkPromises(w, expect{labels: map[string]string{"return": "4"}}, o)
			if strings.HasPrefix(sc.name, "healthy") || sc.name == "TLS healthy" {
				if n := w.sinks[len(w.sinks)-1].delivered(); n != 1 {
					t.Errorf("a healthy collector took %d traces, want 1", n)
				}
				if warned(string(o.stderr), "otlp") {
					t.Errorf("a warning for a healthy collector:\n%s", o.stderr)
				}
			}
		})
	}
}

// TestFaultsOTLPEchoesCredentials: a hostile collector answers with the
// headers it was sent, OTEL_EXPORTER_OTLP_HEADERS' value among them, for
// several status codes: it never reaches the output or the disk.
func TestFaultsOTLPEchoesCredentials(t *testing.T) {
	t.Parallel()
	for _, status := range []int{400, 401, 403, 429, 500, 503} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, worldOpts{})
			c := newOTLPCollector(t, otlpFault{status: status, body: "rejected, you sent {headers}"}, nil)
			w.setOTLP("otlp+"+c.url+"/v1/traces", c)
			o := w.run(runSpec{plan: successPlan(), env: otlpEnv()})
			checkPromises(w, expect{}, o)
			if !warned(string(o.stderr), "otlp+"+c.url) {
				t.Errorf("no warning names the collector:\n%s", o.stderr)
			}
			if got := c.requests(); len(got) != 1 || got[0].header.Get(otlpSecretHeader) != otlpHeaderSecret {
				t.Errorf("the collector got %d requests; want one carrying the header", len(got))
			}
		})
	}
}
