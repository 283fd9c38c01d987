package testenv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/install-metrics/install-metrics/pkg/metrics"
	"github.com/install-metrics/install-metrics/pkg/sink/textfile"
)

// readyTimeout bounds the wait for a started tool to become ready.
const readyTimeout = 90 * time.Second

// RepoRoot is the directory holding the module's go.mod, found by walking up
// from the test's working directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	for range 64 {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	t.Fatalf("testenv: no go.mod above the working directory")
	return ""
}

// Tool returns the path of bin/<name> in the repository. When it is missing
// the test is skipped, or fails under CI=true ("run make tools"). With
// -short it is always skipped: real tools are slow to start.
func Tool(t testing.TB, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skipf("testenv: -short: not starting the real %s", name)
	}
	p := filepath.Join(RepoRoot(t), "bin", name)
	fi, err := os.Stat(p)
	if err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
		return p
	}
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatalf("testenv: %s is missing: run make tools", p)
	}
	t.Skipf("testenv: %s is missing (run make tools to install it)", p)
	return ""
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: finding a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// freeTCPUDPPort returns a port free for both TCP and UDP on 127.0.0.1.
func freeTCPUDPPort(t testing.TB) int {
	t.Helper()
	for range 50 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("testenv: finding a free port: %v", err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		_ = ln.Close()
		if err == nil {
			_ = pc.Close()
			return port
		}
	}
	t.Fatalf("testenv: no port free for both TCP and UDP")
	return 0
}

// start runs bin/<name> with args, logs to a file shown when the test fails,
// waits until GET readyURL answers 200, and kills it in t.Cleanup.
func start(t testing.TB, name string, args []string, readyURL string) {
	t.Helper()
	startEnv(t, name, args, nil, readyURL)
}

// startEnv is start with extra environment variables (NAME=value) and
// further URLs that must answer 200 (or, for tcp://host:port, accept a
// connection) before the tool counts as ready.
func startEnv(t testing.TB, name string, args, env []string, readyURL string, alsoReady ...string) {
	t.Helper()
	bin := Tool(t, name)
	logPath := filepath.Join(t.TempDir(), name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = t.TempDir()
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	setPdeathsig(cmd)
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		t.Fatalf("testenv: starting %s: %v", name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		waitErr := <-exited
		_ = logf.Close()
		if t.Failed() {
			t.Logf("testenv: %s ended (%v); last lines of its log:\n%s", name, waitErr, tail(logPath, 30))
		}
	})
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("testenv: %s exited before it was ready (%v):\n%s", name, err, tail(logPath, 30))
		default:
		}
		if answers(client, readyURL, alsoReady) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("testenv: %s not ready after %v:\n%s", name, readyTimeout, tail(logPath, 30))
}

// answers reports whether every URL answers: 200 for http://, a connection
// for tcp://host:port.
func answers(client *http.Client, first string, rest []string) bool {
	for _, u := range append([]string{first}, rest...) {
		if addr, ok := strings.CutPrefix(u, "tcp://"); ok {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				return false
			}
			_ = c.Close()
			continue
		}
		resp, err := client.Get(u)
		if err != nil {
			return false
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false
		}
	}
	return true
}

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// StartStatsdExporter starts the real statsd_exporter with its StatsD
// listeners (UDP and TCP, same port) and its web listener on 127.0.0.1, and
// returns the UDP and TCP addresses and the URL of its /metrics.
func StartStatsdExporter(t testing.TB, extraArgs ...string) (udpAddr, tcpAddr, metricsURL string) {
	t.Helper()
	Tool(t, "statsd_exporter")
	port := freeTCPUDPPort(t)
	web := FreePort(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	webAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(web))
	args := append([]string{
		"--statsd.listen-udp=" + addr,
		"--statsd.listen-tcp=" + addr,
		"--web.listen-address=" + webAddr,
		"--log.level=warn",
	}, extraArgs...)
	start(t, "statsd_exporter", args, "http://"+webAddr+"/-/ready")
	return addr, addr, "http://" + webAddr + "/metrics"
}

// StartPrometheus starts the real Prometheus on 127.0.0.1 scraping each
// target URL (http://host:port/path) every second with honor_labels: true,
// its TSDB in t.TempDir(), and returns its base URL (for Query).
func StartPrometheus(t testing.TB, targets ...string) string {
	t.Helper()
	return StartPrometheusWithRules(t, nil, targets...)
}

