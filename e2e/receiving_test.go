//go:build linux

package e2e

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/install-metrics/install-metrics/internal/testenv"
	"github.com/install-metrics/install-metrics/monitoring"
	"github.com/install-metrics/install-metrics/pkg/sink/gateway/gatewaytest"
)

// The credentials clients.map knows, and the client names nginx logs.
const (
	recvToken      = "recv-token-7c1e"
	recvFloodToken = "recv-flood-token-22aa"
	recvUser       = "lab"
	recvPassword   = "recv-pw-90f3"
)

// receiving is the receiving side of docs/deploy.md, for real: the test
// gateway behind the real nginx running monitoring/nginx/install-metrics.conf,
// scraped by the real Prometheus through the install-metrics job of
// monitoring/prometheus.example.yml (its relabel guard unchanged).
type receiving struct {
	t       *testing.T
	gw      *gatewaytest.Server
	url     string // https://127.0.0.1:port, the sink URL
	caFile  string
	client  *http.Client
	prom    string
	nginxIn string // nginx's prefix directory
}

func startReceiving(t *testing.T) *receiving {
	t.Helper()
	testenv.NginxBinary(t)
	testenv.Tool(t, "prometheus")
	gw := gatewaytest.NewServer(gatewaytest.Options{Lifecycle: true})
	t.Cleanup(gw.Close)
	dir := t.TempDir()
	// nginx's workers run as nobody: they must reach dir (t.TempDir's
	// parent is 0700) to buffer a body over client_body_buffer_size there.
	must(t, os.Chmod(filepath.Dir(dir), 0o755))
	must(t, os.Chmod(dir, 0o755))
	for _, d := range []string{"install-metrics", "logs", "tmp"} {
		mkdir(t, filepath.Join(dir, d))
	}
	caPEM, certPEM, keyPEM := testCerts(t)
	writeFile(t, filepath.Join(dir, "install-metrics", "tls.crt"), string(certPEM))
	writeFile(t, filepath.Join(dir, "install-metrics", "tls.key"), string(keyPEM))
	caFile := filepath.Join(dir, "ca.crt")
	writeFile(t, caFile, string(caPEM))
	basic := base64.StdEncoding.EncodeToString([]byte(recvUser + ":" + recvPassword))
	writeFile(t, filepath.Join(dir, "install-metrics", "clients.map"), fmt.Sprintf(
		"\"Bearer %s\" ci-farm;\n\"Bearer %s\" flooder;\n\"Basic %s\" lab;\n", recvToken, recvFloodToken, basic))

	// The shipped file, with the three changes a test on one machine needs.
	conf, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "monitoring", "nginx", "install-metrics.conf"))
	must(t, err)
	port := testenv.FreePort(t)
	s := string(conf)
	for _, r := range [][2]string{
		{"listen 443 ssl;", "listen 127.0.0.1:" + strconv.Itoa(port) + " ssl;"},
		{"proxy_pass http://127.0.0.1:8080;", "proxy_pass " + gw.URL + ";"},
		{"/var/log/nginx/", dir + "/logs/"},
	} {
		if strings.Count(s, r[0]) != 1 {
			t.Fatalf("monitoring/nginx/install-metrics.conf: %q is not there exactly once", r[0])
		}
		s = strings.Replace(s, r[0], r[1], 1)
	}
	writeFile(t, filepath.Join(dir, "install-metrics.conf"), s)
	var main strings.Builder
	fmt.Fprintf(&main, "pid %s/nginx.pid;\nerror_log %s/error.log info;\nworker_processes 1;\nevents { worker_connections 256; }\nhttp {\n", dir, dir)
	for _, tmp := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&main, "    %s_temp_path %s/tmp/%s;\n", tmp, dir, tmp)
	}
	main.WriteString("    include install-metrics.conf;\n}\n")
	writeFile(t, filepath.Join(dir, "nginx.conf"), main.String())
	testenv.StartNginx(t, dir, filepath.Join(dir, "nginx.conf"), port, caPEM)

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	t.Cleanup(client.CloseIdleConnections)

	return &receiving{t: t, gw: gw, url: "https://127.0.0.1:" + strconv.Itoa(port), caFile: caFile, client: client,
		prom: testenv.StartPrometheusConfig(t, guardedScrapeConfig(t, gw.URL, gw.LifecycleURL)), nginxIn: dir}
}

