//go:build linux

package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/install-metrics/install-metrics/pkg/sink/gateway/gatewaytest"
)

// The secrets every fault scenario runs with: a pull secret in
// install-config.yaml, a token file and a basic-auth file. None of them may
// show up in anything install-metrics prints, writes or sends (apart from the
// Authorization header to the gateway the user named).
const (
	pullSecretUser = "ps-canary-user"
	pullSecretPass = "ps-canary-s3cr3t"
	tokenSecret    = "tok-canary-8e2f1c0d"
	basicUser      = "admin"
	basicPassword  = "pw-canary-91ab7"
	// symlinkSecret is in a file outside the asset directory that symbolic
	// links in manifests/ point to: it must never be read.
	symlinkSecret = "symlink-secret-canary-4242"
	// otlpHeaderSecret is the value of OTEL_EXPORTER_OTLP_HEADERS in the
	// OTLP scenarios (sent only as that header to the collector named).
	otlpHeaderSecret = "otlp-hdr-canary-5d7e"
)

var (
	pullSecretAuth = base64.StdEncoding.EncodeToString([]byte(pullSecretUser + ":" + pullSecretPass))
	basicEncoded   = base64.StdEncoding.EncodeToString([]byte(basicUser + ":" + basicPassword))
	// allSecrets are searched for after every scenario.
	allSecrets = []string{pullSecretAuth, pullSecretPass, tokenSecret, basicPassword, basicEncoded, symlinkSecret, otlpHeaderSecret}
)

// nobody is the unprivileged user the scenarios about file modes run as:
// root reads a file whatever its mode says.
const nobody = 65534

// runLimit bounds every wrapper run: a hang is a failure, never a stuck suite.
const runLimit = 90 * time.Second

// step is one step of the fake installer's plan (e2e/testdata/fakeinstaller).
type step map[string]any

func header(version string) step          { return step{"op": "header", "version": version} }
func logLine(level, msg string) step      { return step{"op": "line", "level": level, "msg": msg} }
func raw(b []byte) step                   { return step{"op": "raw", "b64": base64.StdEncoding.EncodeToString(b)} }
func sleepMS(ms int) step                 { return step{"op": "sleep", "ms": ms} }
func exitCode(code int) step              { return step{"op": "exit", "code": code} }
func op(name string) step                 { return step{"op": name} }
func sized(name string, bytes int64) step { return step{"op": name, "bytes": bytes} }

// successPlan is a short `create cluster` that succeeds.
func successPlan() []step {
	return []step{
		header("4.16.3"),
		logLine("info", "Consuming Install Config from target directory"),
		logLine("info", "Creating infrastructure resources..."),
		logLine("info", "Waiting up to 20m0s (until 10:00AM UTC) for the Kubernetes API at https://api.c1.example.com:6443..."),
		logLine("info", "API v1.29.5+87992f4 up"),
		logLine("info", "Waiting up to 30m0s (until 10:30AM UTC) for bootstrapping to complete..."),
		logLine("info", "It is now safe to remove the bootstrap resources"),
		logLine("info", "Waiting up to 40m0s (until 11:10AM UTC) for the cluster at https://api.c1.example.com:6443 to initialize..."),
		logLine("info", "Install complete!"),
		exitCode(0),
	}
}

// sinkRef is one sink of a scenario and how to count what reached it.
type sinkRef struct {
	url  string // canonical, as install-metrics prints and spools it
	kind string // textfile, gateway, statsd or otlp
	// delivered counts the cluster_installation_invocation samples that
	// arrived.
	delivered func() int
}

// world is the machine one scenario runs on: a HOME, an XDG_STATE_HOME, an
// asset directory with install-config.yaml, the secret files, and sinks
// that record everything they get.
type world struct {
	t    *testing.T
	bins binaries
	// root holds everything (mode 0755); home, state (XDG_STATE_HOME),
	// extra (other places install-metrics may write to) are searched for
	// secrets; dir is --dir; secrets holds the credential files; stamp is
	// where the fake installer notes its life; outside holds a secret
	// that symbolic links in the asset directory point to.
	root, home, state, extra, dir, secrets, stamp, outside string
	asNobody                                               bool
	auth                                                   string // the --metrics-auth value
	caFile                                                 string
	textfile                                               string
	sinks                                                  []*sinkRef
	gw                                                     *gatewaytest.Server // the gateway named in the sinks, if any
	others                                                 []*gatewaytest.Server
	collectors                                             []*otlpCollector // OTLP sinks, searched for secrets
	udp                                                    *udpCapture
	runs                                                   int
}

