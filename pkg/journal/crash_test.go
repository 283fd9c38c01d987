package journal

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var (
	crashTrials = flag.Int("journal.crash-trials", 300, "trials of the SIGKILL crash test (-short: 50)")
	crashSeed   = flag.Uint64("journal.crash-seed", 0, "seed of the crash test's kill instants (0: from the clock)")
	crashBudget = flag.Duration("journal.crash-budget", 90*time.Second, "wall-time bound of the crash test")
)

// The helper's run: the ops of one wrapped run, in order. Op k leaves the
// record with Seq k (op 7, Close, removes an all-done record and keeps the
// others as they were after op 6).
var runOps = []string{"", "begin", "progress", "complete", "sending", "done file", "gateway", "close"}

// helperRuns plays wrappers one after another in the journal args[0], as
// fast as it can, and writes "<run> <id> <op>" to stdout after each op
// returned. Even runs end with every sink done; odd runs put the gateway
// back to pending (provably not delivered) and Close keeps the record.
func helperRuns(args []string) int {
	j := Open(args[0], Config{DeferBeginSync: len(args) > 1 && args[1] == "defer"})
	deadline := time.Now().Add(helperTimeout)
	say := func(s string) { _, _ = os.Stdout.WriteString(s) }
	say("ready\n")
	for r := 0; time.Now().Before(deadline); r++ {
		e, err := j.Begin(startInv(), testSinks)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		steps := []func() error{
			func() error { return e.Progress(progressInv()) },
			func() error { return e.Complete(endInv()) },
			func() error { return e.Sending(sinkFile, sinkGateway) },
			func() error { return e.Done(sinkFile) },
			func() error {
				if r%2 == 0 {
					return e.Done(sinkGateway)
				}
				return e.Pending(sinkGateway)
			},
			e.Close,
		}
		say(fmt.Sprintf("%d %s 1\n", r, e.ID()))
		for k, step := range steps {
			if err := step(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			say(fmt.Sprintf("%d %s %d\n", r, e.ID(), k+2))
		}
	}
	return 0
}

// expected is the record run r holds after op k; present is false when
// the journal holds nothing for it then (after an all-done op 6 a TakeOver
// removes the record; after op 7 Close did).
func expected(r, k int) (st state, present bool) {
	if k == 7 {
		if r%2 == 0 {
			return state{}, false
		}
		k = 6
	}
	st = state{Seq: int64(k), Provisional: k < 3}
	switch k {
	case 1:
		st.Invocation = startInv()
	case 2:
		st.Invocation = progressInv()
	default:
		st.Invocation = endInv()
	}
	if st.Provisional {
		st.Invocation.Result, st.Invocation.ExitCode = "Interrupted", -1
	}
	file, gw := Pending, Pending
	switch {
	case k == 4:
		file, gw = Sending, Sending
	case k == 5:
		file, gw = Done, Sending
	case k == 6 && r%2 == 0:
		return state{}, false
	case k == 6:
		file, gw = Done, Pending
	}
	st.Sinks = []Sink{{sinkFile, file}, {sinkGateway, gw}}
	return st, true
}

// progress is what the killed helper said it had done.
type progress struct {
	ids  map[string]int // id -> run
	last map[int]int    // run -> last op that returned
	runs int            // runs begun and reported
}

func parseProgress(t *testing.T, lines []string) progress {
	t.Helper()
	p := progress{ids: map[string]int{}, last: map[int]int{}}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) != 3 {
			continue // the ready line, or a line cut by the kill
		}
		r, err1 := strconv.Atoi(f[0])
		k, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil {
			continue
		}
		p.ids[f[1]] = r
		p.last[r] = k
		p.runs = max(p.runs, r+1)
	}
	return p
}