// guardedScrapeConfig is the install-metrics job of
// monitoring/prometheus.example.yml, metric_relabel_configs and limits as
// shipped, scraping the test gateway every second, and its
// install-metrics-gateway job scraping the gateway's lifecycle listener.
func guardedScrapeConfig(t *testing.T, gwURL, lifecycleURL string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "monitoring", "prometheus.example.yml"))
	must(t, err)
	var conf struct {
		ScrapeConfigs []map[string]any `yaml:"scrape_configs"`
	}
	must(t, yaml.Unmarshal(b, &conf))
	targets := map[string]string{"install-metrics": gwURL, "install-metrics-gateway": lifecycleURL}
	var jobs []any
	for _, sc := range conf.ScrapeConfigs {
		url, ok := targets[sc["job_name"].(string)]
		if !ok {
			continue
		}
		if sc["metric_relabel_configs"] == nil {
			t.Fatalf("the %s job has no metric_relabel_configs", sc["job_name"])
		}
		sc["static_configs"] = []map[string]any{{"targets": []string{strings.TrimPrefix(url, "http://")}}}
		jobs = append(jobs, sc)
	}
	if len(jobs) != len(targets) {
		t.Fatalf("monitoring/prometheus.example.yml has %d of the jobs %v", len(jobs), targets)
	}
	out, err := yaml.Marshal(map[string]any{
		"global":         map[string]any{"scrape_interval": "1s", "scrape_timeout": "1s"},
		"scrape_configs": jobs,
	})
	must(t, err)
	return out
}

// alertExpr is the expression of the named alert in monitoring/rules.yaml.
func alertExpr(t *testing.T, name string) string {
	t.Helper()
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	must(t, yaml.Unmarshal(monitoring.RulesYAML(), &rules))
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == name {
				return r.Expr
			}
		}
	}
	t.Fatalf("no alert %s in monitoring/rules.yaml", name)
	return ""
}

