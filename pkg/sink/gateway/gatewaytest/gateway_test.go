package gatewaytest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var client = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

func do(t *testing.T, method, url, body string, hdr ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

const counter = "# TYPE c counter\nc{a=\"x\"} 1\n"

func TestPushContract(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()

	for _, m := range []string{"POST", "PUT"} {
		if code, body := do(t, m, s.URL+"/metrics/job/install-metrics", counter, "Content-Type", "application/vnd.google.protobuf"); code != 202 {
			t.Fatalf("%s: %d %q, want 202", m, code, body)
		}
	}
	if code, _ := do(t, "POST", s.URL+"/metrics", counter); code != 202 {
		t.Fatalf("POST /metrics: %d", code)
	}
	if code, _ := do(t, "POST", s.URL+"/metrics/", counter); code != 202 {
		t.Fatalf("POST /metrics/: %d", code)
	}
	// PUT replaces nothing: both pushes with the job label summed.
	if got := s.Value("c", map[string]string{"job": "install-metrics", "a": "x"}); got != 2 {
		t.Errorf("c{job=install-metrics} = %v, want 2", got)
	}
	if got := s.Value("c", nil); got != 4 {
		t.Errorf("sum(c) = %v, want 4", got)
	}
	code, body := do(t, "GET", s.URL+"/metrics", "")
	want := "# TYPE c counter\nc{a=\"x\"} 2\nc{a=\"x\",job=\"install-metrics\"} 2\n"
	if code != 200 || body != want {
		t.Errorf("GET /metrics = %d:\n%s\nwant:\n%s", code, body, want)
	}
	if code, body := do(t, "DELETE", s.URL+"/metrics/job/install-metrics", ""); code != 404 || body != "404 page not found\n" {
		t.Errorf("DELETE = %d %q, want 404", code, body)
	}
	if code, _ := do(t, "GET", s.URL+"/metrics/job/x", ""); code != 404 {
		t.Errorf("GET /metrics/job/x = %d, want 404", code)
	}
	if n := s.Pushes(); n != 4 {
		t.Errorf("Pushes = %d, want 4", n)
	}
	reqs := s.Requests()
	if len(reqs) != 7 || reqs[0].Method != "POST" || reqs[0].Path != "/metrics/job/install-metrics" || string(reqs[0].Body) != counter || reqs[0].Status != 202 {
		t.Errorf("requests = %+v", reqs)
	}
}

// protoBody is a counter in the protobuf format client_golang's push
// package sends by default.
func protoBody(t *testing.T) string {
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeProtoDelim))
	name, v := "c", 1.0
	typ := dto.MetricType_COUNTER
	if err := enc.Encode(&dto.MetricFamily{Name: &name, Type: &typ, Metric: []*dto.Metric{{Counter: &dto.Counter{Value: &v}}}}); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestPushErrors(t *testing.T) {
	for _, tc := range []struct {
		name, path, body, want string
	}{
		{"odd path", "/metrics/job", counter, "labels must be defined in pairs\n"},
		{"label in path and body", "/metrics/job/x", "c{job=\"y\"} 1\n", "duplicate label job\n"},
		{"type clash", "/metrics", "# TYPE c gauge\nc{a=\"x\"} 1\n", "cannot merge metric 'c': type COUNTER != GAUGE\n"},
		{"protobuf", "/metrics", protoBody(t), "text format parsing error in line 1: invalid metric name\n"},
		{"duplicate series", "/metrics", "d 1\nd 2\n", "duplicate labels: {__name__=\"d\"}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewServer(Options{})
			defer s.Close()
			if code, _ := do(t, "POST", s.URL+"/metrics", counter); code != 202 {
				t.Fatal(code)
			}
			code, body := do(t, "POST", s.URL+tc.path, tc.body)
			if code != 400 || body != tc.want {
				t.Errorf("got %d %q, want 400 %q", code, body, tc.want)
			}
		})
	}
}