// StartPrometheusConfig starts the real Prometheus with the configuration
// given (YAML, its scrape targets on 127.0.0.1), its TSDB in t.TempDir(),
// and returns its base URL (for Query).
func StartPrometheusConfig(t testing.TB, conf []byte) string {
	t.Helper()
	Tool(t, "prometheus")
	dir := t.TempDir()
	path := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(path, conf, 0o644); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	port := FreePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	start(t, "prometheus", []string{
		"--config.file=" + path,
		"--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:" + strconv.Itoa(port),
		"--log.level=warn",
	}, base+"/-/ready")
	return base
}

// StartPrometheusWithRules is StartPrometheus with a rule file (recording
// rules and alerts, evaluated every second); nil means none.
func StartPrometheusWithRules(t testing.TB, rules []byte, targets ...string) string {
	t.Helper()
	Tool(t, "prometheus")
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n")
	if rules != nil {
		rf := filepath.Join(dir, "rules.yml")
		if err := os.WriteFile(rf, rules, 0o644); err != nil {
			t.Fatalf("testenv: %v", err)
		}
		fmt.Fprintf(&b, "rule_files: [%q]\n", rf)
	}
	b.WriteString("scrape_configs:\n  - job_name: e2e\n    honor_labels: true\n    static_configs:\n")
	for _, target := range targets {
		u, err := url.Parse(target)
		if err != nil || u.Scheme != "http" || u.Host == "" {
			t.Fatalf("testenv: scrape target %q is not http://host:port/path", target)
		}
		path := u.Path
		if path == "" {
			path = "/metrics"
		}
		fmt.Fprintf(&b, "      - targets: [%q]\n        labels: {__metrics_path__: %q}\n", u.Host, path)
	}
	return StartPrometheusConfig(t, []byte(b.String()))
}

// ServeTextfile serves the textfile at path as node_exporter's textfile
// collector exposes it: read on every scrape, the file and its histogram
// shards merged family by family (textfile.ReadFamilies; Prometheus's
// parser refuses a family split in two parts of one page), in the text
// format. An absent file is an empty page. It is closed in t.Cleanup.
func ServeTextfile(t testing.TB, path string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mfs, err := textfile.ReadFamilies(path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		data, err := metrics.EncodeText(mfs)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
		_, _ = w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// queryResponse is the part of the Prometheus API answer Query reads.
type queryResponse struct {
	Status    string `json:"status"`
	Error     string `json:"error"`
	ErrorType string `json:"errorType"`
	Data      struct {
		ResultType string       `json:"resultType"`
		Result     model.Vector `json:"result"`
	} `json:"data"`
}

// QueryErr runs an instant PromQL query and returns its vector.
func QueryErr(apiURL, promql string) (model.Vector, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.PostForm(apiURL+"/api/v1/query", url.Values{"query": {promql}})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	var qr queryResponse
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&qr); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", data, err)
	}
	if qr.Status != "success" {
		return nil, fmt.Errorf("query %s: %s: %s", promql, qr.ErrorType, qr.Error)
	}
	if qr.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query %s: result type %s, want vector", promql, qr.Data.ResultType)
	}
	return qr.Data.Result, nil
}

// Query runs an instant PromQL query and fails the test on error.
func Query(t testing.TB, apiURL, promql string) model.Vector {
	t.Helper()
	v, err := QueryErr(apiURL, promql)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return v
}

// VectorMap renders a vector as label set (e.g. `{result="Success"}`) →
// value, for comparisons.
func VectorMap(v model.Vector) map[string]float64 {
	out := make(map[string]float64, len(v))
	for _, s := range v {
		out[s.Metric.String()] = float64(s.Value)
	}
	return out
}

// WaitForQuery polls promql until its result equals want (see VectorMap) or
// timeout passes, then fails with the difference. Scrapes and StatsD
// flushes take a moment; this is the only waiting the tests do.
func WaitForQuery(t testing.TB, apiURL, promql string, want map[string]float64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var got map[string]float64
	var lastErr error
	for {
		v, err := QueryErr(apiURL, promql)
		lastErr = err
		if err == nil {
			got = VectorMap(v)
			if cmp.Equal(want, got) {
				return
			}
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if lastErr != nil && got == nil {
		t.Fatalf("testenv: %s: %v", promql, lastErr)
	}
	t.Fatalf("testenv: %s after %v: mismatch (-want +got):\n%s", promql, timeout, cmp.Diff(want, got))
}
