//go:build linux

package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/install-metrics/install-metrics/pkg/journal"
)

// crashTrials is the number of killed runs of TestCrashInjection:
// INSTALL_METRICS_CRASH_TRIALS overrides the short default of `make test`
// (docs/reliability.md has the figures of the long mode, 1,000 trials).
// INSTALL_METRICS_CRASH_SEED replays one sequence of instants.
func crashTrials(t *testing.T) (int, uint64) {
	n := 100
	if v := os.Getenv("INSTALL_METRICS_CRASH_TRIALS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("INSTALL_METRICS_CRASH_TRIALS=%q: want a positive count", v)
		}
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("INSTALL_METRICS_CRASH_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("INSTALL_METRICS_CRASH_SEED=%q: want a number", v)
		}
	}
	return n, seed
}

// crashBudget bounds the whole test: the trials stop early (and say so)
// when it is spent, so a slow machine cannot make it hang.
const crashBudget = 8 * time.Minute

// TestCrashInjection is issue 16's crash-injection test: hundreds of runs
// of the real wrapper around the fake installer, each SIGKILLed at a
// random instant from the installer's start to the end of the send phase
// (many in the first milliseconds after the installer's exit, some killing
// the installer's and the wrapper's process groups mid-install), with
// `metrics flush` runs killed at random instants among them; then one
// `metrics flush`. Afterwards the textfile parses and counts every run
// exactly once (a run killed mid-install as Interrupted), and no sink got a
// run twice: the gateway got at most one push per run, and missed only
// runs killed after the installer's exit (a kill between the journal's
// Sending write and the request: at most once, never twice).
func TestCrashInjection(t *testing.T) {
	trials, seed := crashTrials(t)
	t.Logf("crash injection: %d trials, seed %d (INSTALL_METRICS_CRASH_SEED=%d replays the instants)", trials, seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	w := newWorld(t, worldOpts{auth: "token-file"})
	plan := append(successPlan()[:len(successPlan())-1], sleepMS(20), exitCode(0))
	spec := runSpec{plan: plan, plain: true}

	// Calibration: how long the installer and the send phase take here,
	// on runs that are not killed (they count as trials).
	var inst, send []time.Duration
	kinds := map[string]int{}
	landed := map[string]int{}
	midInstall, afterExit, flushKills, done := 0, 0, 0, 0
	deadline := time.Now().Add(crashBudget)
	for i := 0; i < trials; i++ {
		if time.Now().After(deadline) {
			t.Logf("crash budget of %v spent after %d trials", crashBudget, i)
			break
		}
		kind := "none"
		var offset time.Duration
		if len(inst) >= 3 {
			di, ds := median(inst), median(send)
			switch r := rng.Float64(); {
			case r < 0.10:
				kind, offset = "groups mid-install", randDur(rng, di)
			case r < 0.20:
				kind, offset = "wrapper mid-install", randDur(rng, di)
			case r < 0.60:
				kind, offset = "just after exit", di+randDur(rng, 3*time.Millisecond)
			case r < 0.95:
				kind, offset = "send phase", di+randDur(rng, ds)
			}
		}
		kinds[kind]++
		p := w.prepare(spec)
		var flush *crashProc
		if kind != "none" && rng.IntN(8) == 0 {
			flush = w.startFlush(t, rng)
		}
		res := runKilled(t, w, p, kind, offset)
		if flush != nil {
			flush.wait(t)
			if flush.killed {
				flushKills++
			}
		}
		done++
		if kind == "none" && res.installerExit.After(res.started) {
			inst = append(inst, res.installerExit.Sub(res.started))
			send = append(send, res.exited.Sub(res.installerExit))
		}
		switch {
		case !res.killed:
			landed["not killed (ended first)"]++
		case res.installerExit.IsZero() || res.kill.Before(res.installerExit):
			landed["before the installer's exit"]++
			midInstall++
		default:
			afterExit++
			switch d := res.kill.Sub(res.installerExit); {
			case d < time.Millisecond:
				landed["0-1 ms after the installer's exit"]++
			case d < 3*time.Millisecond:
				landed["1-3 ms after the installer's exit"]++
			case d < 10*time.Millisecond:
				landed["3-10 ms after the installer's exit"]++
			default:
				landed[">10 ms after the installer's exit (send phase)"]++
			}
		}
	}

	// One flush sends what the killed runs left.
	fo := w.run(runSpec{args: []string{"metrics", "flush"}, timeout: "10s", plain: true})
	if fo.code != 0 {
		t.Errorf("metrics flush: exit %d\n%s", fo.code, clip(fo.stderr, 4000))
	}
	if _, err := parseTextfile(w.textfile); err != nil {
		t.Fatalf("the textfile does not parse after the crashes: %v", err)
	}
	results := textfileResults(t, w.textfile)
	total := 0
	for _, n := range results {
		total += n
	}
	gw := gatewayCount(w.gw)()
	sd := w.udp.invocations()
	t.Logf("%d runs: kinds %v; kills landed %v; %d flush runs killed", done, kinds, landed, flushKills)
	t.Logf("textfile: %d invocations by result %v; gateway %d; statsd %d; installer %v, send phase %v (medians)",
		total, results, gw, sd, median(inst), median(send))
	if total != done {
		t.Errorf("the textfile counts %d runs, want every one of the %d exactly once", total, done)
	}
	if results["Interrupted"] < midInstall {
		t.Errorf("%d runs counted Interrupted, fewer than the %d killed before the installer's exit", results["Interrupted"], midInstall)
	}
	// How the installer ended is in the journal within one pwrite of its
	// reaping (pkg/journal Ended), so Interrupted is mostly the runs killed
	// before the exit or within the 3 ms a loaded machine takes to reap
	// the installer; the rest is a figure, not a bound (it depends on the
	// load: 0-3 of 100 at load 8, against 13-28 of 200 without Ended).
	later := landed["3-10 ms after the installer's exit"] + landed[">10 ms after the installer's exit (send phase)"]
	t.Logf("Interrupted beyond the runs killed before the exit or within 3 ms after it: %d (of %d killed later)",
		results["Interrupted"]-midInstall-landed["0-1 ms after the installer's exit"]-landed["1-3 ms after the installer's exit"], later)
	if gw > done {
		t.Errorf("the gateway got %d pushes for %d runs: a run counted twice", gw, done)
	}
	if lost := done - gw; lost > afterExit+flushKills {
		t.Errorf("the gateway missed %d runs, more than the %d killed after the installer's exit or during a flush", lost, afterExit+flushKills)
	}
	if sd > done {
		t.Errorf("statsd got %d invocations for %d runs: a run counted twice", sd, done)
	}
	if left := journalRecords(t, w); left != 0 {
		t.Errorf("%d journal records are left after the flush, want 0", left)
	}
}

// crashResult is what one trial saw.
type crashResult struct {
	killed                         bool
	started, installerExit, exited time.Time
	kill                           time.Time
}

// runKilled runs p, waits for the installer's start, then kills at offset
// from it (kind "none": no kill) and waits for the end.
func runKilled(t *testing.T, w *world, p *prepared, kind string, offset time.Duration) crashResult {
	t.Helper()
	defer p.stdout.Close()
	defer p.stderr.Close()
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting install-metrics: %v", err)
	}
	waited := make(chan struct{})
	var exited time.Time
	go func() { _ = p.cmd.Wait(); exited = time.Now(); close(waited) }()
	var res crashResult
	startedPath := filepath.Join(p.stamp, "started")
	limit := time.Now().Add(runLimit)
	for time.Now().Before(limit) {
		if _, err := os.Stat(startedPath); err == nil {
			res.started = time.Now() // mtimes are too coarse (jiffies)
			break
		}
		select {
		case <-waited:
			t.Errorf("install-metrics ended before the installer started:\n%s", readAll(t, p.stderr.Name()))
			return res
		case <-time.After(200 * time.Microsecond):
		}
	}
	r := &running{t: t, w: w, cmd: p.cmd, stamp: p.stamp, done: waited}
	if kind != "none" {
		select {
		case <-waited:
		case <-time.After(time.Until(res.started.Add(offset))):
			res.kill = time.Now()
			if kind == "groups mid-install" {
				w.killAll(r)
			} else {
				_ = p.cmd.Process.Signal(syscall.SIGKILL)
			}
			res.killed = true
		}
	}
	select {
	case <-waited:
	case <-time.After(runLimit):
		t.Errorf("install-metrics still runs after %v", runLimit)
	}
	w.killAll(r)
	<-waited
	res.exited = exited
	if res.killed && !exited.IsZero() && p.cmd.ProcessState != nil && p.cmd.ProcessState.Exited() {
		res.killed = false // it ended before the signal came
	}
	if b, err := os.ReadFile(filepath.Join(p.stamp, "exit")); err == nil {
		var code int
		var ns int64
		if _, err := fmt.Sscanf(string(b), "%d %d", &code, &ns); err == nil {
			res.installerExit = time.Unix(0, ns)
		}
	}
	if !res.killed {
		if o := readAll(t, p.stderr.Name()); strings.Contains(string(o), "panic:") {
			t.Errorf("install-metrics panicked:\n%s", clip(o, 4000))
		}
	}
	return res
}