// TestCrashConsistency SIGKILLs a process running wrappers back to back
// (Begin, Progress, Complete, Sending, Done, Done or Pending, Close) at
// random instants, then checks that TakeOver finds exactly what the last
// durable write says: never a torn record, never a lost one, never a sink
// pending after its Done returned. The op under way at the kill may or may
// not have happened; both are accepted, nothing else is.
func TestCrashConsistency(t *testing.T) {
	trials := *crashTrials
	if testing.Short() {
		trials = min(trials, 50)
	}
	seed := *crashSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -journal.crash-seed=%d), %d trials", seed, seed, trials)
	rng := rand.New(rand.NewPCG(seed, 0))
	exe, err := os.Executable()
	must(t, err)
	root := t.TempDir()

	// covered[op][took effect]: how often the kill fell during each op, and
	// whether the op's write had reached the file system.
	type key struct {
		op    string
		taken bool
	}
	covered := map[key]int{}
	var delays []time.Duration
	deadline := time.Now().Add(*crashBudget)
	done := 0
	for trial := 0; trial < trials && time.Now().Before(deadline); trial++ {
		dir := filepath.Join(root, strconv.Itoa(trial))
		// Most kills in the first few runs (the first milliseconds after
		// start), some later.
		delay := time.Duration(rng.Int64N(int64(30 * time.Millisecond)))
		if rng.IntN(4) == 0 {
			delay = time.Duration(rng.Int64N(int64(150 * time.Millisecond)))
		}
		delays = append(delays, delay)
		// Every other trial defers Begin's fsyncs, as the wrapper may.
		lines := killHelperAfter(t, exe, dir, delay, trial%2 == 1)
		p := parseProgress(t, lines)
		op, taken := checkAfterCrash(t, trial, dir, p)
		covered[key{op, taken}]++
		done++
		if t.Failed() {
			t.Fatalf("trial %d (seed %d, kill after %v) failed; its journal is in %s", trial, seed, delay, dir)
		}
		_ = os.RemoveAll(dir)
	}
	if done < min(trials, 20) {
		t.Fatalf("only %d trials within %v", done, *crashBudget)
	}
	slices.Sort(delays)
	var report []string
	for _, op := range append(runOps[1:], "none") {
		if n, m := covered[key{op, true}], covered[key{op, false}]; n+m > 0 {
			report = append(report, fmt.Sprintf("%s %d (%d had reached the disk)", op, n+m, n))
		}
	}
	t.Logf("%d trials, kills %v..%v after the helper was ready (median %v); killed during: %s",
		done, delays[0].Round(time.Microsecond), delays[len(delays)-1].Round(time.Microsecond), delays[len(delays)/2].Round(time.Microsecond), strings.Join(report, ", "))
}

// killHelperAfter starts the runs helper in dir, SIGKILLs it delay after it
// said it was ready, and returns what it wrote.
func killHelperAfter(t *testing.T, exe, dir string, delay time.Duration, deferSync bool) []string {
	t.Helper()
	cmd := exec.Command(exe, dir)
	if deferSync {
		cmd.Args = append(cmd.Args, "defer")
	}
	cmd.Env = append(os.Environ(), helperEnv+"=runs")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	ready := make(chan struct{})
	var lines []string
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(out)
		first := true
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if first {
				close(ready)
				first = false
			}
		}
		if first {
			close(ready)
		}
	}()
	select {
	case <-ready:
	case <-time.After(helperTimeout):
		t.Error("the helper never got ready")
	}
	time.Sleep(delay) // the kill instant is the point, not a timing assertion
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-read
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Errorf("the helper ended before the kill: %v\n%s", err, stderr.String())
	}
	return lines
}

