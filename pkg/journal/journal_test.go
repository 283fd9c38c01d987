package journal

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/install-metrics/install-metrics/pkg/record"
)

func TestBeginWritesAProvisionalRecordAndHoldsTheLock(t *testing.T) {
	j, w := open(t, Config{})
	e := begin(t, j)
	defer e.Close()

	if !validID(e.ID()) {
		t.Errorf("id %q has not the shape %%020d-<16 hex>", e.ID())
	}
	want := State{ID: e.ID(), Created: e.State().Created, Provisional: true, Invocation: startInv(),
		Sinks: []Sink{{sinkFile, Pending}, {sinkGateway, Pending}}}
	want.Invocation.Result, want.Invocation.ExitCode = record.Interrupted, -1
	if diff := cmp.Diff(want, e.State()); diff != "" {
		t.Errorf("state mismatch (-want +got):\n%s", diff)
	}
	// On disk: exactly that, in a slot of the lock file, a 0600 file in a
	// 0700 directory; no record file (the first durable write makes it).
	st := onDisk(t, j, e.ID())
	if diff := cmp.Diff(want, State{ID: st.ID, Created: st.Created, Provisional: st.Provisional, Invocation: st.Invocation, Sinks: st.Sinks}); diff != "" {
		t.Errorf("record on disk mismatch (-want +got):\n%s", diff)
	}
	if st.Seq != 1 {
		t.Errorf("seq %d after Begin, want 1 (one write)", st.Seq)
	}
	if _, err := os.Lstat(j.recordPath(e.ID())); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Begin made a record file: %v", err)
	}
	for path, mode := range map[string]os.FileMode{j.dir: 0o700, j.lockPath(e.ID()): 0o600} {
		fi, err := os.Stat(path)
		must(t, err)
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), mode)
		}
	}
	// Held: nobody else can take it.
	if es := takeAll(t, j); len(es) != 0 {
		t.Errorf("TakeOver took %d entries held by a live owner", len(es))
	}
	if fd, err := j.lockExisting(e.ID(), false); fd >= 0 || err != nil {
		t.Errorf("the lock is free while the owner lives (fd %d, %v)", fd, err)
	}
	if got := w.get(); len(got) != 0 {
		t.Errorf("warnings: %q", got)
	}
}

func TestBeginTightensAnExistingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "journal")
	must(t, os.Mkdir(dir, 0o755))
	j, _ := openIn(t, dir, Config{})
	defer begin(t, j).Close()
	fi, err := os.Stat(dir)
	must(t, err)
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("mode %v, want 0700", fi.Mode().Perm())
	}
}

func TestBeginRefusesBadSinks(t *testing.T) {
	j, _ := open(t, Config{})
	for name, sinks := range map[string][]string{
		"none":           nil,
		"credential":     {"https://user:tok-SECRET@gateway.example/metrics/job/x"},
		"token in query": {"https://gateway.example/metrics/job/x?token=tok-SECRET"},
		"not a URL":      {"gateway.example"},
		"twice":          {sinkFile, sinkFile},
		"too many":       slices.Repeat([]string{sinkFile}, maxSinks+1),
	} {
		_, err := j.Begin(startInv(), sinks)
		if err == nil {
			t.Errorf("%s: Begin accepted %q", name, sinks)
			continue
		}
		if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%s: the error shows the credential: %v", name, err)
		}
	}
	if got := files(t, j); len(got) != 0 {
		t.Errorf("files left: %q", got)
	}
	// The caller's validator decides, when given.
	j2, _ := open(t, Config{ValidSink: func(s string) bool { return s == sinkGateway }})
	if _, err := j2.Begin(startInv(), testSinks); err == nil {
		t.Error("Begin accepted a sink the validator refuses")
	}
}