type worldOpts struct {
	// auth is token-file, basic-file, pull-secret or none; "" picks one
	// from the test name, so the scenarios cover all three.
	auth string
	// nobody runs install-metrics and the installer as an unprivileged
	// user, so that file modes are obeyed.
	nobody bool
	// noGateway, noStatsd leave those sinks out.
	noGateway, noStatsd bool
}

// newWorld builds a world with healthy sinks: the textfile, the test gateway
// (requiring the credentials of the auth mode) and a StatsD listener.
func newWorld(t *testing.T, o worldOpts) *world {
	t.Helper()
	bins := faultBinaries(t)
	root, err := os.MkdirTemp("", "imfault-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Give back what a scenario took away before removing.
		_ = filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.IsDir() {
				_ = os.Chmod(p, 0o755)
			}
			return nil
		})
		if err := os.RemoveAll(root); err != nil {
			t.Errorf("removing %s: %v", root, err)
		}
	})
	w := &world{t: t, bins: bins, root: root, asNobody: o.nobody && os.Geteuid() == 0}
	for _, d := range []struct {
		p    *string
		name string
	}{{&w.home, "home"}, {&w.state, "state"}, {&w.extra, "extra"}, {&w.dir, "c1"}, {&w.secrets, "secrets"}, {&w.stamp, "stamp"}} {
		*d.p = filepath.Join(root, d.name)
		mkdir(t, *d.p)
	}
	must(t, os.Chmod(root, 0o755))
	must(t, os.Chmod(w.stamp, 0o777))
	writeFile(t, filepath.Join(w.secrets, "token"), tokenSecret+"\n")
	writeFile(t, filepath.Join(w.secrets, "basic"), basicUser+":"+basicPassword+"\n")
	w.outside = filepath.Join(root, "outside")
	writeFile(t, filepath.Join(w.outside, "outside.yaml"), "apiVersion: v1\nkind: Secret\ndata:\n  key: "+symlinkSecret+"\n")
	writeFile(t, filepath.Join(w.dir, "install-config.yaml"), installConfigYAML("aws", pullSecretJSON()))

	w.auth = o.auth
	if w.auth == "" {
		h := fnv.New32a()
		_, _ = h.Write([]byte(t.Name()))
		w.auth = []string{"token-file", "basic-file", "pull-secret"}[h.Sum32()%3]
	}

	w.textfile = filepath.Join(w.state, "install-metrics", "metrics.prom")
	w.setTextfile(w.textfile)
	if !o.noGateway {
		gw := gatewaytest.NewServer(w.gatewayOptions())
		t.Cleanup(gw.Close)
		w.gw = gw
		w.sinks = append(w.sinks, &sinkRef{url: gw.URL, kind: "gateway", delivered: gatewayCount(gw)})
	}
	if !o.noStatsd {
		w.udp = newUDPCapture(t)
		w.sinks = append(w.sinks, &sinkRef{url: "statsd://" + w.udp.addr, kind: "statsd", delivered: w.udp.invocations})
	}
	return w
}

// gatewayOptions are the test gateway options that accept this world's
// credentials.
func (w *world) gatewayOptions() gatewaytest.Options {
	switch w.auth {
	case "token-file":
		return gatewaytest.Options{BearerToken: tokenSecret}
	case "basic-file":
		return gatewaytest.Options{AuthUsers: map[string]string{basicUser: basicPassword}}
	case "pull-secret":
		return gatewaytest.Options{BearerToken: pullSecretAuth}
	}
	return gatewaytest.Options{}
}

func gatewayCount(gw *gatewaytest.Server) func() int {
	return func() int { return int(gw.Value("cluster_installation_invocation", nil)) }
}