// checkAfterCrash takes over the killed helper's journal and checks it
// against what the helper said. It returns the op under way at the kill
// and whether it had taken effect.
func checkAfterCrash(t *testing.T, trial int, dir string, p progress) (string, bool) {
	t.Helper()
	// Two minutes on, so that lock files left without a record are removed
	// too (they are younger than a minute otherwise).
	j, w := openIn(t, dir, Config{Now: func() time.Time { return time.Now().Add(2 * time.Minute) }})
	es, err := j.TakeOver(context.Background())
	if err != nil {
		t.Errorf("trial %d: %v", trial, err)
	}
	found := map[string]state{}
	for _, e := range es {
		found[e.ID()] = e.st
	}
	defer func() {
		for _, e := range es {
			_ = e.Close()
		}
	}()
	if ws := w.get(); len(ws) != 0 {
		t.Errorf("trial %d: warnings (a torn record?): %q", trial, ws)
	}
	// The run under way at the kill: the last one reported, or the next
	// one when that one had closed (or none had begun).
	cur, curOp := p.runs-1, 0
	if cur >= 0 {
		curOp = p.last[cur]
	}
	var unknown []string
	for id := range found {
		if _, ok := p.ids[id]; !ok {
			unknown = append(unknown, id)
		}
	}
	inflight := ""
	tookEffect := false
	if cur < 0 || curOp == 7 {
		// Begin of run cur+1 was under way: at most one unreported record,
		// exactly as Begin writes it.
		inflight = "begin"
		if len(unknown) > 1 {
			t.Errorf("trial %d: %d records nobody reported", trial, len(unknown))
		}
		if len(unknown) == 1 {
			tookEffect = true
			want, _ := expected(cur+1, 1)
			compareState(t, trial, cur+1, want, found[unknown[0]])
		}
	} else {
		inflight = runOps[curOp+1]
		if len(unknown) != 0 {
			t.Errorf("trial %d: records nobody reported: %q", trial, unknown)
		}
	}
	byRun := map[int]string{}
	for id, r := range p.ids {
		byRun[r] = id
	}
	for r := 0; r < p.runs; r++ {
		id, k := byRun[r], p.last[r]
		got, present := found[id]
		want, wantPresent := expected(r, k)
		if r == cur && k < 7 {
			// The next op may have happened too.
			next, nextPresent := expected(r, k+1)
			if present && got.Seq == next.Seq && nextPresent || !present && !nextPresent && wantPresent {
				want, wantPresent, tookEffect = next, nextPresent, true
			}
		}
		switch {
		case present != wantPresent:
			t.Errorf("trial %d: run %d after op %d (%s): present %v, want %v", trial, r, k, runOps[k], present, wantPresent)
		case present:
			compareState(t, trial, r, want, got)
		}
	}
	// Nothing else is left: no lock file without a record (the temporary
	// file of a write under way may be).
	for _, n := range files(t, j) {
		id, ext, _ := strings.Cut(n, ".")
		if _, ok := found[id]; ext == "lock" && !ok {
			t.Errorf("trial %d: lock file %s left without a record", trial, n)
		}
	}
	return inflight, tookEffect
}

func compareState(t *testing.T, trial, run int, want, got state) {
	t.Helper()
	got.Version, got.ID, got.Created = 0, "", time.Time{}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("trial %d: run %d: record mismatch (-want +got):\n%s", trial, run, diff)
	}
}