// A 400 can leave earlier families of the same push merged, as in the real
// gateway: a client must not resend after a 400.
func TestPartialMergeOn400(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	do(t, "POST", s.URL+"/metrics", "# TYPE b gauge\nb 1\n")
	code, _ := do(t, "POST", s.URL+"/metrics", "# TYPE a counter\na 1\n# TYPE b counter\nb 1\n")
	if code != 400 || s.Value("a", nil) != 1 {
		t.Errorf("code %d, a = %v: want 400 with a merged", code, s.Value("a", nil))
	}
}

func TestSumsByType(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	push := "# TYPE g gauge\ng 2\n# TYPE u untyped\nu 3\n" +
		"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n" +
		"# TYPE s summary\ns{quantile=\"0.5\"} 7\ns_sum 4\ns_count 1\n" +
		"# TYPE t counter\nt 1 1700000000000\n"
	do(t, "POST", s.URL+"/metrics", push)
	if got := s.Metrics(); !strings.Contains(got, "t 1 1700000000000\n") {
		t.Errorf("a new sample keeps its timestamp:\n%s", got)
	}
	do(t, "POST", s.URL+"/metrics", strings.Replace(push, "h_bucket{le=\"1\"} 1\n", "h_bucket{le=\"2\"} 1\n", 1))
	want := `# TYPE g gauge
g 4
# TYPE h histogram
h_bucket{le="1"} 1
h_bucket{le="2"} 1
h_bucket{le="+Inf"} 4
h_sum 6
h_count 4
# TYPE s summary
s_sum 8
s_count 2
# TYPE t counter
t 2
# TYPE u untyped
u 6
`
	if diff := cmp.Diff(want, s.Metrics()); diff != "" {
		t.Errorf("store mismatch (-want +got):\n%s", diff)
	}
}