// sentCredentials are what the gateway learns from the Authorization
// header, in every form it could echo back.
func (w *world) sentCredentials() []string {
	switch w.auth {
	case "token-file":
		return []string{tokenSecret}
	case "basic-file":
		return []string{basicEncoded, basicUser + ":" + basicPassword, basicPassword}
	case "pull-secret":
		return []string{pullSecretAuth}
	}
	return nil
}

// authFlag is the --metrics-auth value of the world.
func (w *world) authFlag() string {
	switch w.auth {
	case "token-file":
		return "token-file:" + filepath.Join(w.secrets, "token")
	case "basic-file":
		return "basic-file:" + filepath.Join(w.secrets, "basic")
	}
	return w.auth
}

// setTextfile makes path the textfile sink (replacing the current one).
func (w *world) setTextfile(path string) {
	w.textfile = path
	ref := &sinkRef{url: "file://" + path, kind: "textfile", delivered: func() int { return textfileCount(w.t, path) }}
	for i, s := range w.sinks {
		if s.kind == "textfile" {
			w.sinks[i] = ref
			return
		}
	}
	w.sinks = append([]*sinkRef{ref}, w.sinks...)
}

// setGateway replaces the gateway sink by url; gw counts what arrived there
// (nil: nothing can arrive, unless delivered is given).
func (w *world) setGateway(url string, gw *gatewaytest.Server, delivered ...func() int) {
	ref := &sinkRef{url: url, kind: "gateway", delivered: func() int { return 0 }}
	switch {
	case gw != nil:
		ref.delivered = gatewayCount(gw)
	case len(delivered) > 0:
		ref.delivered = delivered[0]
	}
	if w.gw != nil && w.gw != gw {
		w.others = append(w.others, w.gw) // it must see nothing now
	}
	w.gw = gw
	for i, s := range w.sinks {
		if s.kind == "gateway" {
			w.sinks[i] = ref
			return
		}
	}
	w.sinks = append(w.sinks, ref)
}

// setStatsd replaces the StatsD sink by url, where nothing can arrive.
func (w *world) setStatsd(url string) {
	for i, s := range w.sinks {
		if s.kind == "statsd" {
			w.sinks[i] = &sinkRef{url: url, kind: "statsd", delivered: func() int { return 0 }}
		}
	}
}

func (w *world) sinkURLs() string {
	var urls []string
	for _, s := range w.sinks {
		urls = append(urls, s.url)
	}
	return strings.Join(urls, ",")
}

// spoolDir is where install-metrics keeps pushes for later.
func (w *world) spoolDir() string { return filepath.Join(w.state, "install-metrics", "spool") }

func installConfigYAML(platform, pullSecret string) string {
	return fmt.Sprintf(`apiVersion: v1
baseDomain: example.com
metadata:
  name: c1
platform:
  %s:
    region: us-east-1
pullSecret: '%s'
`, platform, pullSecret)
}

func pullSecretJSON() string {
	return `{"auths":{"cloud.openshift.com":{"auth":"` + pullSecretAuth + `","email":"canary@example.com"},"quay.io":{"auth":"` + pullSecretAuth + `"}}}`
}

// runSpec is one wrapper invocation.
type runSpec struct {
	// args are the installer's arguments (default: create cluster --dir
	// <dir>); flags are metrics flags put before them.
	args, flags []string
	plan        []step
	// env is more environment; "{stamp}" in it becomes the run's stamp
	// directory (where the fake installer's files go).
	env []string
	// timeout is --metrics-timeout (default 1s); "-" leaves it unset.
	timeout string
	// plain runs install-metrics built without the race detector.
	plain bool
	// brokenOutput gives install-metrics (and the installer) a standard
	// output and error whose reader has gone away.
	brokenOutput bool
	// during runs while install-metrics runs.
	during func(r *running)
}

// outcome is how one run went, seen from outside.
type outcome struct {
	name           string
	code           int
	stdout, stderr []byte
	started        bool // the installer started
	installerCode  int  // from its exit stamp; -1 when it left none
	installerExit  time.Time
	exited         time.Time
	added          time.Duration // exited - installerExit
	timeout        time.Duration // --metrics-timeout in effect
	rssKiB         int64         // peak RSS of install-metrics (VmHWM, sampled every 10ms)
	signals        []string      // the signals the fake installer caught
	sigToExit      time.Duration // from running.mark to the wrapper's end
	startDelay     time.Duration // from launching install-metrics to the installer's start
}