// helperTakeOver takes over the journal args[0] like one `metrics flush`:
// it writes the id of each entry it got, marks every sink done and closes.
func helperTakeOver(args []string) int {
	j := Open(args[0], Config{Warn: func(err error) { fmt.Fprintln(os.Stderr, err) }})
	ctx, cancel := context.WithTimeout(context.Background(), helperTimeout)
	defer cancel()
	es, err := j.TakeOver(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, e := range es {
		fmt.Println(e.ID())
		if err := e.Done(sinkFile, sinkGateway); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if err := e.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

// TestConcurrentTakeOverProcesses: four flush processes and two in-process
// takers at once on 300 records of dead owners: each record is taken
// exactly once, and all are.
func TestConcurrentTakeOverProcesses(t *testing.T) {
	j, w := open(t, Config{})
	want := map[string]bool{}
	for range 300 {
		e := begin(t, j)
		want[e.ID()] = true
		die(e)
	}
	exe, err := os.Executable()
	must(t, err)
	var (
		mu  sync.Mutex
		got = map[string]int{}
		wg  sync.WaitGroup
	)
	note := func(id string) {
		mu.Lock()
		defer mu.Unlock()
		got[id]++
	}
	for range 4 {
		wg.Go(func() {
			cmd := exec.Command(exe, j.dir)
			cmd.Env = append(os.Environ(), helperEnv+"=takeover")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Errorf("takeover helper: %v\n%s", err, stderr.String())
			}
			for id := range strings.FieldsSeq(string(out)) {
				note(id)
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			es, err := j.TakeOver(context.Background())
			if err != nil {
				t.Error(err)
			}
			for _, e := range es {
				note(e.ID())
				if err := e.Done(sinkFile, sinkGateway); err != nil {
					t.Error(err)
				}
				if err := e.Close(); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	for id, n := range got {
		if n != 1 || !want[id] {
			t.Errorf("%s taken %d times (ours: %v)", id, n, want[id])
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d of %d records taken", len(got), len(want))
	}
	if left := withSuffix(files(t, j), ".json"); len(left) != 0 {
		t.Errorf("%d records left", len(left))
	}
	if ws := w.get(); len(ws) != 0 {
		t.Errorf("warnings: %q", ws)
	}
}

// TestTakeOverRacesOwners: owners begin, send and close (half with the
// gateway left pending) while takers loop. A taker never gets an entry
// whose owner still holds it: every entry it gets is exactly as its owner
// closed it, and each kept entry is taken exactly once.
func TestTakeOverRacesOwners(t *testing.T) {
	j, w := open(t, Config{})
	const owners, runs = 4, 40
	var (
		mu    sync.Mutex
		kept  = map[string]bool{}
		taken = map[string]int{}
		wg    sync.WaitGroup
		stop  = make(chan struct{})
	)
	take := func() {
		es, err := j.TakeOver(context.Background())
		if err != nil {
			t.Error(err)
		}
		for _, e := range es {
			st := e.State()
			if st.Status(sinkFile) != Done || st.Status(sinkGateway) != Pending {
				t.Errorf("took %s while its owner held it: %+v", e.ID(), st.Sinks)
			}
			mu.Lock()
			taken[e.ID()]++
			mu.Unlock()
			if err := e.Done(sinkGateway); err != nil {
				t.Error(err)
			}
			if err := e.Close(); err != nil {
				t.Error(err)
			}
		}
	}
	var takers sync.WaitGroup
	for range 2 {
		takers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					take()
				}
			}
		})
	}
	for o := range owners {
		wg.Go(func() {
			for r := range runs {
				e, err := j.Begin(startInv(), testSinks)
				if err != nil {
					t.Error(err)
					return
				}
				steps := []error{e.Complete(endInv()), e.Sending(sinkFile, sinkGateway), e.Done(sinkFile)}
				if (o+r)%2 == 0 {
					steps = append(steps, e.Done(sinkGateway))
				} else {
					steps = append(steps, e.Pending(sinkGateway))
					mu.Lock()
					kept[e.ID()] = true
					mu.Unlock()
				}
				steps = append(steps, e.Close())
				for _, err := range steps {
					if err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	takers.Wait()
	take() // what the takers had not reached yet
	for id := range kept {
		if taken[id] != 1 {
			t.Errorf("kept entry %s taken %d times", id, taken[id])
		}
	}
	for id := range taken {
		if !kept[id] {
			t.Errorf("%s taken, but its owner finished it", id)
		}
	}
	if left := files(t, j); len(left) != 0 {
		t.Errorf("files left: %q", left)
		for _, f := range left {
			b, _ := os.ReadFile(filepath.Join(j.dir, f))
			id, _, _ := strings.Cut(f, ".")
			t.Logf("left %s: %d bytes, kept %v taken %d: %.200q / %.200q", f, len(b), kept[id], taken[id], b, b[min(len(b), slotSize):])
		}
	}
	if ws := w.get(); len(ws) != 0 {
		t.Errorf("warnings: %q", ws)
	}
}