// TestTransitions walks each state change and checks it is on disk
// (re-read as a dead owner's record would be) when the call returns.
func TestTransitions(t *testing.T) {
	type step struct {
		name    string
		do      func(e *Entry) error
		wantErr error // nil: succeeds
		file    Status
		gateway Status
		prov    bool
		writes  int64 // the record's Seq afterwards
	}
	steps := []step{
		{"progress", func(e *Entry) error { return e.Progress(progressInv()) }, nil, Pending, Pending, true, 2},
		{"complete", func(e *Entry) error { return e.Complete(endInv()) }, nil, Pending, Pending, false, 3},
		{"progress after complete", func(e *Entry) error { return e.Progress(progressInv()) }, ErrTransition, Pending, Pending, false, 3},
		{"complete again before sending", func(e *Entry) error { return e.Complete(endInv()) }, nil, Pending, Pending, false, 4},
		{"sending both in one write", func(e *Entry) error { return e.Sending(sinkFile, sinkGateway) }, nil, Sending, Sending, false, 5},
		{"complete while sending", func(e *Entry) error { return e.Complete(endInv()) }, ErrTransition, Sending, Sending, false, 5},
		{"sending again: no write", func(e *Entry) error { return e.Sending(sinkFile) }, nil, Sending, Sending, false, 5},
		{"file done", func(e *Entry) error { return e.Done(sinkFile) }, nil, Done, Sending, false, 6},
		{"gateway provably not delivered", func(e *Entry) error { return e.Pending(sinkGateway) }, nil, Done, Pending, false, 7},
		{"file back to sending", func(e *Entry) error { return e.Sending(sinkFile) }, ErrTransition, Done, Pending, false, 7},
		{"file back to pending", func(e *Entry) error { return e.Pending(sinkFile) }, ErrTransition, Done, Pending, false, 7},
		{"unknown sink", func(e *Entry) error { return e.Done("file:///elsewhere.prom") }, errors.New("no such sink"), Done, Pending, false, 7},
		{"gateway sending", func(e *Entry) error { return e.Sending(sinkGateway) }, nil, Done, Sending, false, 8},
		{"gateway done", func(e *Entry) error { return e.Done(sinkGateway) }, nil, Done, Done, false, 9},
		{"done again: no write", func(e *Entry) error { return e.Done(sinkFile, sinkGateway) }, nil, Done, Done, false, 9},
	}
	j, _ := open(t, Config{})
	e := begin(t, j)
	for _, s := range steps {
		err := s.do(e)
		switch {
		case s.wantErr == nil && err != nil:
			t.Fatalf("%s: %v", s.name, err)
		case s.wantErr != nil && err == nil:
			t.Fatalf("%s: no error", s.name)
		case errors.Is(s.wantErr, ErrTransition) && !errors.Is(err, ErrTransition):
			t.Fatalf("%s: %v, want ErrTransition", s.name, err)
		}
		st := onDisk(t, j, e.ID())
		got := []any{st.Status(sinkFile), st.Status(sinkGateway), st.Provisional, st.Seq}
		want := []any{s.file, s.gateway, s.prov, s.writes}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("%s: on disk [file gateway provisional seq] mismatch (-want +got):\n%s", s.name, diff)
		}
		if diff := cmp.Diff(st.clone().Sinks, e.State().Sinks); diff != "" {
			t.Fatalf("%s: memory and disk differ (-disk +memory):\n%s", s.name, diff)
		}
	}
	st, _, _ := j.read(e.ID())
	if diff := cmp.Diff(endInv(), st.Invocation); diff != "" {
		t.Errorf("completed invocation mismatch (-want +got):\n%s", diff)
	}
	must(t, e.Close())
	if got := files(t, j); len(got) != 0 {
		t.Errorf("Close with every sink done left %q", got)
	}
	if err := e.Done(sinkFile); !errors.Is(err, ErrClosed) {
		t.Errorf("Done after Close: %v, want ErrClosed", err)
	}
	must(t, e.Close()) // twice is fine
}

// Status is a State helper for tests of the raw record.
func (st state) Status(sink string) Status {
	return State{Sinks: st.Sinks}.Status(sink)
}