// running is a wrapper process a scenario acts on.
type running struct {
	t      *testing.T
	w      *world
	cmd    *exec.Cmd
	stamp  string
	marked time.Time
	done   chan struct{}
}

// waitFor waits until the fake installer wrote the named stamp (started,
// exit), or fails.
func (r *running) waitFor(name string) {
	r.t.Helper()
	deadline := time.Now().Add(runLimit / 2)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(filepath.Join(r.stamp, name)); err == nil {
			return
		}
		select {
		case <-r.done:
			if _, err := os.Stat(filepath.Join(r.stamp, name)); err == nil {
				return
			}
			r.t.Errorf("install-metrics ended before the installer wrote %q", name)
			return
		case <-time.After(5 * time.Millisecond):
		}
	}
	r.t.Errorf("the installer did not write %q in time", name)
}

// waitUntil polls cond (bounded).
func (r *running) waitUntil(what string, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(runLimit / 2)
	for !cond() {
		if time.Now().After(deadline) {
			r.t.Errorf("timed out waiting for %s", what)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// signal sends sig to install-metrics, as kill(1) does.
func (r *running) signal(sig syscall.Signal) {
	r.t.Helper()
	if err := r.cmd.Process.Signal(sig); err != nil {
		r.t.Errorf("signalling install-metrics: %v", err)
	}
}

// signalGroup sends sig to install-metrics' process group, as a CI system
// killing the job does.
func (r *running) signalGroup(sig syscall.Signal) {
	r.t.Helper()
	if err := syscall.Kill(-r.cmd.Process.Pid, sig); err != nil {
		r.t.Errorf("signalling the process group: %v", err)
	}
}

// mark notes the moment sigToExit is measured from.
func (r *running) mark() { r.marked = time.Now() }

// run runs install-metrics once in the world and returns what happened.
func (w *world) run(spec runSpec) outcome {
	w.t.Helper()
	return w.execute(w.prepare(spec))
}

// prepared is a run ready to start.
type prepared struct {
	spec           runSpec
	cmd            *exec.Cmd
	stamp          string
	stdout, stderr *os.File
	timeout        time.Duration
}

// prepare builds the command of a run; it is not safe for concurrent use
// (execute is).
func (w *world) prepare(spec runSpec) *prepared {
	t := w.t
	t.Helper()
	w.runs++
	stamp := filepath.Join(w.stamp, strconv.Itoa(w.runs))
	mkdir(t, stamp)
	must(t, os.Chmod(stamp, 0o777))
	args := spec.args
	if args == nil {
		args = []string{"create", "cluster", "--dir", w.dir}
	}
	timeout := spec.timeout
	if timeout == "" {
		timeout = "1s"
	}
	flags := spec.flags
	if timeout != "-" {
		flags = append([]string{"--metrics-timeout", timeout}, flags...)
	} else {
		timeout = "5s"
	}
	tdur, err := time.ParseDuration(timeout)
	if err != nil {
		tdur = 5 * time.Second
	}
	plan, err := json.Marshal(spec.plan)
	must(t, err)
	bin := w.bins.im
	if spec.plain {
		bin = w.bins.imPlain
	}
	cmd := exec.Command(bin, append(flags, args...)...)
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + w.home,
		"XDG_STATE_HOME=" + w.state,
		"LANG=C.UTF-8",
		"INSTALL_METRICS_INSTALLER=" + w.bins.fake,
		"INSTALL_METRICS_SINKS=" + w.sinkURLs(),
		"INSTALL_METRICS_AUTH=" + w.authFlag(),
		"INSTALL_METRICS_DEBUG=1",
		"IMFAULT_STAMP=" + stamp,
		"IMFAULT_PLAN=" + string(plan),
		"GORACE=halt_on_error=0 exitcode=66 atexit_sleep_ms=0",
	}, expandStamp(spec.env, stamp)...)
	if w.caFile != "" {
		cmd.Env = append(cmd.Env, "INSTALL_METRICS_CA_FILE="+w.caFile)
	}
	outDir := filepath.Join(w.root, "out", strconv.Itoa(w.runs))
	mkdir(t, outDir)
	stdout, err := os.Create(filepath.Join(outDir, "stdout"))
	must(t, err)
	stderr, err := os.Create(filepath.Join(outDir, "stderr"))
	must(t, err)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if spec.brokenOutput {
		// A pipe whose reader is gone: `install-metrics ... 2>&1 | head -1`.
		pr, pw, err := os.Pipe()
		must(t, err)
		must(t, pr.Close())
		t.Cleanup(func() { pw.Close() })
		cmd.Stdout, cmd.Stderr = pw, pw
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if w.asNobody {
		w.giveTo(nobody)
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: nobody, Gid: nobody}
	}
	return &prepared{spec: spec, cmd: cmd, stamp: stamp, stdout: stdout, stderr: stderr, timeout: tdur}
}

// execute runs a prepared run to its end.
func (w *world) execute(p *prepared) outcome {
	t := w.t
	t.Helper()
	spec, cmd, stamp, stdout, stderr := p.spec, p.cmd, p.stamp, p.stdout, p.stderr
	defer stdout.Close()
	defer stderr.Close()
	launched := time.Now()
	if err := cmd.Start(); err != nil {
		t.Errorf("starting install-metrics: %v", err)
		return outcome{name: t.Name(), installerCode: -1}
	}
	r := &running{t: t, w: w, cmd: cmd, stamp: stamp, done: make(chan struct{})}
	waited := make(chan error, 1)
	var exited time.Time
	go func() {
		err := cmd.Wait()
		exited = time.Now()
		close(r.done)
		waited <- err
	}()
	hwm := make(chan int64, 1)
	go func() { hwm <- peakRSS(cmd.Process.Pid, r.done) }()
	if spec.during != nil {
		spec.during(r)
	}
	var waitErr error
	select {
	case waitErr = <-waited:
	case <-time.After(runLimit):
		t.Errorf("install-metrics still runs after %v: killing it", runLimit)
		w.killAll(r)
		waitErr = <-waited
	}
	var ee *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &ee) {
		t.Errorf("waiting for install-metrics: %v", waitErr)
	}
	w.killAll(r) // the installer, should the wrapper have left it behind
	o := outcome{name: t.Name(), code: cmd.ProcessState.ExitCode(), exited: exited, timeout: p.timeout, installerCode: -1}
	o.rssKiB = <-hwm
	o.stdout = readAll(t, stdout.Name())
	o.stderr = readAll(t, stderr.Name())
	if fi, err := os.Stat(filepath.Join(stamp, "started")); err == nil {
		o.started, o.startDelay = true, fi.ModTime().Sub(launched)
	}
	if b, err := os.ReadFile(filepath.Join(stamp, "exit")); err == nil {
		var code int
		var ns int64
		if _, err := fmt.Sscanf(string(b), "%d %d", &code, &ns); err == nil {
			o.installerCode, o.installerExit = code, time.Unix(0, ns)
			o.added = exited.Sub(o.installerExit)
		}
	}
	if b, err := os.ReadFile(filepath.Join(stamp, "signals")); err == nil {
		o.signals = strings.Fields(string(b))
	}
	if !r.marked.IsZero() {
		o.sigToExit = exited.Sub(r.marked)
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("install-metrics %s: exit %d, installer %d, added %v, rss %d KiB\nstderr:\n%s",
			strings.Join(cmd.Args[1:], " "), o.code, o.installerCode, o.added.Round(time.Millisecond), o.rssKiB, clip(o.stderr, 4000))
	}
	return o
}

