//go:build linux

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/install-metrics/install-metrics/internal/testenv"
	"github.com/install-metrics/install-metrics/pkg/sink/gateway/gatewaytest"
)

// The sinks misbehave: a gateway that refuses, is slow, never answers,
// answers 5xx, 429, 400 or garbage, redirects to another host, or shows a
// certificate for another name or an expired one; a StatsD host that does
// not resolve; a textfile where no file can be written, or that is a link or
// a directory; a hundred runs on one textfile; a corrupt or full spool.

// TestFaultsGateway: one faulty gateway next to a healthy textfile and
// StatsD. What provably did not arrive is spooled, what may have arrived is
// not resent, each with a warning; the wrapper is done within the timeout.
func TestFaultsGateway(t *testing.T) {
	t.Parallel()
	for _, sc := range []struct {
		name  string
		fault gatewaytest.Fault
		// setup replaces the gateway (nil: the world's, with fault).
		setup func(t *testing.T, w *world)
	}{
		{name: "refused", setup: func(t *testing.T, w *world) {
			addr, err := gatewaytest.RefusedAddr()
			must(t, err)
			w.setGateway("http://"+addr, nil)
		}},
		{name: "slow within the timeout", fault: gatewaytest.Fault{Kind: gatewaytest.Slow, Delay: 300 * time.Millisecond}},
		{name: "slow beyond the timeout", fault: gatewaytest.Fault{Kind: gatewaytest.Slow, Delay: 3 * time.Second}},
		{name: "never answers", fault: gatewaytest.Fault{Kind: gatewaytest.Hang}},
		{name: "accepts and never reads", setup: func(t *testing.T, w *world) {
			bh, err := gatewaytest.NewBlackhole()
			must(t, err)
			t.Cleanup(bh.Close)
			w.setGateway(bh.URL, nil)
		}},
		{name: "500", fault: gatewaytest.Fault{Kind: gatewaytest.Status, Status: 500, Body: "internal error"}},
		{name: "502", fault: gatewaytest.Fault{Kind: gatewaytest.Status, Status: 502, Body: "bad gateway"}},
		{name: "503", fault: gatewaytest.Fault{Kind: gatewaytest.Status, Status: 503, Body: "unavailable"}},
		{name: "504", fault: gatewaytest.Fault{Kind: gatewaytest.Status, Status: 504, Body: "timeout"}},
		{name: "429", fault: gatewaytest.Fault{Kind: gatewaytest.Status, Status: 429, Body: "slow down"}},
		{name: "400", fault: gatewaytest.Fault{Kind: gatewaytest.Status, Status: 400, Body: "text format parsing error in line 1"}},
		{name: "closes mid-request", fault: gatewaytest.Fault{Kind: gatewaytest.CloseMidRequest}},
		{name: "closes after processing", fault: gatewaytest.Fault{Kind: gatewaytest.CloseAfterProcessing}},
		{name: "garbage", setup: func(t *testing.T, w *world) {
			g := newRawServer(t, []byte("\x16\x03\x01 garbage, not HTTP \xff\xfe\r\n\r\n"))
			w.setGateway("http://"+g.addr, nil, g.invocations)
		}},
		{name: "garbage with a 200 status line", setup: func(t *testing.T, w *world) {
			g := newRawServer(t, []byte("HTTP/1.1 200 OK\r\nContent-Length: 99999\r\n\r\n\x00\xff garbage"))
			w.setGateway("http://"+g.addr, nil, g.invocations)
		}},
		{name: "redirect to another host", setup: func(t *testing.T, w *world) {
			other := gatewaytest.NewServer(gatewaytest.Options{})
			t.Cleanup(other.Close)
			w.gw.SetFault(gatewaytest.Fault{Kind: gatewaytest.Redirect, Location: other.URL + "/metrics/job/install-metrics"})
			w.others = append(w.others, other)
		}},
		{name: "TLS wrong name", setup: func(t *testing.T, w *world) {
			w.tlsGateway(t, gatewaytest.TLSOptions{Hosts: []string{"gateway.example.invalid"}}, true)
		}},
		{name: "TLS expired", setup: func(t *testing.T, w *world) {
			w.tlsGateway(t, gatewaytest.TLSOptions{Expired: true}, true)
		}},
		{name: "TLS unknown authority", setup: func(t *testing.T, w *world) {
			w.tlsGateway(t, gatewaytest.TLSOptions{}, false)
		}},
		{name: "TLS healthy", setup: func(t *testing.T, w *world) {
			w.tlsGateway(t, gatewaytest.TLSOptions{}, true)
		}},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, worldOpts{})
			if sc.setup != nil {
				sc.setup(t, w)
			}
			if sc.fault.Kind != gatewaytest.NoFault {
				w.gw.SetFault(sc.fault)
			}
			o := w.run(runSpec{plan: []step{header("4.16.3"), logLine("fatal", "failed to create cluster: quota"), exitCode(4)}})
			checkPromises(w, expect{labels: map[string]string{"return": "4"}}, o)
		})
	}
}