// crashProc is a `metrics flush` run that may be killed.
type crashProc struct {
	p      *prepared
	done   chan struct{}
	killed bool
}

// startFlush starts `metrics flush` and kills it at a random instant of
// its first 20 ms.
func (w *world) startFlush(t *testing.T, rng *rand.Rand) *crashProc {
	t.Helper()
	p := w.prepare(runSpec{args: []string{"metrics", "flush"}, plain: true})
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting metrics flush: %v", err)
	}
	c := &crashProc{p: p, done: make(chan struct{})}
	after := randDur(rng, 20*time.Millisecond)
	go func() {
		defer close(c.done)
		waited := make(chan struct{})
		go func() { _ = p.cmd.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-time.After(after):
			_ = p.cmd.Process.Signal(syscall.SIGKILL)
			<-waited
		}
	}()
	return c
}

func (c *crashProc) wait(t *testing.T) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(runLimit):
		t.Errorf("metrics flush still runs after %v", runLimit)
		_ = c.p.cmd.Process.Kill()
		<-c.done
	}
	c.p.stdout.Close()
	c.p.stderr.Close()
	st := c.p.cmd.ProcessState
	c.killed = st != nil && !st.Exited()
}

// textfileResults sums the invocation counter of the textfile by result.
func textfileResults(t *testing.T, path string) map[string]int {
	t.Helper()
	mfs, err := parseTextfile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, m := range mfs["cluster_installation_invocation"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "result" {
				out[l.GetValue()] += int(m.GetCounter().GetValue())
			}
		}
	}
	return out
}

// journalRecords counts the records left in the journal.
func journalRecords(t *testing.T, w *world) int {
	t.Helper()
	sts, err := journal.Open(filepath.Join(w.state, "install-metrics", "journal"), journal.Config{}).Peek()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, st := range sts {
		for _, k := range st.Sinks {
			if k.Status != journal.Done {
				n++ // a tombstone (every sink Done) is gone at the next TakeOver
				break
			}
		}
	}
	return n
}

func randDur(rng *rand.Rand, d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(rng.Int64N(int64(d)))
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