func TestCompleteValidates(t *testing.T) {
	j, _ := open(t, Config{ValidInvocation: func(inv record.Invocation) error {
		if inv.Platform != "aws" {
			return errors.New("platform outside the closed set")
		}
		return nil
	}})
	e := begin(t, j)
	defer e.Close()
	for name, mod := range map[string]func(*record.Invocation){
		"result":    func(inv *record.Invocation) { inv.Result = "Exploded" },
		"exit code": func(inv *record.Invocation) { inv.ExitCode = -1 },
		"stage":     func(inv *record.Invocation) { inv.Stages[0].Name = "lunch" },
		"wall":      func(inv *record.Invocation) { inv.Wall = -time.Second },
		"platform":  func(inv *record.Invocation) { inv.Platform = "my-own-cloud" },
	} {
		inv := endInv()
		mod(&inv)
		if err := e.Complete(inv); err == nil {
			t.Errorf("%s: Complete accepted it", name)
		}
	}
	if st := e.State(); !st.Provisional || e.st.Seq != 1 {
		t.Errorf("a refused Complete changed the entry: %+v", st)
	}
}

func TestCloseWithSinksLeftKeepsTheRecordForTakeOver(t *testing.T) {
	j, w := open(t, Config{})
	e := begin(t, j)
	must(t, e.Complete(endInv()))
	must(t, e.Sending(sinkFile, sinkGateway))
	must(t, e.Done(sinkFile))
	must(t, e.Pending(sinkGateway))
	want := e.State()
	must(t, e.Close())

	es := takeAll(t, j)
	if len(es) != 1 {
		t.Fatalf("TakeOver took %d entries, want 1", len(es))
	}
	if diff := cmp.Diff(want, es[0].State()); diff != "" {
		t.Errorf("taken over as it stands: mismatch (-want +got):\n%s", diff)
	}
	// Ours now: a second TakeOver (another flush) gets nothing.
	if again := takeAll(t, j); len(again) != 0 {
		t.Errorf("a second TakeOver took %d entries held by the first", len(again))
	}
	must(t, es[0].Sending(sinkGateway))
	must(t, es[0].Done(sinkGateway))
	must(t, es[0].Close())
	if got := files(t, j); len(got) != 0 {
		t.Errorf("files left: %q", got)
	}
	if got := w.get(); len(got) != 0 {
		t.Errorf("warnings: %q", got)
	}
}

func TestTakeOverDeadOwners(t *testing.T) {
	clock := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	j, w := open(t, Config{Now: func() time.Time { clock = clock.Add(time.Millisecond); return clock }})
	// Three dead owners, created in this order: provisional, completed,
	// one sink sending; one live owner; one finished (all done, killed
	// before Close); one whose lock file a crash lost.
	provisional := begin(t, j)
	completed := begin(t, j)
	must(t, completed.Complete(endInv()))
	sending := begin(t, j)
	must(t, sending.Complete(endInv()))
	must(t, sending.Sending(sinkGateway))
	live := begin(t, j)
	defer live.Close()
	finished := begin(t, j)
	must(t, finished.Done(sinkFile, sinkGateway))
	lostLock := begin(t, j)
	must(t, lostLock.Complete(endInv())) // a record file: a crash can lose its lock file
	for _, e := range []*Entry{provisional, completed, sending, finished, lostLock} {
		die(e)
	}
	must(t, os.Remove(j.lockPath(lostLock.ID())))

	es := takeAll(t, j)
	var got []string
	for _, e := range es {
		got = append(got, e.ID())
	}
	want := []string{provisional.ID(), completed.ID(), sending.ID(), lostLock.ID()}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("taken ids, oldest first, mismatch (-want +got):\n%s", diff)
	}
	if len(es) == 4 {
		if st := es[0].State(); !st.Provisional || st.Invocation.Result != record.Interrupted || st.Invocation.ExitCode != -1 {
			t.Errorf("the provisional record is not sent as Interrupted with exit code -1: %+v", st.Invocation)
		}
		if st := es[2].State(); st.Status(sinkGateway) != Sending || st.Status(sinkFile) != Pending {
			t.Errorf("sink states not as they stood: %+v", st.Sinks)
		}
	}
	if _, err := os.Lstat(j.recordPath(finished.ID())); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the finished record was not removed: %v", err)
	}
	if got := w.get(); len(got) != 0 {
		t.Errorf("warnings: %q", got)
	}
}

