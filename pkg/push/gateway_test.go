package push

import (
	"cmp"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/install-metrics/install-metrics/internal/buildinfo"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/install-metrics/install-metrics/pkg/metrics"
	"github.com/install-metrics/install-metrics/pkg/sink/gateway/gatewaytest"
)

// slack is a sanity bound on top of a timeout for a loaded 2-core machine
// running the race detector: not a performance measurement (see the
// benchmarks for that).
const slack = time.Second

func TestGatewayPushFollowsContract(t *testing.T) {
	g := newGatewayServer(t, gatewaytest.Options{})
	s := newSender(t, Config{}, g.URL)
	for i := 1; i <= 2; i++ {
		rep := s.Send(t.Context(), testInv())
		if len(rep.Warnings) != 0 || len(rep.Sent) != 1 {
			t.Fatalf("push %d: %+v %v", i, rep, warnings(rep))
		}
		if got := g.Value(metrics.InvocationFamily, map[string]string{"job": Job, "result": "Success", "platform": "aws"}); got != float64(i) {
			t.Errorf("after push %d the gateway holds %v", i, got)
		}
	}
	reqs := g.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Method != "POST" || r.Path != "/metrics/job/install-metrics" {
		t.Errorf("request %s %s, want POST /metrics/job/install-metrics", r.Method, r.Path)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q, want the text format", ct)
	}
	if ua := r.Header.Get("User-Agent"); ua != buildinfo.UserAgent() || !strings.HasPrefix(ua, "install-metrics/") {
		t.Errorf("User-Agent %q", ua)
	}
	if r.Header.Get("Authorization") != "" {
		t.Error("credentials sent without --metrics-auth")
	}
	want, err := metrics.Text(metrics.Samples(testInv(), metrics.SampleOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := gocmp.Diff(string(want), string(r.Body)); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(r.Body)), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		if strings.Contains(line, "job=") || len(strings.Fields(line[strings.LastIndex(line, "}")+1:])) != 1 {
			t.Errorf("sample line with a job label or a timestamp: %q", line)
		}
	}
}

func TestGatewayAuth(t *testing.T) {
	tokenFile := writeSecret(t, "token", testToken+"\n")
	basicFile := writeSecret(t, "basic", "metrics:"+testPassword+"\n")
	wrongToken := writeSecret(t, "wrong", "not-the-token")
	for _, tc := range []struct {
		name    string
		opts    gatewaytest.Options
		auth    string
		pull    string
		warning string // "" for success
	}{
		{name: "token-file", opts: gatewaytest.Options{BearerToken: testToken}, auth: "token-file:" + tokenFile},
		{name: "basic-file", opts: gatewaytest.Options{AuthUsers: map[string]string{"metrics": testPassword}}, auth: "basic-file:" + basicFile},
		{name: "pull-secret", opts: gatewaytest.Options{BearerToken: testPullSecret}, auth: "pull-secret", pull: testPullSecret},
		{name: "wrong token", opts: gatewaytest.Options{BearerToken: testToken}, auth: "token-file:" + wrongToken,
			warning: "gateway refused the credentials (401: unauthorized): check --metrics-auth; kept in the spool"},
		{name: "no credentials", opts: gatewaytest.Options{AuthUsers: map[string]string{"metrics": testPassword}}, auth: "none",
			warning: "gateway refused the credentials (401): check --metrics-auth; kept in the spool"},
		{name: "missing token file", opts: gatewaytest.Options{BearerToken: testToken}, auth: "token-file:/nonexistent/token",
			warning: "reading token file: /nonexistent/token: no such file or directory; kept in the spool"},
		{name: "no pull secret", opts: gatewaytest.Options{BearerToken: testToken}, auth: "pull-secret",
			warning: "--metrics-auth pull-secret: no usable cloud.openshift.com auth in the pull secret; use --metrics-auth token-file:PATH; kept in the spool"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGatewayServer(t, tc.opts)
			auth, err := ParseAuth(tc.auth)
			if err != nil {
				t.Fatal(err)
			}
			s := newSender(t, Config{Auth: auth, PullSecretToken: tc.pull}, g.URL)
			rep := s.Send(t.Context(), testInv())
			got := warnings(rep)
			if tc.warning == "" {
				if len(got) != 0 || g.Pushes() != 1 {
					t.Errorf("warnings %q, pushes %d", got, g.Pushes())
				}
			} else if len(got) != 1 || !strings.Contains(got[0], tc.warning) || len(spoolEntries(t, s)) != 1 {
				t.Errorf("warnings %q, want one containing %q and one spool entry", got, tc.warning)
			}
			var bodies []string
			for _, r := range g.Requests() {
				bodies = append(bodies, r.Path, string(r.Body))
			}
			assertNoSecrets(t, append(got, bodies...), s.cfg.StateDir)
		})
	}
}

