package journal

import (
	"encoding/json"
	"hash/crc32"
	"testing"
	"time"
)

// TestTakenOverWritesBesideTheNewestSlot: an entry taken over writes (its
// tombstone) into the slot that does not hold the state it read, so a
// write torn by a power loss leaves that state, never an older one.
func TestTakenOverWritesBesideTheNewestSlot(t *testing.T) {
	j, _ := open(t, Config{BeginSyncDelay: time.Hour})
	e := begin(t, j)              // slot 0, write 1; its fsync superseded below
	must(t, e.Complete(endInv())) // the record, write 2
	must(t, e.Note(endInv()))     // slot 1, write 3
	must(t, e.Note(endInv()))     // slot 0, write 4
	die(e)
	es := takeAll(t, j)
	if len(es) != 1 || es[0].st.Seq != 4 {
		t.Fatalf("took %d entries, want the one at write 4", len(es))
	}
	te := es[0]
	te.mu.Lock()
	tomb := te.st.clone()
	for i := range tomb.Sinks {
		tomb.Sinks[i].Status = Done
	}
	must(t, te.writeLock(tomb, noSync))
	te.mu.Unlock()
	buf := make([]byte, slotSize)
	for k, want := range []int64{4, 5} {
		line, ok := lineAt(te.lockFd, buf, int64(k*slotSize))
		data, valid := checkedLine(line, statePrefix, crc32.ChecksumIEEE)
		if !ok || !valid {
			t.Fatalf("slot %d holds no valid state", k)
		}
		var st state
		must(t, json.Unmarshal([]byte(data), &st))
		if st.Seq != want {
			t.Errorf("slot %d holds write %d, want %d", k, st.Seq, want)
		}
	}
}

// TestProgressInTheLockFile: Progress makes no record file, and what it
// wrote is what a TakeOver sends after the owner's death.
func TestProgressInTheLockFile(t *testing.T) {
	j, _ := open(t, Config{})
	e := begin(t, j)
	must(t, e.Progress(progressInv()))
	if got := files(t, j); len(got) != 1 || got[0] != e.ID()+".lock" {
		t.Fatalf("files %q, want the lock file alone", got)
	}
	die(e)
	es := takeAll(t, j)
	if len(es) != 1 {
		t.Fatalf("took %d entries", len(es))
	}
	if st := es[0].State(); !st.Provisional || len(st.Invocation.Stages) != len(progressInv().Stages) {
		t.Errorf("taken over as %+v, want Progress's stages", st)
	}
}