func TestTakeOverEmptyOrMissingJournal(t *testing.T) {
	j, _ := open(t, Config{})
	if es := takeAll(t, j); len(es) != 0 {
		t.Errorf("%d entries from a missing journal", len(es))
	}
	must(t, os.Mkdir(j.dir, 0o700))
	if es := takeAll(t, j); len(es) != 0 {
		t.Errorf("%d entries from an empty journal", len(es))
	}
}

func TestTakeOverStopsAtTheDeadline(t *testing.T) {
	j, _ := open(t, Config{})
	for range 3 {
		die(begin(t, j))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	es, err := j.TakeOver(ctx)
	if !errors.Is(err, context.Canceled) || len(es) != 0 {
		t.Errorf("TakeOver with a done context: %d entries, %v", len(es), err)
	}
	if es := takeAll(t, j); len(es) != 3 {
		t.Errorf("afterwards %d entries, want 3 (nothing lost)", len(es))
	}
}

func TestJournalPathNotADirectory(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "file")
	must(t, os.WriteFile(file, []byte("x"), 0o600))
	real := filepath.Join(root, "real")
	must(t, os.Mkdir(real, 0o700))
	link := filepath.Join(root, "link")
	must(t, os.Symlink(real, link))
	for name, dir := range map[string]string{"a file": file, "a symbolic link": link, "under a file": filepath.Join(file, "journal")} {
		j, _ := openIn(t, dir, Config{})
		_, berr := j.Begin(startInv(), testSinks)
		_, terr := j.TakeOver(context.Background())
		for op, err := range map[string]error{"Begin": berr, "TakeOver": terr} {
			if err == nil {
				t.Errorf("%s: %s: no error", name, op)
				continue
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || msg != strings.ToLower(msg[:1])+msg[1:] {
				t.Errorf("%s: %s: not one lowercase line: %q", name, op, msg)
			}
		}
		if name != "under a file" && !errors.Is(berr, ErrNotDirectory) {
			t.Errorf("%s: Begin: %v, want ErrNotDirectory", name, berr)
		}
	}
	if des, _ := os.ReadDir(real); len(des) != 0 {
		t.Errorf("wrote through the link: %d files in its target", len(des))
	}
}

// TestHostileRecords: each bad record is moved aside (never sent, never a
// crash) with one warning for all, and the valid records beside it are
// taken untouched.
func TestHostileRecords(t *testing.T) {
	j, w := open(t, Config{ValidSink: func(s string) bool { return s == sinkFile || s == sinkGateway }})
	good := begin(t, j)
	must(t, good.Complete(endInv()))
	die(good)
	goodBytes, err := os.ReadFile(j.recordPath(good.ID()))
	must(t, err)
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		must(t, json.Unmarshal(goodBytes, &m))
		f(m)
		b, err := json.Marshal(m)
		must(t, err)
		return b
	}
	inv := func(m map[string]any) map[string]any { return m["invocation"].(map[string]any) }
	outside := filepath.Join(t.TempDir(), "outside.json")
	must(t, os.WriteFile(outside, goodBytes, 0o600))

	bad := map[string][]byte{
		"truncated":               goodBytes[:len(goodBytes)/2],
		"garbage":                 []byte("\x00\xff not json"),
		"older version":           edit(func(m map[string]any) { m["version"] = 0 }),
		"wrong types":             edit(func(m map[string]any) { m["seq"] = "many" }),
		"result":                  edit(func(m map[string]any) { inv(m)["result"] = "Exploded" }),
		"stage":                   edit(func(m map[string]any) { inv(m)["stages"].([]any)[0].(map[string]any)["name"] = "lunch" }),
		"exit code":               edit(func(m map[string]any) { inv(m)["exit_code"] = 300 }),
		"foreign sink":            edit(func(m map[string]any) { m["sinks"].([]any)[0].(map[string]any)["url"] = "https://evil.example/" }),
		"sink state":              edit(func(m map[string]any) { m["sinks"].([]any)[0].(map[string]any)["status"] = "maybe" }),
		"no sinks":                edit(func(m map[string]any) { m["sinks"] = []any{} }),
		"provisional with a code": edit(func(m map[string]any) { m["provisional"] = true }),
	}
	ids := map[string]string{}
	for name, data := range bad {
		id := newID(time.Now())
		ids[id] = name
		var m map[string]any
		if json.Unmarshal(data, &m) == nil {
			m["id"] = id
			data, _ = json.Marshal(m)
		}
		must(t, os.WriteFile(j.recordPath(id), data, 0o600))
	}
	special := func(name string, make func(path string) error) {
		id := newID(time.Now())
		ids[id] = name
		must(t, make(j.recordPath(id)))
	}
	special("wrong id", func(p string) error { return os.WriteFile(p, goodBytes, 0o600) })
	special("huge (sparse 2 MiB)", func(p string) error {
		f, err := os.Create(p)
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Truncate(2 << 20)
	})
	special("a link to a valid record outside", func(p string) error { return os.Symlink(outside, p) })
	special("a link to a valid record outside, with its id", func(p string) error {
		id := strings.TrimSuffix(filepath.Base(p), ".json")
		other := filepath.Join(filepath.Dir(outside), id+".json")
		if err := os.WriteFile(other, edit(func(m map[string]any) { m["id"] = id }), 0o600); err != nil {
			return err
		}
		return os.Symlink(other, p)
	})
	special("a link to /dev/zero", func(p string) error { return os.Symlink("/dev/zero", p) })
	special("a FIFO", func(p string) error { return mkfifo(p) })
	special("a directory", func(p string) error { return os.Mkdir(p, 0o700) })
	// A newer version is not corrupt: left alone for the newer binary.
	newer := newID(time.Now())
	must(t, os.WriteFile(j.recordPath(newer), edit(func(m map[string]any) { m["version"] = Version + 1; m["id"] = newer }), 0o600))

	es := takeAll(t, j)
	if len(es) != 1 || es[0].ID() != good.ID() {
		var got []string
		for _, e := range es {
			got = append(got, ids[e.ID()])
		}
		t.Fatalf("took %d entries (%q), want only the good one", len(es), got)
	}
	after, err := os.ReadFile(j.recordPath(good.ID()))
	must(t, err)
	if string(after) != string(goodBytes) {
		t.Error("the valid record changed")
	}
	for id, name := range ids {
		if _, err := os.Lstat(j.recordPath(id)); name != "a directory" && !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: not moved aside: %v", name, err)
		}
	}
	if _, err := os.Stat(j.recordPath(newer)); err != nil {
		t.Errorf("the newer record was touched: %v", err)
	}
	if b, _ := os.ReadFile(outside); string(b) != string(goodBytes) {
		t.Error("the link's target changed")
	}
	got := w.get()
	if len(got) != 2 || !strings.Contains(got[0], "moved 18 corrupt records aside, never to be sent") || !strings.Contains(got[1], "left 1 records of a newer install-metrics") {
		t.Errorf("warnings %q, want one for the corrupt records and one for the newer", got)
	}
	// The next TakeOver warns about nothing new.
	die(es[0])
	if es := takeAll(t, j); len(es) != 1 {
		t.Errorf("second TakeOver: %d entries", len(es))
	}
	if got := w.get(); len(got) != 3 {
		t.Errorf("second TakeOver warned again about the corrupt ones: %q", got[2:])
	}
}