func TestCredentialsNeedTLS(t *testing.T) {
	auth, _ := ParseAuth("token-file:/x")
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://metrics.example.com", true},
		{"http://127.0.0.1:9091", true},
		{"http://localhost:9091", true},
		{"http://[::1]:9091", true},
		{"http://metrics.example.com", false},
		{"http://10.0.0.1:9091", false},
	} {
		sinks, err := ParseSinks([]string{tc.url}, "/state")
		if err != nil {
			t.Fatal(err)
		}
		err = Config{Sinks: sinks, Auth: auth, StateDir: "/state", Timeout: time.Second}.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.url, err)
		}
		if err != nil && err.Error() != "--metrics-auth token-file:/x would send a credential in clear text to "+tc.url+": use an https:// sink (plain http only to localhost)" {
			t.Errorf("%s: %v", tc.url, err)
		}
	}
}

// TestGatewayFaults pushes into every fault, then clears it and flushes:
// what provably did not arrive is delivered exactly once, what may have
// arrived is never resent, and the gateway never counts the push twice.
func TestGatewayFaults(t *testing.T) {
	const timeout = 300 * time.Millisecond
	for _, tc := range []struct {
		name    string
		fault   gatewaytest.Fault
		spooled bool
		counted float64 // what the gateway holds before the flush
		warning string
		timeout time.Duration // default 300ms
	}{
		{name: "429", fault: gatewaytest.Fault{Kind: gatewaytest.Status, Status: 429, Body: "slow down"}, spooled: true,
			warning: "gateway answered 429: slow down: check the sink URL"},
		{name: "502", fault: gatewaytest.Fault{Kind: gatewaytest.Status, Status: 502, Body: "bad gateway"}, spooled: true,
			warning: "gateway unavailable (502: bad gateway)"},
		{name: "503", fault: gatewaytest.Fault{Kind: gatewaytest.Status, Status: 503, Body: "<html>\n<h1>Service\tUnavailable</h1>\n</html>"}, spooled: true,
			warning: "gateway unavailable (503: <html> <h1>Service Unavailable</h1> </html>)"},
		{name: "504", fault: gatewaytest.Fault{Kind: gatewaytest.Status, Status: 504}, spooled: true,
			warning: "gateway unavailable (504)"},
		{name: "404", fault: gatewaytest.Fault{Kind: gatewaytest.Status, Status: 404, Body: "404 page not found"}, spooled: true,
			warning: "gateway answered 404: 404 page not found: check the sink URL"},
		{name: "500", fault: gatewaytest.Fault{Kind: gatewaytest.Status, Status: 500, Body: "oops"},
			warning: "gateway answered 500: oops; the samples may have been counted, so they are not resent"},
		{name: "400", fault: gatewaytest.Fault{Kind: gatewaytest.Status, Status: 400, Body: "text format parsing error in line 1: invalid metric name"},
			warning: "gateway rejected the samples (400: text format parsing error in line 1: invalid metric name); they are not resent"},
		{name: "never answers", fault: gatewaytest.Fault{Kind: gatewaytest.Hang},
			warning: "no answer before --metrics-timeout ran out, after the samples were sent; they may have been counted, so they are not resent"},
		{name: "answers late", fault: gatewaytest.Fault{Kind: gatewaytest.Slow, Delay: 2 * time.Second}, counted: 1,
			warning: "no answer before --metrics-timeout ran out, after the samples were sent; they may have been counted, so they are not resent"},
		{name: "answers just in time", fault: gatewaytest.Fault{Kind: gatewaytest.Slow, Delay: 50 * time.Millisecond}, counted: 1, timeout: 3 * time.Second},
		{name: "answers garbage", fault: gatewaytest.Fault{Kind: gatewaytest.Garbage},
			warning: "connection failed after the samples were sent (net/http: HTTP/1.x transport connection broken: malformed HTTP status code"},
		{name: "closes after processing", fault: gatewaytest.Fault{Kind: gatewaytest.CloseAfterProcessing}, counted: 1,
			warning: "connection failed after the samples were sent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGatewayServer(t, gatewaytest.Options{})
			g.SetFault(tc.fault)
			timeout := cmp.Or(tc.timeout, timeout)
			s := newSender(t, Config{Timeout: timeout}, g.URL)
			var rep *Report
			if d := timed(func() { rep = s.Send(t.Context(), testInv()) }); d > timeout+slack {
				t.Errorf("Send took %v with a %v timeout", d, timeout)
			}
			got := warnings(rep)
			switch {
			case tc.warning == "" && len(got) != 0:
				t.Errorf("warnings %q", got)
			case tc.warning != "" && (len(got) != 1 || !strings.Contains(got[0], tc.warning)):
				t.Errorf("warnings %q, want one containing %q", got, tc.warning)
			case tc.spooled != strings.Contains(strings.Join(got, ""), "kept in the spool"):
				t.Errorf("warning %q: spooled should be %v", got, tc.spooled)
			}
			if n := len(spoolEntries(t, s)); n != map[bool]int{true: 1}[tc.spooled] {
				t.Errorf("%d spool entries, want spooled=%v", n, tc.spooled)
			}
			if c := g.Value(metrics.InvocationFamily, nil); c != tc.counted {
				t.Errorf("gateway counted %v, want %v", c, tc.counted)
			}
			g.SetFault(gatewaytest.Fault{})
			frep := s.Flush(t.Context())
			want := tc.counted
			if tc.spooled {
				want = 1
			}
			if c := g.Value(metrics.InvocationFamily, nil); c != want || len(frep.Warnings) != 0 {
				t.Errorf("after the flush the gateway holds %v, want %v (warnings %q)", c, want, warnings(frep))
			}
			if n := len(spoolEntries(t, s)); n != 0 {
				t.Errorf("%d spool entries left after the flush", n)
			}
		})
	}
}

