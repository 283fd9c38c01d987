//go:build linux

package e2e

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/install-metrics/install-metrics/internal/testenv"
	"github.com/install-metrics/install-metrics/pkg/sink/gateway/gatewaytest"
	"github.com/install-metrics/install-metrics/pkg/sink/textfile"
)

// The soak (issue 16): many wrapped runs, a few at a time, into the textfile,
// StatsD over TCP (the real statsd_exporter) and a gateway fake that
// misbehaves a different way on each run; then `metrics flush` until nothing
// provably undelivered is left, exact accounting at every sink, the real
// Prometheus agreeing, and the memory of the wrapper and of the gateway fake
// flat over the runs.
//
//	go test -race -run Soak ./e2e                                 # 100 runs, as make test
//	INSTALL_METRICS_SOAK_RUNS=1000 go test -race -timeout 30m -run Soak -v ./e2e
//	INSTALL_METRICS_SOAK_SEED=42 ...                              # the faults of an earlier run

const (
	// soakDefaultRuns is the count `make test` runs.
	soakDefaultRuns = 100
	// soakParallel wrappers run at a time.
	soakParallel = 4
	// soakTimeout is --metrics-timeout of every run: short, so that a
	// gateway that hangs or answers late costs little.
	soakTimeout = 300 * time.Millisecond
	// soakKeep is how many requests each gateway fake keeps for the secret
	// and label checks: its request log stays flat (the store is measured).
	soakKeep = 32
	// soakHeapBound is how much the test process's heap (the gateway
	// fakes, their stores and connections, the test's own records) may
	// grow from the end of the first tenth of the runs to the last one.
	soakHeapBound = 8 << 20
	// soakRSSGrowth bounds the median peak RSS of the last tenth of the
	// runs against the first tenth's.
	soakRSSGrowth = 1.5
	// soakFlushes bounds the `metrics flush` runs.
	soakFlushes = 5
)

// soakDeadline bounds the wrapped runs of a soak of n: a hang or a slowdown
// fails the test with the count done, never a stuck suite.
func soakDeadline(n int) time.Duration {
	return 2*time.Minute + time.Duration(n)*600*time.Millisecond
}

// soakMode is one behaviour of a gateway fake: each has its own server, so
// what reached it is known per behaviour.
type soakMode struct {
	name  string
	fault gatewaytest.Fault
	// refused: no server listens during the runs (one comes up for the
	// flush at the same address).
	refused bool
	// processes: the fake counts a push it gets (healthy, late answer,
	// closed after processing); otherwise nothing arrives during the runs.
	processes bool
	// arrives: every run's push must end up there exactly once, during
	// the runs or by the flush.
	arrives bool
	// may is what a run may say of its push (its warning line): sent,
	// spooled (provably not delivered) or unsent (may have arrived: never
	// resent). A late answer or a hang can also mean the request was not
	// written in time, which is spooled.
	may []soakClass
}

// soakClass is what a run's output says of its push to the gateway.
type soakClass int

const (
	sent    soakClass = iota // no warning names the gateway
	spooled                  // one warning: kept in the spool for a flush
	unsent                   // one warning: may have arrived, not resent
)

func (c soakClass) String() string { return [...]string{"sent", "spooled", "unsent"}[c] }

// soakClassify reads what the run's warning lines say of the sink.
func soakClassify(stderr, url string) (soakClass, int) {
	c, lines := sent, 0
	for _, l := range strings.Split(stderr, "\n") {
		if rest, ok := strings.CutPrefix(l, "install-metrics: warning: "+url+": "); ok {
			lines++
			c = unsent
			if strings.Contains(rest, "metrics flush") {
				c = spooled
			}
		}
	}
	return c, lines
}

var soakModes = []soakMode{
	// A healthy gateway on a stalled machine: the answer may come late.
	{name: "healthy", processes: true, arrives: true, may: []soakClass{sent, unsent}},
	{name: "500", fault: gatewaytest.Fault{Kind: gatewaytest.Status, Status: 500, Body: "internal error"}, may: []soakClass{unsent}},
	// 503 answers at once; only a stalled machine times out first.
	{name: "503", fault: gatewaytest.Fault{Kind: gatewaytest.Status, Status: 503, Body: "unavailable"}, may: []soakClass{spooled, unsent}},
	{name: "refused", refused: true, arrives: true, may: []soakClass{spooled}},
	{name: "hang", fault: gatewaytest.Fault{Kind: gatewaytest.Hang}, may: []soakClass{unsent, spooled}},
	{name: "answers after the timeout", fault: gatewaytest.Fault{Kind: gatewaytest.Slow, Delay: 3 * soakTimeout}, processes: true, arrives: true, may: []soakClass{unsent, spooled}},
	// The body may or may not have been written when the connection closed.
	{name: "closes mid-request", fault: gatewaytest.Fault{Kind: gatewaytest.CloseMidRequest}, may: []soakClass{unsent, spooled}},
	{name: "closes after processing", fault: gatewaytest.Fault{Kind: gatewaytest.CloseAfterProcessing}, processes: true, arrives: true, may: []soakClass{unsent}},
}