func TestHostileLockFiles(t *testing.T) {
	j, w := open(t, Config{})
	target := filepath.Join(t.TempDir(), "target")
	must(t, os.WriteFile(target, []byte("keep"), 0o644))
	var want []string
	for _, replace := range []func(path string) error{
		func(p string) error { return os.Symlink(target, p) },
		func(p string) error { return os.Symlink(filepath.Join(t.TempDir(), "missing"), p) },
		mkfifo,
		func(p string) error { return os.Mkdir(p, 0o700) },
	} {
		e := begin(t, j)
		must(t, e.Complete(endInv())) // a record file, which outlives its lock file
		die(e)
		must(t, os.Remove(j.lockPath(e.ID())))
		must(t, replace(j.lockPath(e.ID())))
		want = append(want, e.ID())
	}
	var got []string
	for _, e := range takeAll(t, j) {
		got = append(got, e.ID())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("taken mismatch (-want +got):\n%s", diff)
	}
	if b, err := os.ReadFile(target); err != nil || string(b) != "keep" {
		t.Errorf("the link's target changed: %q, %v", b, err)
	}
	if got := w.get(); len(got) != 0 {
		t.Errorf("warnings: %q", got)
	}
}

func TestLimits(t *testing.T) {
	clock := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	j, w := open(t, Config{Now: now, Limits: Limits{MaxEntries: 3, MaxAge: 48 * time.Hour}})
	var ids []string
	base := clock
	for i := range 6 {
		clock = base.Add(time.Duration(i) * time.Hour)
		if i == 0 {
			clock = base.Add(-72 * time.Hour) // older than MaxAge
		}
		e := begin(t, j)
		ids = append(ids, e.ID())
		die(e)
	}
	clock = base.Add(10 * time.Hour) // only ids[0] is older than 48 h
	live := begin(t, j)              // counted, never dropped
	defer live.Close()
	// Left-overs of dead processes: a temporary file, a lock without a record.
	tmp := filepath.Join(j.dir, ".tmp-"+ids[1]+"-1")
	must(t, os.WriteFile(tmp, []byte("{"), 0o600))
	must(t, os.Chtimes(tmp, clock.Add(-2*time.Hour), clock.Add(-2*time.Hour)))
	orphan := newID(clock.Add(-time.Hour))
	must(t, os.WriteFile(j.lockPath(orphan), nil, 0o600))
	young := newID(clock)
	must(t, os.WriteFile(j.lockPath(young), nil, 0o600))

	var got []string
	for _, e := range takeAll(t, j) {
		got = append(got, e.ID())
	}
	// 7 records: ids[0] expires, then the oldest go until 3 remain (live included).
	if diff := cmp.Diff(ids[4:], got); diff != "" {
		t.Errorf("kept mismatch (-want +got):\n%s", diff)
	}
	want := []string{
		"dropped 1 unsent records older than 48h0m0s",
		"full (at most 3 records, 10240 KiB): dropped the 3 oldest unsent",
	}
	warns := w.get()
	if len(warns) != len(want) {
		t.Fatalf("warnings %q, want %q", warns, want)
	}
	for i := range want {
		if !strings.Contains(warns[i], want[i]) {
			t.Errorf("warning %q, want %q", warns[i], want[i])
		}
	}
	left := files(t, j)
	for _, gone := range []string{filepath.Base(tmp), orphan + ".lock", ids[0] + ".json", ids[0] + ".lock", ids[3] + ".json"} {
		if slices.Contains(left, gone) {
			t.Errorf("%s was not removed", gone)
		}
	}
	if !slices.Contains(left, young+".lock") {
		t.Error("a fresh lock without a record (a Begin under way) was removed")
	}
}

