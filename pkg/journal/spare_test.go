package journal

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/install-metrics/install-metrics/pkg/record"
)

// TestSpareReused: a finished run leaves its lock file as the spare, the
// next Begin takes it (no file created, none removed), and nothing the
// former run wrote into its slots is read as the new entry's state, even
// a slot with a higher write count.
func TestSpareReused(t *testing.T) {
	j, w := open(t, Config{})
	first := begin(t, j)
	must(t, first.Note(endInv())) // slot 1, write count 2
	must(t, first.Settle(testSinks...))
	ino := spare(t, j)
	if ino == 0 || len(files(t, j)) != 0 {
		t.Fatalf("a finished run left %q and spare inode %d, want only the spare", files(t, j), ino)
	}

	e := begin(t, j)
	if got := files(t, j); !slices.Equal(got, []string{e.ID() + ".lock"}) {
		t.Fatalf("files %q, want only the new lock file", got)
	}
	if spare(t, j) != 0 || inode(t, j.lockPath(e.ID())) != ino {
		t.Fatal("Begin did not take the spare")
	}
	sts, err := j.Peek()
	must(t, err)
	if len(sts) != 1 || sts[0].ID != e.ID() || !sts[0].Provisional {
		t.Fatalf("Peek: %+v, want the new provisional entry alone", sts)
	}

	// Its owner dies: TakeOver takes it as Begin wrote it, not the Note of
	// the run before, and a taken-over entry's lock file is removed.
	die(e)
	es := takeAll(t, j)
	if len(es) != 1 || es[0].ID() != e.ID() {
		t.Fatalf("TakeOver took %d entries, want the new one", len(es))
	}
	want := startInv()
	want.Result, want.ExitCode = record.Interrupted, -1
	if st := es[0].State(); !st.Provisional || !cmp.Equal(want, st.Invocation) {
		t.Errorf("taken over as %+v, want Begin's provisional state", st)
	}
	must(t, es[0].Settle(testSinks...))
	if got, ino := files(t, j), spare(t, j); len(got) != 0 || ino != 0 {
		t.Errorf("after the taken-over entry: files %q, spare inode %d, want none", got, ino)
	}
	if got := w.get(); len(got) != 0 {
		t.Errorf("warnings: %q", got)
	}
}

// TestSpareRenamedBeforeItsFirstWrite: a Begin killed between taking the
// spare and writing its slot leaves a lock file with the former run's
// slots under a new id: an orphan that TakeOver neither takes nor, while
// it is young, removes.
func TestSpareRenamedBeforeItsFirstWrite(t *testing.T) {
	j, w := open(t, Config{})
	e := begin(t, j)
	must(t, e.Settle(testSinks...))
	id := newID(j.cfg.Now())
	must(t, os.Rename(j.sparePath(), j.lockPath(id)))
	if es := takeAll(t, j); len(es) != 0 {
		t.Fatalf("took %d entries from a lock file holding another id's slots", len(es))
	}
	if got := files(t, j); !slices.Equal(got, []string{id + ".lock"}) {
		t.Errorf("files %q, want the young orphan kept", got)
	}
	if got := w.get(); len(got) != 0 {
		t.Errorf("warnings: %q", got)
	}
}

// TestHostileSpare: a spare that is not a regular file of one link is
// never written through; Begin removes it and makes a lock file of its
// own, or takes another id when it cannot remove it.
func TestHostileSpare(t *testing.T) {
	target := filepath.Join(t.TempDir(), "target")
	must(t, os.WriteFile(target, []byte("keep"), 0o600))
	for name, plant := range map[string]func(path string) error{
		"a symbolic link":    func(p string) error { return os.Symlink(target, p) },
		"a dangling link":    func(p string) error { return os.Symlink(filepath.Join(t.TempDir(), "missing"), p) },
		"a FIFO":             mkfifo,
		"an empty directory": func(p string) error { return os.Mkdir(p, 0o700) },
		"a full directory": func(p string) error {
			return errors.Join(os.Mkdir(p, 0o700), os.WriteFile(filepath.Join(p, "x"), nil, 0o600))
		},
		"a second hard link":  func(p string) error { return os.Link(target, p) },
		"a file of ours, too": func(p string) error { return os.WriteFile(p, nil, 0o600) },
	} {
		j, _ := open(t, Config{})
		must(t, os.MkdirAll(j.dir, 0o700))
		must(t, plant(j.sparePath()))
		e, err := j.Begin(startInv(), testSinks)
		if err != nil {
			t.Errorf("%s: Begin: %v", name, err)
			continue
		}
		var st unix.Stat_t
		must(t, unix.Lstat(j.lockPath(e.ID()), &st))
		if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Nlink != 1 {
			t.Errorf("%s: the lock file is mode %o with %d links", name, st.Mode, st.Nlink)
		}
		if sts, err := j.Peek(); err != nil || len(sts) != 1 || sts[0].ID != e.ID() {
			t.Errorf("%s: Peek %+v, %v", name, sts, err)
		}
		must(t, e.Settle(testSinks...))
	}
	if b, err := os.ReadFile(target); err != nil || string(b) != "keep" {
		t.Errorf("a planted spare's target changed: %q, %v", b, err)
	}
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	must(t, unix.Lstat(path, &st))
	return st.Ino
}

// TestNewLockForARecordLeavesAHeldLock: a TakeOver that makes a lost lock
// file anew (from the spare, say) and finds it locked at once leaves it to
// whoever holds it (another TakeOver that found the record is sending it);
// only a fresh id's lock file, still held after the retries, is removed.
func TestNewLockForARecordLeavesAHeldLock(t *testing.T) {
	for _, fresh := range []bool{false, true} {
		j, _ := open(t, Config{})
		must(t, begin(t, j).Settle(testSinks...)) // the spare
		holder, err := unix.Open(j.sparePath(), unix.O_RDWR|unix.O_CLOEXEC, 0)
		must(t, err)
		must(t, unix.Flock(holder, unix.LOCK_EX|unix.LOCK_NB))
		id := newID(j.cfg.Now())
		if _, err := j.newLock(id, fresh); !errors.Is(err, errLost) {
			t.Errorf("fresh %v: newLock of a held file: %v, want errLost", fresh, err)
		}
		_, err = os.Lstat(j.lockPath(id))
		if kept := err == nil; kept == fresh {
			t.Errorf("fresh %v: the held lock file kept: %v", fresh, kept)
		}
		_ = unix.Close(holder)
	}
}

// TestHostileSpareNeverGetsAnID: a spare that cannot be removed (a
// directory with a file in it) is never renamed to a lock file's name, so
// a record whose lock file was lost is still taken over, and Begin leaves
// no lock file it cannot remove.
func TestHostileSpareNeverGetsAnID(t *testing.T) {
	j, w := open(t, Config{})
	e := begin(t, j)
	must(t, e.Complete(endInv()))
	die(e)
	must(t, os.Remove(j.lockPath(e.ID())))
	must(t, os.Mkdir(j.sparePath(), 0o700))
	must(t, os.WriteFile(filepath.Join(j.sparePath(), "x"), nil, 0o600))
	es := takeAll(t, j)
	if len(es) != 1 || es[0].ID() != e.ID() {
		t.Fatalf("took %d entries, want the record whose lock file was lost", len(es))
	}
	must(t, es[0].Settle(testSinks...))
	b, err := j.Begin(startInv(), testSinks)
	must(t, err)
	must(t, b.Settle(testSinks...))
	for _, n := range files(t, j) {
		t.Errorf("left %s", n)
	}
	if got := w.get(); len(got) != 0 {
		t.Errorf("warnings: %q", got)
	}
}