// TestFaultsGatewayEchoesCredentials: a hostile gateway answers with the
// credentials it was sent, in every form (each auth mode, several status
// codes): they never reach the output.
func TestFaultsGatewayEchoesCredentials(t *testing.T) {
	t.Parallel()
	for _, auth := range []string{"token-file", "basic-file", "pull-secret"} {
		for _, status := range []int{400, 401, 429, 500} {
			t.Run(fmt.Sprintf("%s/%d", auth, status), func(t *testing.T) {
				t.Parallel()
				w := newWorld(t, worldOpts{auth: auth})
				w.gw.SetFault(gatewaytest.Fault{Kind: gatewaytest.Status, Status: status,
					Body: "bad request from " + strings.Join(w.sentCredentials(), " and ")})
				o := w.run(runSpec{plan: successPlan()})
				checkPromises(w, expect{}, o)
			})
		}
	}
}

// tlsGateway replaces the gateway by an HTTPS one; withCA passes its CA
// with --metrics-ca-file.
func (w *world) tlsGateway(t *testing.T, o gatewaytest.TLSOptions, withCA bool) {
	t.Helper()
	gw, err := gatewaytest.NewTLSServer(w.gatewayOptions(), o)
	must(t, err)
	t.Cleanup(gw.Close)
	if withCA {
		w.caFile, err = gw.WriteCAFile(w.secrets)
		must(t, err)
	}
	w.setGateway(gw.URL, gw)
}

// TestFaultsStatsDDoesNotResolve: a StatsD host under .invalid (RFC 2606:
// never resolves). The DNS lookup fails, nothing is sent, the push waits in
// the spool.
func TestFaultsStatsDDoesNotResolve(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{})
	w.setStatsd("statsd://metrics.invalid:9125")
	o := w.run(runSpec{plan: successPlan()})
	checkPromises(w, expect{}, o)
}

// TestFaultsTextfile: a textfile that cannot be written, is a link or a
// directory: the local record goes to the spool, with a warning.
func TestFaultsTextfile(t *testing.T) {
	t.Parallel()
	for _, sc := range []struct {
		name   string
		nobody bool
		setup  func(t *testing.T, w *world) string // returns the textfile path
	}{
		{name: "parent is a file", setup: func(t *testing.T, w *world) string {
			writeFile(t, filepath.Join(w.extra, "a-file"), "not a directory\n")
			return filepath.Join(w.extra, "a-file", "metrics.prom")
		}},
		{name: "symbolic link", setup: func(t *testing.T, w *world) string {
			writeFile(t, filepath.Join(w.extra, "real.prom"), "")
			p := filepath.Join(w.extra, "link.prom")
			must(t, os.Symlink(filepath.Join(w.extra, "real.prom"), p))
			return p
		}},
		{name: "directory", setup: func(t *testing.T, w *world) string {
			p := filepath.Join(w.extra, "dir.prom")
			mkdir(t, p)
			return p
		}},
		{name: "lock file is a directory", setup: func(t *testing.T, w *world) string {
			p := filepath.Join(w.extra, "m.prom")
			mkdir(t, p+".lock")
			return p
		}},
		{name: "corrupt", setup: func(t *testing.T, w *world) string {
			p := filepath.Join(w.extra, "corrupt.prom")
			writeFile(t, p, "cluster_installation_invocation{result=\"Success\" 1\n\x00\xff garbage\n")
			return p
		}},
		{name: "read-only directory", nobody: true, setup: func(t *testing.T, w *world) string {
			d := filepath.Join(w.extra, "ro")
			mkdir(t, d)
			w.giveTo(nobody)
			must(t, os.Chmod(d, 0o555))
			return filepath.Join(d, "metrics.prom")
		}},
		{name: "full disk", setup: func(t *testing.T, w *world) string {
			return filepath.Join(fullTmpfs(t, w), "metrics.prom")
		}},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, worldOpts{nobody: sc.nobody})
			w.setTextfile(sc.setup(t, w))
			o := w.run(runSpec{plan: successPlan()})
			checkPromises(w, expect{labels: map[string]string{"result": "Success"}}, o)
		})
	}
}