func TestBasicAuth(t *testing.T) {
	s := NewServer(Options{AuthUsers: map[string]string{"u": "p"}})
	defer s.Close()
	req, _ := http.NewRequest("POST", s.URL+"/metrics", strings.NewReader(counter))
	req.SetBasicAuth("u", "wrong")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Basic realm="Authorization Required"` {
		t.Errorf("wrong password: %d %v", resp.StatusCode, resp.Header)
	}
	req, _ = http.NewRequest("POST", s.URL+"/metrics", strings.NewReader(counter))
	req.SetBasicAuth("u", "p")
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Errorf("right password: %d", resp.StatusCode)
	}
	if code, _ := do(t, "GET", s.URL+"/metrics", ""); code != 200 {
		t.Errorf("GET /metrics needs no auth: %d", code)
	}
}

func TestBearerProxy(t *testing.T) {
	s := NewServer(Options{BearerToken: "tok"})
	defer s.Close()
	if code, _ := do(t, "POST", s.URL+"/metrics", counter, "Authorization", "Bearer nope"); code != 401 {
		t.Errorf("wrong token: %d", code)
	}
	if code, _ := do(t, "POST", s.URL+"/metrics", counter, "Authorization", "Bearer tok"); code != 202 {
		t.Errorf("right token: %d", code)
	}
}

func TestFaults(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	s.SetFault(Fault{Kind: Status, Status: 503, Body: "busy"})
	if code, body := do(t, "POST", s.URL+"/metrics", counter); code != 503 || body != "busy\n" {
		t.Errorf("Status: %d %q", code, body)
	}
	s.SetFault(Fault{Kind: Redirect, Location: "http://127.0.0.1:1/x"})
	req, _ := http.NewRequest("POST", s.URL+"/metrics", strings.NewReader(counter))
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 307 || resp.Header.Get("Location") != "http://127.0.0.1:1/x" {
		t.Errorf("Redirect: %d %v", resp.StatusCode, resp.Header)
	}
	s.SetFault(Fault{Kind: CloseAfterProcessing})
	if _, err := client.Post(s.URL+"/metrics", "text/plain", strings.NewReader(counter)); err == nil {
		t.Error("CloseAfterProcessing: no error")
	}
	if s.Value("c", nil) != 1 {
		t.Errorf("CloseAfterProcessing did not process: %v", s.Value("c", nil))
	}
	s.SetFault(Fault{Kind: CloseMidRequest})
	if _, err := client.Post(s.URL+"/metrics", "text/plain", strings.NewReader(counter)); err == nil {
		t.Error("CloseMidRequest: no error")
	}
	s.SetFault(Fault{Kind: Hang})
	short := &http.Client{Timeout: 100 * time.Millisecond}
	if _, err := short.Post(s.URL+"/metrics", "text/plain", strings.NewReader(counter)); err == nil {
		t.Error("Hang: no error")
	}
	s.SetFault(Fault{Kind: Slow, Delay: 50 * time.Millisecond})
	if code, _ := do(t, "POST", s.URL+"/metrics", counter); code != 202 {
		t.Errorf("Slow: %d", code)
	}
	if s.Value("c", nil) != 2 {
		t.Errorf("after Slow: %v, want 2", s.Value("c", nil))
	}
	short.CloseIdleConnections()
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
}

// TestKeepRequests: only the latest requests are kept, with their status;
// the store and Pushes count every one.
func TestKeepRequests(t *testing.T) {
	s := NewServer(Options{KeepRequests: 2})
	defer s.Close()
	for _, v := range []string{"1", "2", "3"} {
		if code, body := do(t, "POST", s.URL+"/metrics/job/j"+v, counter); code != 202 {
			t.Fatalf("push %s: %d %q", v, code, body)
		}
	}
	var got []string
	for _, r := range s.Requests() {
		got = append(got, fmt.Sprint(r.Path, " ", r.Status))
	}
	if diff := cmp.Diff([]string{"/metrics/job/j2 202", "/metrics/job/j3 202"}, got); diff != "" {
		t.Errorf("Requests (-want +got):\n%s", diff)
	}
	if s.Pushes() != 3 || s.Value("c", nil) != 3 {
		t.Errorf("Pushes %d, value %v, want 3 and 3", s.Pushes(), s.Value("c", nil))
	}
}

func TestHangReleasedOnClose(t *testing.T) {
	s := NewServer(Options{})
	s.SetFault(Fault{Kind: Hang})
	errc := make(chan error, 1)
	go func() {
		resp, err := client.Post(s.URL+"/metrics", "text/plain", strings.NewReader(counter))
		if err == nil {
			resp.Body.Close()
			err = errors.New("answered")
		}
		errc <- err
	}()
	for i := 0; len(s.Requests()) == 0; i++ {
		if i == 1000 {
			t.Fatal("the request never arrived")
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.Close()
	// The hanging request ends with a transport error (the connection
	// closed under it), not an answer and not the client's own timeout.
	err := <-errc
	if err == nil || err.Error() == "answered" || errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Client.Timeout") {
		t.Fatalf("hanging request ended with %v, want a closed connection", err)
	}
	if s.Pushes() != 0 {
		t.Errorf("a hanging push was processed")
	}
}

// TestMismatchedBoundsMergeWrong: the gateway merges histograms by upper
// bound and copies a bound only one side has unchanged (zapier v0.9.0,
// ecosystem.md §9), so two layouts give wrong cumulative counts; the same
// layout pushed twice sums right.
func TestMismatchedBoundsMergeWrong(t *testing.T) {
	const a = "# TYPE h histogram\nh_bucket{le=\"60\"} 1\nh_bucket{le=\"120\"} 2\nh_bucket{le=\"+Inf\"} 2\nh_sum 150\nh_count 2\n"
	const b = "# TYPE h histogram\nh_bucket{le=\"90\"} 1\nh_bucket{le=\"120\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 80\nh_count 1\n"
	s := NewServer(Options{})
	defer s.Close()
	do(t, "POST", s.URL+"/metrics", a)
	do(t, "POST", s.URL+"/metrics", b)
	got := s.Histogram("h", nil)
	// Right would be le=60: 1, le=90: 2, le=120: 3. The merge gives le=90: 1
	// (b's alone), fewer than le=60 counts below it in truth.
	want := map[float64]uint64{60: 1, 90: 1, 120: 3, math.Inf(1): 3}
	if diff := cmp.Diff(want, got.Buckets); diff != "" || got.Count != 3 || got.Sum != 230 {
		t.Errorf("merge (count %d sum %v) mismatch (-want +got):\n%s", got.Count, got.Sum, diff)
	}
	s2 := NewServer(Options{})
	defer s2.Close()
	do(t, "POST", s2.URL+"/metrics", a)
	do(t, "POST", s2.URL+"/metrics", a)
	if diff := cmp.Diff(map[float64]uint64{60: 2, 120: 4, math.Inf(1): 4}, s2.Histogram("h", nil).Buckets); diff != "" {
		t.Errorf("same layout twice (-want +got):\n%s", diff)
	}
}

func TestTLS(t *testing.T) {
	s, err := NewTLSServer(Options{}, TLSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.CAPEM()) {
		t.Fatal("no CA")
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true}}
	resp, err := c.Post(s.URL+"/metrics", "text/plain", strings.NewReader(counter))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Errorf("%d", resp.StatusCode)
	}
	if _, err := client.Post(s.URL+"/metrics", "text/plain", strings.NewReader(counter)); err == nil {
		t.Error("system roots trusted the private CA")
	}
}

func TestBlackholeAndRefused(t *testing.T) {
	b, err := NewBlackhole()
	if err != nil {
		t.Fatal(err)
	}
	short := &http.Client{Timeout: 100 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	if _, err := short.Post(b.URL+"/metrics", "text/plain", strings.NewReader(counter)); err == nil {
		t.Error("blackhole answered")
	}
	b.Close()
	if b.Accepted() != 1 {
		t.Errorf("accepted %d", b.Accepted())
	}
	addr, err := RefusedAddr()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := short.Post("http://"+addr+"/metrics", "text/plain", strings.NewReader(counter)); err == nil {
		t.Error("refused address answered")
	}
}

// TestLifecycle: the lifecycle listener's probes, and its push counter per
// job of the push path, counting only merged pushes (as HandleInsert).
func TestLifecycle(t *testing.T) {
	s := NewServer(Options{Lifecycle: true})
	defer s.Close()
	for _, p := range []string{"/healthy", "/ready"} {
		if code, body := do(t, "GET", s.LifecycleURL+p, ""); code != 200 || body != "OK" {
			t.Errorf("GET %s: %d %q", p, code, body)
		}
	}
	for _, push := range []struct{ path, body string }{
		{"/metrics/job/install-metrics", counter},
		{"/metrics/job/install-metrics", counter},
		{"/metrics/job/other", counter},
		{"/metrics", counter},
		{"/metrics/job/install-metrics", "garbage{"}, // a 400: not counted
	} {
		do(t, "POST", s.URL+push.path, push.body)
	}
	_, body := do(t, "GET", s.LifecycleURL+"/metrics", "")
	for _, want := range []string{
		"# TYPE prom_agg_gateway_metric_pushes counter\n",
		"prom_agg_gateway_metric_pushes{push_job=\"install-metrics\"} 2\n",
		"prom_agg_gateway_metric_pushes{push_job=\"other\"} 1\n",
		"prom_agg_gateway_metric_pushes{push_job=\"\"} 1\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("lifecycle /metrics lacks %q:\n%s", want, body)
		}
	}
	if code, _ := do(t, "GET", s.URL+"/healthy", ""); code != 404 {
		t.Errorf("the API port answers /healthy: %d", code)
	}
	plain := NewServer(Options{})
	defer plain.Close()
	if plain.LifecycleURL != "" {
		t.Error("a lifecycle listener without Options.Lifecycle")
	}
}
