package journal

import (
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"testing"
	"time"

	"github.com/install-metrics/install-metrics/pkg/record"
)

// A record taken over while still provisional, after Ended, is the run
// as the installer ended it (exit code, result, wall time), not
// Interrupted; without Ended, or with a torn or foreign line, it stays
// Interrupted with exit code -1.
func TestTakeOverAfterEnded(t *testing.T) {
	for _, tc := range []struct {
		name    string
		write   func(t *testing.T, e *Entry, lock string)
		want    record.Result
		wantRC  int
		wantSig string
	}{
		{name: "ended", want: record.Failed, wantRC: 3, write: func(t *testing.T, e *Entry, _ string) {
			if err := e.Ended(Ending{ExitCode: 3, Result: record.Failed, Wall: 90 * time.Second}); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "killed by a signal", want: record.Interrupted, wantRC: 143, wantSig: "terminated", write: func(t *testing.T, e *Entry, _ string) {
			if err := e.Ended(Ending{ExitCode: 143, Result: record.Interrupted, Wall: time.Second, Signal: "terminated"}); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "not ended", want: record.Interrupted, wantRC: -1, write: func(*testing.T, *Entry, string) {}},
		{name: "torn", want: record.Interrupted, wantRC: -1, write: func(t *testing.T, e *Entry, lock string) {
			if err := e.Ended(Ending{ExitCode: 0, Result: record.Success, Wall: time.Second}); err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(lock)
			data[slotSize+len(data[slotSize:])/2] ^= 1 // Ended's slot
			if err := os.WriteFile(lock, data, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "foreign", want: record.Interrupted, wantRC: -1, write: func(t *testing.T, _ *Entry, lock string) {
			f, err := os.OpenFile(lock, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteAt([]byte("state 00000000 {\"version\":1,\"exit\":0,\"result\":\"Success\"}\n"), slotSize); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := Open(t.TempDir(), Config{})
			e, err := j.Begin(record.Invocation{Command: "create", Target: "cluster", OS: "linux", Platform: "aws"}, []string{"file:///tmp/m.prom"})
			if err != nil {
				t.Fatal(err)
			}
			tc.write(t, e, j.lockPath(e.ID()))
			e.release() // as a SIGKILL leaves it
			taken, err := j.TakeOver(t.Context())
			if err != nil || len(taken) != 1 {
				t.Fatalf("took %d records: %v", len(taken), err)
			}
			defer taken[0].Close()
			st := taken[0].State()
			inv := st.Invocation
			if inv.Result != tc.want || inv.ExitCode != tc.wantRC || inv.Signal != tc.wantSig || st.Provisional != (tc.wantRC < 0) {
				t.Errorf("result %s, exit %d, signal %q, provisional %v; want %s, %d, %q", inv.Result, inv.ExitCode, inv.Signal, st.Provisional, tc.want, tc.wantRC, tc.wantSig)
			}
			if tc.wantRC == 3 && inv.Wall != 90*time.Second {
				t.Errorf("wall %v, want 90s", inv.Wall)
			}
		})
	}
}

// Ended refuses values outside the closed sets.
func TestEndedChecks(t *testing.T) {
	j := Open(t.TempDir(), Config{})
	e, err := j.Begin(record.Invocation{Command: "create", Target: "cluster"}, []string{"file:///tmp/m.prom"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, bad := range []Ending{{ExitCode: 256, Result: record.Success}, {Result: "Weird"}, {Result: record.Success, Wall: -1}, {Result: record.Success, Signal: "KILL\n"}} {
		if err := e.Ended(bad); err == nil {
			t.Errorf("Ended(%+v) = nil", bad)
		}
	}
}

// Note completes the run with one pwrite into the lock file: a record
// taken over after it is the complete run (stages, version, result), and
// the record's next write holds it too; after a sink left Pending it is
// refused, like Complete.
func TestNote(t *testing.T) {
	j := Open(t.TempDir(), Config{})
	e, err := j.Begin(record.Invocation{Command: "create", Target: "cluster", OS: "linux", Platform: "aws"}, []string{"file:///tmp/m.prom", "http://127.0.0.1:9091"})
	if err != nil {
		t.Fatal(err)
	}
	end := endInv()
	must(t, e.Ended(Ending{ExitCode: end.ExitCode, Result: record.Failed}))
	must(t, e.Note(end))
	e.release() // a SIGKILL now
	taken, err := j.TakeOver(t.Context())
	if err != nil || len(taken) != 1 {
		t.Fatalf("took %d records: %v", len(taken), err)
	}
	st := taken[0].State()
	if st.Provisional || st.Invocation.Result != end.Result || st.Invocation.Version != end.Version || len(st.Invocation.Stages) != len(end.Stages) {
		t.Errorf("taken over: provisional %v, %+v; want the noted run %+v", st.Provisional, st.Invocation, end)
	}
	must(t, taken[0].Sending("http://127.0.0.1:9091")) // the record's next write
	onDisk, _, err := j.read(st.ID)
	must(t, err)
	if onDisk.Provisional || onDisk.Invocation.Version != end.Version {
		t.Errorf("the record's next write holds provisional %v, version %q", onDisk.Provisional, onDisk.Invocation.Version)
	}
	if err := taken[0].Note(end); !errors.Is(err, ErrTransition) {
		t.Errorf("Note after Sending = %v, want ErrTransition", err)
	}
	must(t, taken[0].Close())
}

// A lock file of the format before the slots (an "ended" line at its
// start, the provisional state in the record file) is still read: the
// run is sent as it ended.
func TestTakeOverLegacyEndedLine(t *testing.T) {
	j := Open(t.TempDir(), Config{})
	e, err := j.Begin(record.Invocation{Command: "create", Target: "cluster", OS: "linux", Platform: "aws"}, []string{"file:///tmp/m.prom"})
	if err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	must(t, e.write(e.st.clone())) // the provisional record file of the old format
	e.mu.Unlock()
	data := []byte(`{"exit":3,"result":"Failed","wall":90000000000}`)
	line := fmt.Sprintf("%s%08x %s\n", endedPrefix, crc32.Checksum(data, crcTable()), data)
	must(t, os.WriteFile(j.lockPath(e.ID()), []byte(line), 0o600)) // the slots gone, as in the old format
	e.release()
	taken, err := j.TakeOver(t.Context())
	if err != nil || len(taken) != 1 {
		t.Fatalf("took %d records: %v", len(taken), err)
	}
	defer taken[0].Close()
	if inv := taken[0].State().Invocation; inv.Result != record.Failed || inv.ExitCode != 3 {
		t.Errorf("result %s, exit %d; want Failed, 3", inv.Result, inv.ExitCode)
	}
}