// peakRSS samples the peak resident set size (VmHWM, KiB) of process pid
// every 10ms until done, and returns the last value read. (The rusage of
// wait4 is no help here: Go waits through a pidfd, and the maximum it
// reports grows across the test binary's children.)
func peakRSS(pid int, done <-chan struct{}) int64 {
	path := fmt.Sprintf("/proc/%d/status", pid)
	var peak int64
	for {
		if b, err := os.ReadFile(path); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
					if n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64); err == nil && n > peak {
						peak = n
					}
				}
			}
		}
		select {
		case <-done:
			return peak
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// killAll kills whatever of the run is still alive.
func (w *world) killAll(r *running) {
	_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
	if b, err := os.ReadFile(filepath.Join(r.stamp, "started")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}
	}
}

// giveTo makes everything a run may touch owned by uid.
func (w *world) giveTo(uid int) {
	for _, d := range []string{w.home, w.state, w.extra, w.dir, w.secrets, w.stamp} {
		_ = filepath.Walk(d, func(p string, _ os.FileInfo, err error) error {
			if err == nil {
				_ = os.Lchown(p, uid, uid)
			}
			return nil
		})
	}
}

// udpCapture is a StatsD server on 127.0.0.1 that keeps every datagram.
type udpCapture struct {
	addr string
	conn net.PacketConn
	mu   sync.Mutex
	data [][]byte
	last time.Time
	done chan struct{}
}