// soakPlans are the installs the fake installer plays, by exit code.
var soakPlans = map[int][]step{
	0: successPlan(),
	4: {header("4.16.3"), logLine("fatal", "failed to create cluster: quota"), exitCode(4)},
	1: {header("4.15.9"), logLine("info", "Creating infrastructure resources..."), logLine("error", "Bootstrap failed to complete"), exitCode(1)},
}

// soakGateway is the gateway fake of one mode.
type soakGateway struct {
	mode soakMode
	url  string
	srv  *gatewaytest.Server // nil for refused until the flush
	runs int
	// said counts the runs by what their output said of the push.
	said [3]int
	// before, spooled: what arrived and what the spool held for it when
	// the runs were over; final after the flush.
	before, spooled, final int
}

// soakRun is what the soak keeps of one run (its output stays on disk,
// under the world's out/).
type soakRun struct {
	mode, code int
	rssKiB     int64
	said       soakClass
}

func TestSoak(t *testing.T) {
	testenv.Tool(t, "prometheus")
	testenv.Tool(t, "statsd_exporter")
	n := soakEnvInt(t, "INSTALL_METRICS_SOAK_RUNS", soakDefaultRuns)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("INSTALL_METRICS_SOAK_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("INSTALL_METRICS_SOAK_SEED=%q is not a number: use a seed a soak logged", s)
		}
		seed = v
	}
	t.Logf("soak: %d runs, %d at a time, seed %d (INSTALL_METRICS_SOAK_SEED=%d repeats the faults)", n, soakParallel, seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	started := time.Now()

	w := newWorld(t, worldOpts{noGateway: true, noStatsd: true})
	_, statsdTCP, statsdMetrics := testenv.StartStatsdExporter(t)
	statsdURL := "statsd+tcp://" + statsdTCP
	tf := testenv.ServeTextfile(t, w.textfile)
	gws := make([]*soakGateway, len(soakModes))
	for i, m := range soakModes {
		g := &soakGateway{mode: m}
		if m.refused {
			addr, err := gatewaytest.RefusedAddr()
			must(t, err)
			g.url = "http://" + addr
		} else {
			g.srv = w.soakServer(t, "")
			g.srv.SetFault(m.fault)
			g.url = g.srv.URL
		}
		gws[i] = g
	}

	// Each run's mode and install, drawn up front: the same seed gives the
	// same runs whatever the scheduling.
	plans := slices.Sorted(maps.Keys(soakPlans))
	runs := make([]soakRun, n)
	for i := range runs {
		runs[i] = soakRun{mode: rng.IntN(len(soakModes)), code: plans[rng.IntN(len(plans))]}
		gws[runs[i].mode].runs++
	}

	deadline := started.Add(soakDeadline(n))
	tenth := max(n/10, 1)
	w.soakRuns(runs[:tenth], 0, gws, statsdURL, deadline)
	heapFirst, seriesFirst := soakHeap(), soakStoreSeries(t, w, gws)
	w.soakRuns(runs[tenth:], tenth, gws, statsdURL, deadline)
	heapLast, seriesLast := soakHeap(), soakStoreSeries(t, w, gws)
	ranFor := time.Since(started)
	if t.Failed() {
		t.FailNow()
	}

	// What arrived and what waits, before the flush.
	for _, r := range runs {
		gws[r.mode].said[r.said]++
	}
	spool, _ := readSpool(t, w.spoolDir())
	for _, g := range gws {
		if g.srv != nil {
			g.before = gatewayCount(g.srv)()
		}
		g.spooled = spool[g.url]
	}
	textBefore, statsdBefore := textfileCount(t, w.textfile), int(soakScrape(t, statsdMetrics, "cluster_installation_invocation"))

	// The gateways heal (the refused one comes up where it was refused),
	// then `metrics flush` until the spool holds nothing for them.
	for _, g := range gws {
		if g.srv != nil {
			g.srv.SetFault(gatewaytest.Fault{})
			continue
		}
		g.srv = w.soakServer(t, strings.TrimPrefix(g.url, "http://"))
	}
	sinks := []string{"file://" + w.textfile, statsdURL}
	for _, g := range gws {
		sinks = append(sinks, g.url)
	}
	flushes := 0
	for ; flushes < soakFlushes && soakPending(t, w, sinks) > 0; flushes++ {
		o := w.run(runSpec{args: []string{"metrics", "flush"}, timeout: "10s", env: []string{"INSTALL_METRICS_SINKS=" + strings.Join(sinks, ",")}})
		if o.code != 0 || !strings.Contains(string(o.stdout), "flushed ") {
			t.Errorf("metrics flush: exit %d\nstdout:\n%s\nstderr:\n%s", o.code, o.stdout, clip(o.stderr, 4000))
		}
	}
	if left := soakPending(t, w, sinks); left > 0 {
		t.Errorf("%d pushes still spooled after %d flushes", left, flushes)
	}

	// Exact accounting.
	wantByCode := map[string]int{}
	for _, r := range runs {
		wantByCode[strconv.Itoa(r.code)]++
	}
	if got := textfileCount(t, w.textfile); got != n {
		t.Errorf("textfile: %d invocations for %d runs (%d before the flush)", got, n, textBefore)
	}
	for code, want := range wantByCode {
		if got, series := soakTextfileReturn(t, w.textfile, code); got != want || series != 1 {
			t.Errorf("textfile: %d invocations with return=%q in %d series, want %d in one (each install plan gives one label set)", got, code, series, want)
		}
	}
	statsdFinal := int(soakScrape(t, statsdMetrics, "cluster_installation_invocation"))
	if statsdFinal != n {
		t.Errorf("statsd_exporter: %d invocations for %d runs (%d before the flush)", statsdFinal, n, statsdBefore)
	}
	for _, g := range gws {
		g.final = gatewayCount(g.srv)()
		checkSoakGateway(t, g)
	}

	// The secret and closed-set checks on what the runs left: their output
	// (w.root/out), the state, and the requests each gateway kept.
	w.extra = filepath.Join(w.root, "out")
	for _, g := range gws {
		w.gw = g.srv
		checkSecrets(w, nil)
		checkLabelSets(w)
	}

	// The real Prometheus scrapes the textfile, statsd_exporter and every
	// gateway fake, and sums the same figures.
	targets := []string{tf.URL + "/metrics", statsdMetrics}
	want := map[string]float64{
		soakInstance(tf.URL): float64(n),
		soakInstance(strings.TrimSuffix(statsdMetrics, "/metrics")): float64(n),
	}
	for _, g := range gws {
		targets = append(targets, g.srv.URL+"/metrics")
		if g.final > 0 {
			want[soakInstance(g.srv.URL)] = float64(g.final)
		}
	}
	api := testenv.StartPrometheus(t, targets...)
	testenv.WaitForQuery(t, api, `sum by (instance) (cluster_installation_invocation)`, want, waitQuery)

	// Memory.
	// The sampler (every 10 ms) can miss a run that ends at once on a busy
	// machine: those are left out, and may be no more than a tenth.
	rssFirst, rssLast := soakMedianRSS(runs[:tenth]), soakMedianRSS(runs[n-tenth:])
	rssMax, unmeasured := int64(0), 0
	for _, r := range runs {
		if r.rssKiB <= 0 {
			unmeasured++
			continue
		}
		checkPeakRSS(t, outcome{rssKiB: r.rssKiB})
		rssMax = max(rssMax, r.rssKiB)
	}
	if unmeasured > tenth {
		t.Errorf("the peak RSS of %d of %d runs was not measured", unmeasured, n)
	}
	if float64(rssLast) > soakRSSGrowth*float64(rssFirst) {
		t.Errorf("install-metrics' median peak RSS grew from %d KiB (first %d runs) to %d KiB (last %d): over %.1fx", rssFirst, tenth, rssLast, tenth, soakRSSGrowth)
	}
	if grown := int64(heapLast) - int64(heapFirst); grown > soakHeapBound {
		t.Errorf("the gateway fakes' process heap grew by %d KiB over runs %d to %d (bound %d KiB)", grown>>10, tenth, n, soakHeapBound>>10)
	}
	var modes []string
	for _, g := range gws {
		modes = append(modes, fmt.Sprintf("%s %d runs (said %d sent, %d spooled, %d unsent): %d arrived, %d spooled, %d after the flush",
			g.mode.name, g.runs, g.said[sent], g.said[spooled], g.said[unsent], g.before, g.spooled, g.final))
	}
	t.Logf("figures: %d runs (seed %d) in %v (%v with the flush and Prometheus); textfile %d, statsd_exporter %d (%d before the flush); %d flush(es); gateways: %s; "+
		"install-metrics peak RSS median %d KiB (first %d runs), %d KiB (last %d), max %d KiB (%d not sampled); test process heap %d KiB after %d runs, %d KiB after %d; gateway series %d then %d",
		n, seed, ranFor.Round(time.Millisecond), time.Since(started).Round(time.Millisecond), textfileCount(t, w.textfile), statsdFinal, statsdBefore, flushes,
		strings.Join(modes, "; "), rssFirst, tenth, rssLast, tenth, rssMax, unmeasured, heapFirst>>10, tenth, heapLast>>10, n, seriesFirst, seriesLast)
}

