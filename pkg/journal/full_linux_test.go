package journal

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/install-metrics/install-metrics/internal/testenv"
)

// TestFullDisk: on a full file system Begin fails with one clear line and
// leaves nothing behind, unless a finished run left its lock file (the
// spare: its blocks are allocated already), and a change to an existing
// record fails while the record stays as it was (then TakeOver still
// finds it).
func TestFullDisk(t *testing.T) {
	var j *Journal
	var w *warnings
	var e *Entry
	dir := t.TempDir()
	testenv.FullTmpfs(t, dir, "0700", "needs root or CAP_SYS_ADMIN", func() {
		j, w = openIn(t, filepath.Join(dir, "journal"), Config{})
		e = begin(t, j)
		must(t, e.Complete(endInv()))
		must(t, e.Sending(sinkGateway))
		must(t, begin(t, j).Settle(testSinks...))
	})
	before, err := os.ReadFile(j.recordPath(e.ID()))
	must(t, err)

	onSpare, err := j.Begin(startInv(), testSinks)
	if err != nil {
		t.Fatalf("Begin on a full disk with a spare: %v", err)
	}
	_, err = j.Begin(startInv(), testSinks) // the spare is in use
	if !errors.Is(err, syscall.ENOSPC) || strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "writing journal record ") {
		t.Errorf("Begin on a full disk: %v, want one line \"writing journal record ...: no space left on device\"", err)
	}
	must(t, onSpare.Settle(testSinks...))
	if err := e.Done(sinkGateway); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Done on a full disk: %v", err)
	}
	if st := e.State(); st.Status(sinkGateway) != Sending {
		t.Errorf("a failed write changed the entry: %+v", st.Sinks)
	}
	after, err := os.ReadFile(j.recordPath(e.ID()))
	must(t, err)
	if string(after) != string(before) {
		t.Error("a failed write changed the record")
	}
	must(t, e.Close())
	if got := files(t, j); len(got) != 2 {
		t.Errorf("files %q, want only the record and its lock", got)
	}
	es := takeAll(t, j)
	if len(es) != 1 || es[0].State().Status(sinkGateway) != Sending {
		t.Errorf("TakeOver on a full disk: %d entries", len(es))
	}
	if got := w.get(); len(got) != 0 {
		t.Errorf("warnings: %q", got)
	}
}