func newUDPCapture(t *testing.T) *udpCapture {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	must(t, err)
	u := &udpCapture{addr: conn.LocalAddr().String(), conn: conn, done: make(chan struct{})}
	go func() {
		defer close(u.done)
		buf := make([]byte, 65536)
		for {
			n, _, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			u.mu.Lock()
			u.data = append(u.data, append([]byte(nil), buf[:n]...))
			u.last = time.Now()
			u.mu.Unlock()
		}
	}()
	t.Cleanup(func() { _ = conn.Close(); <-u.done })
	return u
}

// lines returns every StatsD line received, after the socket has been
// quiet for a moment (datagrams already sent are in its queue).
func (u *udpCapture) lines() []string {
	for range 20 {
		u.mu.Lock()
		quiet := time.Since(u.last) > 50*time.Millisecond
		u.mu.Unlock()
		if quiet {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []string
	for _, d := range u.data {
		for _, l := range strings.Split(string(d), "\n") {
			if l != "" {
				out = append(out, l)
			}
		}
	}
	return out
}

func (u *udpCapture) datagrams() [][]byte {
	u.lines()
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([][]byte(nil), u.data...)
}

func (u *udpCapture) invocations() int {
	n := 0
	for _, l := range u.lines() {
		if strings.HasPrefix(l, "cluster_installation_invocation:") {
			v, _, _ := strings.Cut(strings.TrimPrefix(l, "cluster_installation_invocation:"), "|")
			f, _ := strconv.ParseFloat(v, 64)
			n += int(f)
		}
	}
	return n
}

// rawServer is a TCP server on 127.0.0.1 that reads a request and answers
// with the bytes given (garbage), then closes.
type rawServer struct {
	addr string
	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	got  []byte // every byte received
}

// invocations counts the invocation samples in what the server received.
func (s *rawServer) invocations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Count(string(s.got), "\ncluster_installation_invocation{")
}

func newRawServer(t *testing.T, answer []byte) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	s := &rawServer{addr: ln.Addr().String(), ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				// The whole request: read until the client waits for the answer.
				buf := make([]byte, 64<<10)
				for {
					_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
					n, err := c.Read(buf)
					s.mu.Lock()
					s.got = append(s.got, buf[:n]...)
					s.mu.Unlock()
					if err != nil {
						break
					}
				}
				_ = c.SetWriteDeadline(time.Now().Add(time.Second))
				_, _ = c.Write(answer)
			}()
		}
	}()
	t.Cleanup(func() { _ = ln.Close(); s.wg.Wait() })
	return s
}

func mkdir(t *testing.T, d string) {
	t.Helper()
	must(t, os.MkdirAll(d, 0o755))
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	mkdir(t, filepath.Dir(p))
	must(t, os.WriteFile(p, []byte(s), 0o644))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func readAll(t *testing.T, p string) []byte {
	t.Helper()
	f, err := os.Open(p)
	must(t, err)
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 64<<20))
	must(t, err)
	return b
}

func clip(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func expandStamp(env []string, stamp string) []string {
	out := make([]string, len(env))
	for i, e := range env {
		out[i] = strings.ReplaceAll(e, "{stamp}", stamp)
	}
	return out
}