// fullTmpfs mounts a 64 KiB tmpfs (as root), fills it, and returns its
// path. Without the right to mount, the test is skipped with the reason
// (docs/reliability.md says where a full disk is covered then).
func fullTmpfs(t *testing.T, w *world) string {
	t.Helper()
	dir := filepath.Join(w.root, "tiny")
	mkdir(t, dir)
	testenv.FullTmpfs(t, dir, "0777", "the full-disk case is covered by pkg/push's tests with a failing writer", nil)
	return dir
}

// TestFaultsStateDirFull: the textfile and the spool are both on a full
// disk. The local record is lost, and the warning says so.
func TestFaultsStateDirFull(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{noGateway: true})
	w.state = fullTmpfs(t, w)
	w.setTextfile(filepath.Join(w.state, "install-metrics", "metrics.prom"))
	o := w.run(runSpec{plan: successPlan()})
	checkPromises(w, expect{localLost: true}, o)
	if !strings.Contains(string(o.stderr), "lost") {
		t.Errorf("no warning says the record is lost:\n%s", o.stderr)
	}
}

// TestFaultsConcurrentRuns: a hundred runs end at once on one textfile (and
// one gateway and one StatsD listener): every one counted, once.
func TestFaultsConcurrentRuns(t *testing.T) {
	const n = 100
	w := newWorld(t, worldOpts{})
	outs := make([]outcome, n)
	runs := make([]*prepared, n)
	for i := range runs {
		runs[i] = w.prepare(runSpec{plan: []step{header("4.16.3"), sleepMS(200), exitCode(i % 7)}, plain: true, timeout: "-"})
	}
	var wg sync.WaitGroup
	for i, p := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i] = w.execute(p)
		}()
	}
	wg.Wait()
	checkPromises(w, expect{}, outs...)
	if got := textfileCount(t, w.textfile); got != n {
		t.Errorf("textfile counts %d invocations, want %d", got, n)
	}
	t.Logf("figures: %d concurrent runs, %d counted in the textfile", n, textfileCount(t, w.textfile))
}