func TestCorruptCopiesAreBounded(t *testing.T) {
	clock := time.Now()
	j, _ := open(t, Config{Now: func() time.Time { return clock }, Limits: Limits{MaxAge: time.Hour}})
	must(t, os.MkdirAll(j.dir, 0o700))
	old := newID(clock.Add(-2 * time.Hour))
	must(t, os.WriteFile(filepath.Join(j.dir, old+".corrupt"), nil, 0o600))
	var recent []string
	for i := range maxCorrupt + 5 {
		id := newID(clock.Add(time.Duration(i-200) * time.Second))
		recent = append(recent, id+".corrupt")
		must(t, os.WriteFile(filepath.Join(j.dir, id+".corrupt"), nil, 0o600))
	}
	takeAll(t, j)
	if diff := cmp.Diff(recent[5:], withSuffix(files(t, j), ".corrupt")); diff != "" {
		t.Errorf("corrupt copies kept mismatch (-want +got):\n%s", diff)
	}
}

func TestDeferBeginSync(t *testing.T) {
	j, _ := open(t, Config{DeferBeginSync: true})
	e := begin(t, j)
	onDisk(t, j, e.ID()) // in place when Begin returns
	must(t, e.Synced())
	must(t, e.Synced()) // once more: at once
	// The next write waits for the sync (goleak checks the goroutine ended).
	e2 := begin(t, j)
	must(t, e2.Complete(endInv()))
	st, _, err := j.read(e2.ID())
	must(t, err)
	if st.Seq != 2 || st.Provisional {
		t.Errorf("after Complete: seq %d, provisional %v", st.Seq, st.Provisional)
	}
	must(t, e.Close())
	must(t, e2.Close())
	e3 := begin(t, j)
	must(t, e3.Close()) // Close waits for it too
}