// soakServer starts a gateway fake that takes this world's credentials and
// keeps soakKeep requests; addr "" picks a free port.
func (w *world) soakServer(t *testing.T, addr string) *gatewaytest.Server {
	t.Helper()
	o := w.gatewayOptions()
	o.Addr, o.KeepRequests = addr, soakKeep
	srv, err := gatewaytest.Listen(o)
	if err != nil {
		t.Fatalf("the refused gateway's address %s was taken meanwhile (rare): rerun the soak: %v", addr, err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// soakRuns runs the given runs (the first one numbered from), soakParallel at
// a time, each with the textfile, StatsD and its mode's gateway, and checks
// each as every fault scenario is checked (exit code, time added, no panic).
// Past the deadline no run starts, and the test fails with the count done.
func (w *world) soakRuns(runs []soakRun, from int, gws []*soakGateway, statsdURL string, deadline time.Time) {
	t := w.t
	t.Helper()
	var mu sync.Mutex // w.prepare is not safe for concurrent use
	var wg sync.WaitGroup
	jobs := make(chan int)
	for k := range soakParallel {
		// An asset directory per worker: one install at a time in each, as
		// on a real machine (the installer appends to its log there).
		dir := filepath.Join(w.root, fmt.Sprintf("c-%d", k))
		if _, err := os.Stat(dir); err != nil {
			writeFile(t, filepath.Join(dir, "install-config.yaml"), installConfigYAML("aws", pullSecretJSON()))
		}
		wg.Go(func() {
			for i := range jobs {
				r := &runs[i]
				sinks := "file://" + w.textfile + "," + statsdURL + "," + gws[r.mode].url
				mu.Lock()
				p := w.prepare(runSpec{args: []string{"create", "cluster", "--dir", dir}, plan: soakPlans[r.code], plain: true, timeout: soakTimeout.String(),
					env: []string{"INSTALL_METRICS_SINKS=" + sinks}})
				mu.Unlock()
				o := w.execute(p)
				checkOutcome(t, expect{}, o)
				if o.code != r.code {
					t.Errorf("run %d (gateway %s): exit %d, want %d", from+i, gws[r.mode].mode.name, o.code, r.code)
				}
				r.rssKiB = o.rssKiB
				g := gws[r.mode]
				c, lines := soakClassify(string(o.stderr), g.url)
				r.said = c
				if !slices.Contains(g.mode.may, c) || lines > 1 {
					t.Errorf("run %d (gateway %s): %d warning line(s) saying the push was %v, want one of %v:\n%s", from+i, g.mode.name, lines, c, g.mode.may, clip(o.stderr, 4000))
				}
			}
		})
	}
	done := 0
	for i := range runs {
		if time.Now().After(deadline) {
			break
		}
		jobs <- i
		done++
	}
	close(jobs)
	wg.Wait()
	if done < len(runs) {
		t.Fatalf("soak: the deadline passed after %d runs (of this phase's %d, from run %d): the runs are much slower than measured (docs/reliability.md)", done, len(runs), from)
	}
}

// checkSoakGateway: what provably did not arrive was spooled and arrived
// exactly once with the flush; what may have arrived was never resent; the
// gateway never holds more than its runs.
func checkSoakGateway(t *testing.T, g *soakGateway) {
	t.Helper()
	m := g.mode
	switch {
	case g.spooled != g.said[spooled]:
		t.Errorf("gateway %s: the spool holds %d pushes for it, the runs said %d were kept", m.name, g.spooled, g.said[spooled])
	case g.final != g.before+g.spooled:
		t.Errorf("gateway %s: %d after the flush, want the %d that arrived plus the %d spooled: lost or counted twice", m.name, g.final, g.before, g.spooled)
	case g.final > g.runs:
		t.Errorf("gateway %s: %d invocations for %d runs: counted twice", m.name, g.final, g.runs)
	case !m.processes && g.before != 0:
		t.Errorf("gateway %s: %d arrived during the runs at a gateway that processes nothing", m.name, g.before)
	case m.arrives && g.final != g.runs:
		t.Errorf("gateway %s: %d of %d runs arrived", m.name, g.final, g.runs)
	}
}

// soakPending is how many invocations the spool holds for the sinks.
func soakPending(t *testing.T, w *world, sinks []string) int {
	t.Helper()
	spooled, _ := readSpool(t, w.spoolDir())
	n := 0
	for _, s := range sinks {
		n += spooled[s]
	}
	return n
}

// soakTextfileReturn sums the textfile's invocations with the return label,
// and counts their series.
func soakTextfileReturn(t *testing.T, path, code string) (n, series int) {
	t.Helper()
	mfs, err := parseTextfile(path)
	if err != nil {
		t.Errorf("textfile %s: %v", path, err)
		return 0, 0
	}
	if mf := mfs["cluster_installation_invocation"]; mf != nil {
		for _, m := range mf.Metric {
			for _, l := range m.Label {
				if l.GetName() == "return" && l.GetValue() == code {
					n += int(m.GetCounter().GetValue())
					series++
				}
			}
		}
	}
	return n, series
}

// soakScrape sums family at a /metrics page (statsd_exporter's).
func soakScrape(t *testing.T, url, family string) float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Errorf("scraping %s: %v", url, err)
		return 0
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Errorf("scraping %s: %v", url, err)
		return 0
	}
	var sum float64
	if mf := mfs[family]; mf != nil {
		for _, m := range mf.Metric {
			sum += m.GetCounter().GetValue() + m.GetUntyped().GetValue()
		}
	}
	return sum
}

// soakHeap is the test process's heap in use after a collection: the
// gateway fakes live here.
func soakHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// soakSeries returns the series of a text-format page (histogram buckets,
// sums and counts included), without the grouping label job the gateway
// adds, and how many there are.
func soakSeries(page string) map[string]bool {
	keys := map[string]bool{}
	for _, l := range strings.Split(page, "\n") {
		i := strings.LastIndexByte(l, ' ')
		if l == "" || strings.HasPrefix(l, "#") || i < 0 {
			continue
		}
		k := strings.NewReplacer(`job="install-metrics",`, "", `,job="install-metrics"`, "", `{job="install-metrics"}`, "").Replace(l[:i])
		keys[k] = true
	}
	return keys
}

// soakStoreSeries counts the series of every gateway fake's store, and
// reports those the textfile (which sums every run) does not have: a store
// that grows with the runs, not with the closed sets.
func soakStoreSeries(t *testing.T, w *world, gws []*soakGateway) int {
	t.Helper()
	files, err := textfile.Files(w.textfile) // the textfile and its histogram shards
	must(t, err)
	var b []byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		must(t, err)
		b = append(b, data...)
	}
	local := soakSeries(string(b))
	n := 0
	for _, g := range gws {
		if g.srv == nil {
			continue
		}
		for k := range soakSeries(g.srv.Metrics()) {
			n++
			if !local[k] {
				t.Errorf("gateway %s holds series %s, which no run recorded in the textfile", g.mode.name, k)
			}
		}
	}
	return n
}

// soakMedianRSS is the median peak RSS of the runs.
func soakMedianRSS(runs []soakRun) int64 {
	v := make([]int64, 0, len(runs))
	for _, r := range runs {
		if r.rssKiB > 0 {
			v = append(v, r.rssKiB)
		}
	}
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	return v[len(v)/2]
}

func soakInstance(url string) string {
	return fmt.Sprintf(`{instance=%q}`, strings.TrimPrefix(url, "http://"))
}

func soakEnvInt(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 10 {
		t.Fatalf("%s=%q: want a count of runs of at least 10", name, s)
	}
	return v
}