// push sends one request through the proxy and returns its status.
func (r *receiving) push(method, path, auth string, body []byte) int {
	r.t.Helper()
	req, err := http.NewRequest(method, r.url+path, bytes.NewReader(body))
	must(r.t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Content-Type", "text/plain; version=0.0.4")
	resp, err := r.client.Do(req)
	if err != nil {
		r.t.Errorf("%s %s: %v", method, path, err)
		return 0
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	return resp.StatusCode
}

const pushPath = "/metrics/job/install-metrics"

// invocationLine is one plausible invocation sample with label overrides.
func invocationLine(value string, kv ...string) string {
	l := map[string]string{"command": "create", "target": "cluster", "os": "linux", "platform": "aws", "result": "Success",
		"return": "0", "version": "4.16", "duration": "42.5", "ci": "false"}
	for i := 0; i+1 < len(kv); i += 2 {
		l[kv[i]] = kv[i+1]
	}
	var parts []string
	for _, k := range []string{"ci", "command", "duration", "os", "platform", "result", "return", "target", "version"} {
		parts = append(parts, fmt.Sprintf("%s=%q", k, l[k]))
	}
	return "# TYPE cluster_installation_invocation counter\ncluster_installation_invocation{" + strings.Join(parts, ",") + "} " + value + "\n"
}

// TestReceivingSideHoldsAgainstHostilePushes: docs/deploy.md's nginx
// config, for real, in front of the gateway, and the shipped Prometheus
// guard behind it. Two real wrapped runs get through (token-file and
// basic-file); every hostile client is refused at the proxy or its samples
// are dropped at the scrape; what still reaches the numbers is reported and
// must be exactly what docs/deploy.md says the proxy and the guard cannot
// stop (a valid credential's values: a counter of 1e9, the count of a
// histogram whose buckets were dropped).
func TestReceivingSideHoldsAgainstHostilePushes(t *testing.T) {
	rs := startReceiving(t)
	im, installer := build(t)

	// The real client, both credential kinds, through TLS with the test CA.
	secrets := t.TempDir()
	writeFile(t, filepath.Join(secrets, "token"), recvToken+"\n")
	writeFile(t, filepath.Join(secrets, "basic"), recvUser+":"+recvPassword+"\n")
	for i, auth := range []string{"token-file:" + filepath.Join(secrets, "token"), "basic-file:" + filepath.Join(secrets, "basic")} {
		home := t.TempDir()
		cmd := exec.Command(im, "--metrics-sink", rs.url, "--metrics-auth", auth, "--metrics-ca-file", rs.caFile,
			"--metrics-timeout", "5s", "create", "cluster", "--dir", filepath.Join(home, "c1"))
		cmd.Env = append(os.Environ(), "HOME="+home, "XDG_STATE_HOME="+filepath.Join(home, "state"), "INSTALL_METRICS=", "DO_NOT_TRACK=",
			"INSTALL_METRICS_SINKS=", "INSTALL_METRICS_INSTALLER="+installer, "OPENSHIFT_INSTALL_REPLAY_SPEED=inf",
			"OPENSHIFT_INSTALL_REPLAY_SCENARIO=cluster-success")
		out, err := cmd.CombinedOutput()
		if err != nil || bytes.Contains(out, []byte("install-metrics: warning")) {
			t.Fatalf("wrapped run %d (%s): %v\n%s", i, auth, err, out)
		}
	}
	if got := rs.gw.Pushes(); got != 2 {
		t.Fatalf("the gateway took %d pushes from the two wrapped runs, want 2", got)
	}
	// Honest pushes: the alert on implausible counts stays quiet (once
	// Prometheus has the two pushes in its increase window).
	implausible := alertExpr(t, "InstallMetricsCountsImplausible")
	pushed := `sum(increase(prom_agg_gateway_metric_pushes{push_job="install-metrics"}[1h]))`
	testenv.WaitForQuery(t, rs.prom, `sum(cluster_installation_invocation{job="install-metrics"})`, map[string]float64{"{}": 2}, waitQuery)
	waitNonEmpty(t, rs.prom, pushed, waitQuery)
	if v, err := testenv.QueryErr(rs.prom, implausible); err != nil || len(v) != 0 {
		t.Errorf("InstallMetricsCountsImplausible after two honest runs: %v, %v; want quiet", v, err)
	}

	valid := "Bearer " + recvToken
	body := []byte(invocationLine("1", "platform", "none"))
	type hostile struct {
		name         string
		method, path string
		auth         string
		body         []byte
		want         int // the proxy's answer
	}
	cases := []hostile{
		{"no credentials", "POST", pushPath, "", body, 401},
		{"a wrong token", "POST", pushPath, "Bearer not-" + recvToken, body, 401},
		{"a token with another scheme", "POST", pushPath, "Token " + recvToken, body, 401},
		{"a wrong password", "POST", pushPath, "Basic " + base64.StdEncoding.EncodeToString([]byte(recvUser+":wrong")), body, 401},
		{"the gateway's sums", "GET", "/metrics", valid, nil, 404},
		{"GET on the push path", "GET", pushPath, valid, nil, 403},
		{"PUT on the push path (replaces at a Pushgateway)", "PUT", pushPath, valid, body, 403},
		{"DELETE on the push path", "DELETE", pushPath, valid, nil, 403},
		{"another job", "POST", "/metrics/job/evil", valid, body, 404},
		{"a grouping key", "POST", pushPath + "/instance/x", valid, body, 404},
		{"the bare push path", "POST", "/metrics", valid, body, 404},
		{"a 10 MiB body", "POST", pushPath, valid, bytes.Repeat([]byte(invocationLine("1", "platform", "none")), (10<<20)/len(body)+1), 413},
		// Accepted by the proxy (a valid credential), dropped by the guard.
		{"a platform outside the closed set", "POST", pushPath, valid, []byte(invocationLine("1", "platform", "mainframe")), 202},
		{"a version with free text", "POST", pushPath, valid, []byte(invocationLine("1", "version", "4.16.3 rm -rf")), 202},
		{"a command word in capitals", "POST", pushPath, valid, []byte(invocationLine("1", "command", "Version", "target", "")), 202},
		{"a duration off the grid", "POST", pushPath, valid, []byte(invocationLine("1", "duration", "1.3")), 202},
		{"an asset named by the user", "POST", pushPath, valid, []byte("# TYPE cluster_installation_modification counter\ncluster_installation_modification{asset=\"/home/alice/secret.yaml\"} 1\n"), 202},
		{"a foreign family", "POST", pushPath, valid, []byte("# TYPE evil_total counter\nevil_total{x=\"y\"} 5\n"), 202},
		{"a stage outside the closed set", "POST", pushPath, valid, []byte(stageHistogram("coffee", "ovirt", [][2]string{{"60", "1"}, {"+Inf", "1"}}, 30, 1)), 202},
		// What a valid credential can do to the numbers: the guard sees labels, not values.
		{"a counter of 1e9", "POST", pushPath, valid, []byte(invocationLine("1e9", "platform", "nutanix")), 202},
		{"a histogram with foreign buckets", "POST", pushPath, valid, []byte(stageHistogram("api", "powervs", [][2]string{{"42", "3"}, {"1e6", "3"}, {"+Inf", "3"}}, 7e6, 3)), 202},
	}
	for _, c := range cases {
		if got := rs.push(c.method, c.path, c.auth, c.body); got != c.want {
			t.Errorf("%s: the proxy answered %d, want %d", c.name, got, c.want)
		}
	}
	// Plain HTTP on the TLS port.
	if resp, err := http.Post(strings.Replace(rs.url, "https:", "http:", 1)+pushPath, "text/plain", bytes.NewReader(body)); err == nil {
		if resp.StatusCode != 400 {
			t.Errorf("plain HTTP on the TLS port: %d, want 400", resp.StatusCode)
		}
		_ = resp.Body.Close()
	}
	// No credential ever reached the gateway, and no refused request did.
	for _, req := range rs.gw.Requests() {
		if strings.HasPrefix(req.Header.Get("User-Agent"), "Prometheus/") {
			continue // the scrape, on the private side
		}
		if req.Header.Get("Authorization") != "" {
			t.Errorf("the gateway got an Authorization header")
		}
		if req.Method != "POST" || req.Path != pushPath {
			t.Errorf("the gateway got %s %s", req.Method, req.Path)
		}
	}

	// A flood from one credential, bounded: 120 pushes as fast as one
	// client sends them. Its samples are outside the closed sets, so
	// whatever the rate limit let through is counted at the gateway and
	// dropped at the scrape.
	flood := []byte(invocationLine("1", "platform", "flood"))
	before := rs.gw.Pushes()
	started := time.Now()
	var limited int
	for range 120 {
		switch rs.push("POST", pushPath, "Bearer "+recvFloodToken, flood) {
		case 429:
			limited++
		case 202:
		default:
			t.Errorf("flood: an answer other than 202 or 429")
		}
	}
	elapsed := time.Since(started)
	accepted := rs.gw.Pushes() - before
	// burst 20 + 1, plus what 2 r/s refill during the flood.
	bound := 21 + int(elapsed.Seconds()*2) + 1
	t.Logf("figures: flood of 120 pushes in %v: %d accepted, %d refused with 429 (bound %d)", elapsed.Round(time.Millisecond), accepted, limited, bound)
	if accepted > bound || limited == 0 || accepted+limited != 120 {
		t.Errorf("flood: %d accepted, %d limited: the rate limit did not hold (bound %d)", accepted, limited, bound)
	}

	// What Prometheus holds after a scrape that saw everything.
	testenv.WaitForQuery(t, rs.prom, `sum(cluster_installation_invocation{platform="nutanix"})`, map[string]float64{"{}": 1e9}, waitQuery)
	got := map[string]float64{}
	for _, q := range []string{
		`count by (__name__) ({job="install-metrics",__name__!~"up|scrape_.+"})`,
	} {
		v, err := testenv.QueryErr(rs.prom, q)
		must(t, err)
		for k, val := range testenv.VectorMap(v) {
			got[k] = val
		}
	}
	for series := range got {
		if !strings.Contains(series, "cluster_installation_") {
			t.Errorf("a foreign family reached Prometheus: %s", series)
		}
	}
	all, err := testenv.QueryErr(rs.prom, `{job="install-metrics",__name__!~"up|scrape_.+"}`)
	must(t, err)
	var through []string
	for _, s := range all {
		m := s.Metric
		name := string(m["__name__"])
		// The two wrapped runs: no install-config.yaml, so platform
		// "unknown", and their stage timeline (the v2 histograms of those runs, once emitted,
		// are theirs too: only the counters are checked for 2).
		if m["platform"] == "unknown" || name == "cluster_installation_duration" {
			if (name == "cluster_installation_invocation" || name == "cluster_installation_duration") && float64(s.Value) != 2 {
				t.Errorf("the wrapped runs' %s = %g, want 2", m, float64(s.Value))
			}
			continue
		}
		through = append(through, fmt.Sprintf("%s = %g", m, float64(s.Value)))
	}
	sums := map[string]float64{}
	for _, q := range []string{
		`sum(cluster_installation_invocation)`,
		`sum(cluster_installation_invocation{platform!="nutanix"})`,
		`count(cluster_installation_stage_duration_seconds_bucket)`,
		`sum(cluster_installation_stage_duration_seconds_count)`,
	} {
		v, err := testenv.QueryErr(rs.prom, q)
		must(t, err)
		if len(v) == 1 {
			sums[q] = float64(v[0].Value)
		}
	}
	t.Logf("figures: what got through to the numbers:\n  %s\n  sums: %v", strings.Join(through, "\n  "), sums)
	if n := sums[`sum(cluster_installation_invocation{platform!="nutanix"})`]; n != 2 {
		t.Errorf("invocations other than the 1e9 push: %v, want the 2 wrapped runs", n)
	}
	// Exactly the two documented leaks, nothing else: the 1e9 counter and
	// the +Inf bucket, sum and count of the histogram whose 42 and 1e6
	// buckets were dropped.
	wantThrough := 4
	if len(through) != wantThrough {
		t.Errorf("%d series got through, want the %d docs/deploy.md names:\n%s", len(through), wantThrough, strings.Join(through, "\n"))
	}
	for _, s := range through {
		if strings.Contains(s, `le="42`) || strings.Contains(s, `le="1e`) || strings.Contains(s, "coffee") {
			t.Errorf("a foreign bucket or stage got through: %s", s)
		}
	}
	// What got through is what the shipped alert catches: a 1e9 counter
	// (docs/deploy.md, runbooks.md), with the gateway's own push count
	// scraped by the example config's install-metrics-gateway job. A
	// series new within the hour counts whole only once Prometheus has
	// scraped the gateways for two hours, which a test cannot wait for:
	// the same client pushes 1e9 once more into the series that now
	// exists, and the alert sees the increase.
	testenv.WaitForQuery(t, rs.prom, `sum(prom_agg_gateway_metric_pushes{push_job="install-metrics"})`,
		map[string]float64{"{}": float64(rs.gw.Pushes())}, waitQuery)
	if got := rs.push("POST", pushPath, valid, []byte(invocationLine("1e9", "platform", "nutanix"))); got != 202 {
		t.Fatalf("the second 1e9 push: %d, want 202", got)
	}
	caught := waitNonEmpty(t, rs.prom, implausible, waitQuery)
	t.Logf("figures: InstallMetricsCountsImplausible's expression after the hostile pushes: %v (pushes received: %d)", caught, rs.gw.Pushes())
	if len(caught) != 1 || float64(caught[0].Value) < 0.9e9 {
		t.Errorf("InstallMetricsCountsImplausible's expression: %v, want the 1e9 caught", caught)
	}

	log, err := os.ReadFile(filepath.Join(rs.nginxIn, "logs", "install-metrics.access.log"))
	must(t, err)
	for _, sec := range []string{recvToken, recvFloodToken, recvPassword, base64.StdEncoding.EncodeToString([]byte(recvUser + ":" + recvPassword))} {
		if bytes.Contains(log, []byte(sec)) {
			t.Errorf("a credential is in nginx's access log")
		}
	}
	if n := bytes.Count(log, []byte("client=flooder POST "+pushPath+" 429")); n != limited {
		t.Errorf("the access log names the flooding client in %d lines with 429, want %d", n, limited)
	}
}

// stageHistogram is one cluster_installation_stage_duration_seconds push.
func stageHistogram(stage, platform string, buckets [][2]string, sum float64, count int) string {
	labels := fmt.Sprintf(`ci="false",finished="true",platform=%q,stage=%q,version="4.16"`, platform, stage)
	var b strings.Builder
	b.WriteString("# TYPE cluster_installation_stage_duration_seconds histogram\n")
	for _, bk := range buckets {
		fmt.Fprintf(&b, "cluster_installation_stage_duration_seconds_bucket{%s,le=%q} %s\n", labels, bk[0], bk[1])
	}
	fmt.Fprintf(&b, "cluster_installation_stage_duration_seconds_sum{%s} %g\n", labels, sum)
	fmt.Fprintf(&b, "cluster_installation_stage_duration_seconds_count{%s} %d\n", labels, count)
	return b.String()
}

// testCerts makes a CA and a server certificate for 127.0.0.1 signed by it.
func testCerts(t *testing.T) (caPEM, certPEM, keyPEM []byte) {
	t.Helper()
	ca, err := newTestCA()
	must(t, err)
	certPEM, keyPEM, err = ca.issue([]net.IP{net.ParseIP("127.0.0.1")})
	must(t, err)
	return ca.pem, certPEM, keyPEM
}