// A connection closed mid-request may or may not have carried the push; in
// every case it is counted at most once.
func TestGatewayClosedMidRequest(t *testing.T) {
	g := newGatewayServer(t, gatewaytest.Options{})
	g.SetFault(gatewaytest.Fault{Kind: gatewaytest.CloseMidRequest})
	s := newSender(t, Config{Timeout: time.Second}, g.URL)
	rep := s.Send(t.Context(), testInv())
	if len(rep.Warnings) != 1 {
		t.Fatalf("warnings %q", warnings(rep))
	}
	g.SetFault(gatewaytest.Fault{})
	s.Flush(t.Context())
	if c := g.Value(metrics.InvocationFamily, nil); c > 1 {
		t.Errorf("counted %v times", c)
	}
}

func TestGatewayRefusedThenBack(t *testing.T) {
	addr, err := gatewaytest.RefusedAddr()
	if err != nil {
		t.Fatal(err)
	}
	s := newSender(t, Config{}, "http://"+addr)
	rep := s.Send(t.Context(), testInv())
	got := warnings(rep)
	want := "http://" + addr + ": dial tcp " + addr + ": connect: connection refused; kept in the spool for the next run or \"install-metrics metrics flush\""
	if diff := gocmp.Diff([]string{want}, got); diff != "" {
		t.Errorf("warnings mismatch (-want +got):\n%s", diff)
	}
	g, err := gatewaytest.Listen(gatewaytest.Options{Addr: addr})
	if err != nil {
		t.Skipf("the port was taken meanwhile: %v", err)
	}
	defer g.Close()
	// The next invocation sends its own samples and the spooled ones.
	rep = s.Send(t.Context(), testInv())
	if len(rep.Warnings) != 0 || rep.Flushed != 1 || g.Value(metrics.InvocationFamily, nil) != 2 || len(spoolEntries(t, s)) != 0 {
		t.Errorf("second run: flushed %d, gateway %v, warnings %q", rep.Flushed, g.Value(metrics.InvocationFamily, nil), warnings(rep))
	}
}