// TestFaultsSpool: a corrupt spool, a full one, and pushes that wait for a
// gateway that comes back: delivered once, never twice.
func TestFaultsSpool(t *testing.T) {
	t.Parallel()
	t.Run("corrupt", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, worldOpts{})
		dir := w.spoolDir()
		mkdir(t, dir)
		h := spoolHash(w.gw.URL)
		for i, body := range []string{
			"not JSON \x00\xff",
			`{"version":1,"sink":"` + w.gw.URL + `","samples":[{"name":"cluster_installation_invocation","labels":[{"name":"command","value":"free text"}],"value":1}]}`,
			`{"version":99,"sink":"` + w.gw.URL + `","samples":[]}`,
			`{"version":1,"sink":"http://evil.example.com","samples":[]}`,
			strings.Repeat("x", 2<<20),
		} {
			writeFile(t, filepath.Join(dir, fmt.Sprintf("%020d-%s-%08x.json", time.Now().Add(-time.Hour).UnixNano()+int64(i), h, i)), body)
		}
		must(t, os.Symlink("/dev/zero", filepath.Join(dir, fmt.Sprintf("%020d-%s-ffffffff.json", time.Now().UnixNano(), h))))
		o := w.run(runSpec{plan: successPlan()})
		checkPromises(w, expect{}, o)
		if got := w.gw.Pushes(); got != 1 {
			t.Errorf("the gateway took %d pushes, want 1 (corrupt spool entries must never be sent)", got)
		}
	})
	t.Run("full", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, worldOpts{})
		addr, err := gatewaytest.RefusedAddr()
		must(t, err)
		w.setGateway("http://"+addr, nil)
		// 1000 pushes already wait for a sink that is not configured now.
		dir := w.spoolDir()
		mkdir(t, dir)
		old := "http://127.0.0.1:1"
		entry := `{"version":1,"sink":"` + old + `","created":"2026-01-01T00:00:00Z","samples":[{"name":"cluster_installation_invocation","labels":[{"name":"command","value":"create"},{"name":"target","value":"cluster"},{"name":"os","value":"linux"},{"name":"platform","value":"aws"},{"name":"result","value":"Success"},{"name":"return","value":"0"},{"name":"version","value":"4.16"},{"name":"duration","value":"2.5"},{"name":"ci","value":"false"}],"value":1}]}`
		base := time.Now().Add(-time.Hour).UnixNano()
		for i := range 1000 {
			writeFile(t, filepath.Join(dir, fmt.Sprintf("%020d-%s-%08x.json", base+int64(i), spoolHash(old), i)), entry)
		}
		o := w.run(runSpec{plan: successPlan()})
		checkPromises(w, expect{want: map[string]int{old: 999}}, o)
		if !strings.Contains(string(o.stderr), "spool full") {
			t.Errorf("no warning says the spool dropped a push:\n%s", o.stderr)
		}
	})
	t.Run("many corrupt entries", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, worldOpts{})
		h := spoolHash(w.gw.URL)
		base := time.Now().Add(-time.Hour).UnixNano()
		for i := range 300 {
			writeFile(t, filepath.Join(w.spoolDir(), fmt.Sprintf("%020d-%s-%08x.json", base+int64(i), h, i)), "garbage")
		}
		o := w.run(runSpec{plan: successPlan(), env: []string{"INSTALL_METRICS_DEBUG=0"}})
		checkPromises(w, expect{}, o)
		if n := strings.Count(string(o.stderr), "install-metrics: warning:"); n > 1 {
			t.Errorf("%d warning lines for one corrupt spool, want one:\n%s", n, clip(o.stderr, 2000))
		}
	})
	t.Run("spool is a file", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, worldOpts{})
		addr, err := gatewaytest.RefusedAddr()
		must(t, err)
		w.setGateway("http://"+addr, nil)
		writeFile(t, w.spoolDir(), "not a directory\n")
		o := w.run(runSpec{plan: successPlan()})
		checkPromises(w, expect{}, o)
		if !warned(string(o.stderr), "lost") {
			t.Errorf("no warning says the push is lost:\n%s", o.stderr)
		}
	})
	t.Run("gateway comes back", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, worldOpts{})
		addr, err := gatewaytest.RefusedAddr()
		must(t, err)
		url := "http://" + addr
		w.setGateway(url, nil)
		first := w.run(runSpec{plan: successPlan()})
		gw, err := gatewaytest.Listen(gatewaytest.Options{Addr: addr, BearerToken: w.gatewayOptions().BearerToken, AuthUsers: w.gatewayOptions().AuthUsers})
		if err != nil {
			t.Skipf("the refused port was taken meanwhile: %v", err)
		}
		t.Cleanup(gw.Close)
		w.setGateway(url, gw)
		flush := func() outcome {
			return w.run(runSpec{args: []string{"metrics", "flush"}, timeout: "5s"})
		}
		outs := []outcome{first, flush(), flush()}
		// The flushes start no installer: check them as runs of their own.
		checkPromises(w, expect{runs: 1}, first)
		for _, o := range outs[1:] {
			if o.code != 0 {
				t.Errorf("metrics flush: exit %d\n%s", o.code, o.stderr)
			}
		}
		if got := gw.Pushes(); got != 1 {
			t.Errorf("the gateway took %d pushes after coming back, want exactly 1", got)
		}
		if n, _ := readSpool(t, w.spoolDir()); n[url] != 0 {
			t.Errorf("%d pushes still spooled for %s after the flush", n[url], url)
		}
	})
}

// spoolHash is the sink part of a spool entry's name (pkg/push: the first 4
// bytes of the sink URL's SHA-256, in hex).
func spoolHash(sink string) string {
	return sha256Hex(sink)[:8]
}