// TestSamePath: a lock held on a file that was removed, or replaced by
// another at its path, is not the entry's lock (TakeOver and Begin then
// skip or retry instead of taking a record someone else may hold).
func TestSamePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	must(t, os.WriteFile(path, nil, 0o600))
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	fd := int(f.Fd())
	if !samePath(fd, path) {
		t.Error("the file at its own path is not the same")
	}
	must(t, os.Remove(path))
	if samePath(fd, path) {
		t.Error("a removed file is the same")
	}
	must(t, os.WriteFile(path, nil, 0o600))
	if samePath(fd, path) {
		t.Error("a replaced file is the same")
	}
}

// BeginSyncDelay: the record is in place when Begin returns; Synced runs
// the fsyncs at once if they are not due; a write before the delay
// supersedes them, and Close of a record that is kept makes it durable
// without waiting for the delay (goleak checks no sync is left running).
func TestBeginSyncDelay(t *testing.T) {
	const delay = 80 * time.Millisecond
	j, _ := open(t, Config{BeginSyncDelay: delay})
	start := time.Now()
	e := begin(t, j)
	onDisk(t, j, e.ID()) // in place when Begin returns
	must(t, e.Synced())  // runs the fsyncs now
	if d := time.Since(start); d >= delay {
		t.Errorf("Synced took %v: it waited for the delay instead of syncing now", d)
	}
	must(t, e.Close())
	eLate := begin(t, j)
	time.Sleep(2 * delay) // the fsyncs ran on their own
	must(t, eLate.Synced())
	must(t, eLate.Close())

	e2 := begin(t, j)
	start = time.Now()
	must(t, e2.Complete(endInv())) // before the delay: the sync is superseded
	if d := time.Since(start); d >= delay {
		t.Errorf("Complete took %v: it waited for the delayed sync instead of superseding it", d)
	}
	st, _, err := j.read(e2.ID())
	must(t, err)
	if st.Seq != 2 || st.Provisional {
		t.Errorf("after Complete: seq %d, provisional %v", st.Seq, st.Provisional)
	}
	must(t, e2.Close())
	e3 := begin(t, j)
	start = time.Now()
	must(t, e3.Close())
	if d := time.Since(start); d >= delay {
		t.Errorf("Close took %v, want it not to wait for the delay", d)
	}
}

// An empty record is a Begin that died between creating the record and
// its one write: the installer never started, so there is no run. It is
// removed with its lock file, without a warning and without a copy.
func TestTakeOverUnwrittenRecord(t *testing.T) {
	j, w := open(t, Config{})
	e := begin(t, j)
	die(e)
	must(t, os.WriteFile(j.recordPath(e.ID()), nil, 0o600))
	if taken := takeAll(t, j); len(taken) != 0 {
		t.Errorf("took %d records, want none", len(taken))
	}
	if got := w.get(); len(got) != 0 {
		t.Errorf("warnings %q, want none", got)
	}
	if left := files(t, j); len(left) != 0 {
		t.Errorf("left %v, want an empty journal", left)
	}
}

// onDisk is the entry's state as a TakeOver would read it: the record
// file's, or the newest of the lock file's slots when newer or alone.
func onDisk(t *testing.T, j *Journal, id string) state {
	t.Helper()
	f, err := os.Open(j.lockPath(id))
	must(t, err)
	defer f.Close()
	slot, _, _, inSlot, _ := j.readSlots(int(f.Fd()), id)
	st, _, err := j.read(id)
	switch {
	case errors.Is(err, os.ErrNotExist) && inSlot:
		return slot
	case err != nil:
		t.Fatalf("no state of %s on disk: %v", id, err)
	case inSlot && slot.Seq > st.Seq:
		return slot
	}
	return st
}