func TestGatewayDNSFailure(t *testing.T) {
	s := newSender(t, Config{}, "https://gateway.invalid")
	s.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: "gateway.invalid", IsNotFound: true}}
	}
	rep := s.Send(t.Context(), testInv())
	want := []string{`https://gateway.invalid: dial tcp: lookup gateway.invalid: no such host; kept in the spool for the next run or "install-metrics metrics flush"`}
	if diff := gocmp.Diff(want, warnings(rep)); diff != "" {
		t.Errorf("warnings mismatch (-want +got):\n%s", diff)
	}
}

func TestGatewayNeverAnswersWithinDeadline(t *testing.T) {
	b, err := gatewaytest.NewBlackhole()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const timeout = 200 * time.Millisecond
	s := newSender(t, Config{Timeout: timeout}, b.URL)
	var rep *Report
	d := timed(func() { rep = s.Send(t.Context(), testInv()) })
	if d > timeout+slack {
		t.Errorf("Send took %v with a %v timeout", d, timeout)
	}
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0].Error(), "they may have been counted, so they are not resent") || len(spoolEntries(t, s)) != 0 {
		t.Errorf("warnings %q", warnings(rep))
	}
}

// Redirects are never followed: the credential stays with the host named.
func TestGatewayRedirectToAnotherHost(t *testing.T) {
	other := newGatewayServer(t, gatewaytest.Options{})
	g := newGatewayServer(t, gatewaytest.Options{BearerToken: testToken})
	g.SetFault(gatewaytest.Fault{Kind: gatewaytest.Redirect, Location: other.URL + "/metrics/job/install-metrics?token=x"})
	auth, _ := ParseAuth("token-file:" + writeSecret(t, "token", testToken))
	s := newSender(t, Config{Auth: auth}, g.URL)
	rep := s.Send(t.Context(), testInv())
	want := g.URL + ": gateway answered 307 redirecting to " + other.URL + "; redirects are not followed, so credentials stay with the host you named: use the final URL as the sink; kept in the spool"
	if got := warnings(rep); len(got) != 1 || !strings.HasPrefix(got[0], want) {
		t.Errorf("warnings %q, want %q", got, want)
	}
	if n := len(other.Requests()); n != 0 {
		t.Errorf("the other host got %d requests", n)
	}
}

// A hostile gateway echoing the request back never makes us print a secret.
func TestGatewayEchoIsRedacted(t *testing.T) {
	for _, mode := range []string{"token", "basic", "pull"} {
		g := newGatewayServer(t, gatewaytest.Options{})
		var auth Auth
		switch mode {
		case "token":
			auth, _ = ParseAuth("token-file:" + writeSecret(t, "t", testToken))
			g.SetFault(gatewaytest.Fault{Kind: gatewaytest.Status, Status: 400, Body: "bad header Authorization: Bearer " + testToken})
		case "basic":
			auth, _ = ParseAuth("basic-file:" + writeSecret(t, "b", "u:"+testPassword))
			g.SetFault(gatewaytest.Fault{Kind: gatewaytest.Status, Status: 400, Body: "bad header Authorization: Basic dTpwdy05YjJlNDRkMC1TRUNSRVQ= (u:" + testPassword + ")"})
		case "pull":
			auth, _ = ParseAuth("pull-secret")
			g.SetFault(gatewaytest.Fault{Kind: gatewaytest.Status, Status: 503, Body: testPullSecret})
		}
		var debug []string
		s := newSender(t, Config{Auth: auth, PullSecretToken: testPullSecret, Debugf: func(f string, a ...any) {
			debug = append(debug, strings.TrimSpace(strings.ReplaceAll(f, "%", "")))
		}}, g.URL)
		rep := s.Send(t.Context(), testInv())
		got := warnings(rep)
		if len(got) != 1 || !strings.Contains(got[0], "[REDACTED]") {
			t.Errorf("%s: warnings %q", mode, got)
		}
		assertNoSecrets(t, append(got, debug...), s.cfg.StateDir)
	}
}

func TestGatewayTLS(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tls     gatewaytest.TLSOptions
		withCA  bool
		warning string
	}{
		{name: "private CA", withCA: true},
		{name: "unknown CA", warning: "tls: failed to verify certificate: x509: certificate signed by unknown authority (pass the gateway's CA with --metrics-ca-file); kept in the spool"},
		{name: "wrong name", withCA: true, tls: gatewaytest.TLSOptions{Hosts: []string{"127.0.0.2", "gateway.example.com"}},
			warning: "x509: certificate is valid for 127.0.0.2, not 127.0.0.1 (the certificate is for another host name); kept in the spool"},
		{name: "expired", withCA: true, tls: gatewaytest.TLSOptions{Expired: true},
			warning: "certificate has expired or is not yet valid: current time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := gatewaytest.NewTLSServer(gatewaytest.Options{BearerToken: testToken}, tc.tls)
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			cfg := Config{}
			if tc.withCA {
				if cfg.CAFile, err = g.WriteCAFile(t.TempDir()); err != nil {
					t.Fatal(err)
				}
			}
			cfg.Auth, _ = ParseAuth("token-file:" + writeSecret(t, "token", testToken))
			s := newSender(t, cfg, g.URL)
			rep := s.Send(t.Context(), testInv())
			got := warnings(rep)
			if tc.warning == "" {
				if len(got) != 0 || g.Pushes() != 1 {
					t.Errorf("warnings %q, pushes %d", got, g.Pushes())
				}
				return
			}
			if len(got) != 1 || !strings.Contains(got[0], tc.warning) || len(spoolEntries(t, s)) != 1 || g.Pushes() != 0 {
				t.Errorf("warnings %q, want %q; %d spooled", got, tc.warning, len(spoolEntries(t, s)))
			}
			if len(g.Requests()) != 0 {
				t.Error("the token travelled over a connection that failed verification")
			}
		})
	}
}

func TestGatewayBadCAFile(t *testing.T) {
	g := newGatewayServer(t, gatewaytest.Options{})
	s := newSender(t, Config{CAFile: writeSecret(t, "ca.pem", "not a certificate")}, g.URL)
	if pre := s.Preflight(); len(pre) != 1 || !strings.Contains(pre[0].Error(), "holds no PEM certificate") {
		t.Errorf("preflight %v", pre)
	}
	rep := s.Send(t.Context(), testInv())
	if got := warnings(rep); len(got) != 1 || !strings.Contains(got[0], "--metrics-ca-file") || !strings.Contains(got[0], "holds no PEM certificate; kept in the spool") {
		t.Errorf("warnings %q", got)
	}
}
