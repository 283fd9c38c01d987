package stages

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const testPoll = 5 * time.Millisecond

// lineRecorder is a Tracker feed that remembers the lines, for Follow's tests.
type lineRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *lineRecorder) line(l []byte) {
	r.mu.Lock()
	r.lines = append(r.lines, string(l))
	r.mu.Unlock()
}

func (r *lineRecorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...)
}

// waitFor polls until the recorder has n lines; bounded in time.
func (r *lineRecorder) waitFor(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(r.got()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("waited for %d lines, have %q", n, r.got())
		}
		time.Sleep(time.Millisecond)
	}
}

// follow runs Follow (or followLines when tr is nil) in the background;
// stop cancels it and returns its error.
func follow(t *testing.T, path string, offset int64, rec *lineRecorder, tr *Tracker) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		if tr != nil {
			done <- Follow(ctx, path, offset, tr, testPoll)
			return
		}
		done <- followLines(ctx, path, offset, rec.line, testPoll)
	}()
	return func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("Follow did not return after its context was cancelled")
			return nil
		}
	}
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestFollowFromOffset(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".openshift_install.log")
	appendTo(t, path, "old run 1\nold run 2\n")
	offset := Offset(path)
	var rec lineRecorder
	stop := follow(t, path, offset, &rec, nil)
	appendTo(t, path, "new 1\nnew ")
	rec.waitFor(t, 1)
	appendTo(t, path, "2\nlast without newline")
	rec.waitFor(t, 2)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"new 1", "new 2", "last without newline"}, rec.got()); diff != "" {
		t.Errorf("lines mismatch (-want +got):\n%s", diff)
	}
}

func TestFollowFileAndDirectoryAppearLater(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not", "yet")
	path := filepath.Join(dir, ".openshift_install.log")
	if got := Offset(path); got != 0 {
		t.Fatalf("Offset of a missing file = %d", got)
	}
	var rec lineRecorder
	stop := follow(t, path, 0, &rec, nil)
	time.Sleep(3 * testPoll)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	appendTo(t, path, "first\n")
	rec.waitFor(t, 1)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"first"}, rec.got()); diff != "" {
		t.Errorf("lines mismatch (-want +got):\n%s", diff)
	}
}

func TestFollowNoFileAtAll(t *testing.T) {
	var rec lineRecorder
	stop := follow(t, filepath.Join(t.TempDir(), "missing.log"), 0, &rec, nil)
	time.Sleep(2 * testPoll)
	if err := stop(); err != nil {
		t.Errorf("Follow of a file that never appeared: %v", err)
	}
}

func TestFollowReadsToEOFAfterCancel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	appendTo(t, path, "")
	var rec lineRecorder
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the installer already exited: read what is there and return
	appendTo(t, path, strings.Repeat("line\n", 1000)+"tail")
	if err := followLines(ctx, path, 0, rec.line, time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := rec.got(); len(got) != 1001 || got[1000] != "tail" {
		t.Errorf("got %d lines ending %q, want 1001 ending tail", len(got), got[len(got)-1])
	}
}

func TestFollowTruncated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	appendTo(t, path, "")
	var rec lineRecorder
	stop := follow(t, path, 0, &rec, nil)
	appendTo(t, path, "a long first line\n")
	rec.waitFor(t, 1)
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * testPoll)
	appendTo(t, path, "b\n")
	rec.waitFor(t, 2)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a long first line", "b"}, rec.got()); diff != "" {
		t.Errorf("lines mismatch (-want +got):\n%s", diff)
	}
}

func TestFollowReplaced(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "log")
	appendTo(t, path, "before\n")
	var rec lineRecorder
	stop := follow(t, path, Offset(path), &rec, nil)
	appendTo(t, path, "old file\n")
	rec.waitFor(t, 1)
	next := filepath.Join(dir, "log.new")
	appendTo(t, next, "new file 1\n")
	if err := os.Rename(next, path); err != nil {
		t.Fatal(err)
	}
	appendTo(t, path, "new file 2\n")
	rec.waitFor(t, 3)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"old file", "new file 1", "new file 2"}, rec.got()); diff != "" {
		t.Errorf("lines mismatch (-want +got):\n%s", diff)
	}
}

func TestFollowDeletedWhileWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	w, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var rec lineRecorder
	stop := follow(t, path, 0, &rec, nil)
	if _, err := w.WriteString("one\n"); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, 1)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteString("two\n"); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, 2)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"one", "two"}, rec.got()); diff != "" {
		t.Errorf("lines mismatch (-want +got):\n%s", diff)
	}
}

func TestFollowOffsetBeyondEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	appendTo(t, path, "replaced by a shorter file\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var rec lineRecorder
	if err := followLines(ctx, path, 1<<20, rec.line, testPoll); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"replaced by a shorter file"}, rec.got()); diff != "" {
		t.Errorf("lines mismatch (-want +got):\n%s", diff)
	}
}

func TestFollowDirectory(t *testing.T) {
	path := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Follow(ctx, path, 0, NewTracker(fixedNow), testPoll); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Follow of a directory: %v, want ErrNotRegular", err)
	}
	if got := Offset(path); got != 0 {
		t.Errorf("Offset of a directory = %d, want 0", got)
	}
}

// TestFollowClassifies follows a real log written line by line, as the
// installer would, and checks the Summary equals Classify's.
func TestFollowClassifies(t *testing.T) {
	raw, err := os.ReadFile(synthetic + "/terraform-4.5-create-success.log")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "log")
	appendTo(t, path, "time=\"2020-08-01T10:00:00Z\" level=fatal msg=\"an earlier run\"\n")
	tr := NewTracker(fixedNow)
	stop := follow(t, path, Offset(path), nil, tr)
	for l := range strings.SplitAfterSeq(string(raw), "\n") {
		appendTo(t, path, l)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	want, err := Classify(strings.NewReader(string(raw)), fixedNow, Exit{Known: true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, tr.Summary(Exit{Known: true})); diff != "" {
		t.Errorf("summary mismatch (-want +got):\n%s", diff)
	}
}

// TestFollowFinalReadIsBounded: when far behind as ctx ends (the installer
// wrote a lot just before it exited), Follow reads only the last FinalTail
// bytes, from a line boundary on, so the time it adds stays bounded.
func TestFollowFinalReadIsBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	line := strings.Repeat("d", 99) + "\n"
	var b strings.Builder
	b.WriteString("early line\n")
	for b.Len() < 3*FinalTail {
		b.WriteString(line)
	}
	b.WriteString("late 1\nlate 2 without newline")
	appendTo(t, path, b.String())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var rec lineRecorder
	if err := followLines(ctx, path, 0, rec.line, time.Hour); err != nil {
		t.Fatal(err)
	}
	got := rec.got()
	if n := len(got); n < 3 || got[n-2] != "late 1" || got[n-1] != "late 2 without newline" {
		t.Fatalf("the last lines are missing: %d lines, ending %q", n, got[max(0, n-2):])
	}
	if max := FinalTail/len(line) + 2; len(got) > max {
		t.Errorf("read %d lines after ctx was done, want at most %d (FinalTail)", len(got), max)
	}
	for _, l := range got[:len(got)-2] {
		if l != line[:len(line)-1] {
			t.Fatalf("a line cut at the skip was delivered: %q", l)
		}
	}
}

// TestFollowFinalReadAtLineStart: a skip that lands right after a newline
// loses no line.
func TestFollowFinalReadAtLineStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	tail := "kept 1\nkept 2\n"
	head := strings.Repeat("x", FinalTail) + "\n"
	// The last FinalTail bytes start right after head's newline.
	appendTo(t, path, head+strings.Repeat("y", FinalTail-len(tail)-1)+"\n"+tail)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var rec lineRecorder
	if err := followLines(ctx, path, 0, rec.line, time.Hour); err != nil {
		t.Fatal(err)
	}
	want := []string{strings.Repeat("y", DefaultMaxLine), "kept 1", "kept 2"}
	if diff := cmp.Diff(want, rec.got()); diff != "" {
		t.Errorf("lines mismatch (-want +got):\n%s", diff)
	}
}

// TestFollowFinalReadIgnoresLaterWrites: once ctx is done, what another
// process keeps appending is not waited for.
func TestFollowFinalReadIgnoresLaterWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	appendTo(t, path, "mine\n")
	w, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	stopWriter := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // another run that never stops writing
		defer wg.Done()
		chunk := []byte(strings.Repeat("other run\n", 10000))
		for {
			select {
			case <-stopWriter:
				return
			default:
			}
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}()
	defer func() { close(stopWriter); wg.Wait() }()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var mu sync.Mutex
	var first string
	go func() {
		done <- followLines(ctx, path, 0, func(l []byte) {
			mu.Lock()
			if first == "" {
				first = string(l)
			}
			mu.Unlock()
		}, testPoll)
	}()
	time.Sleep(20 * testPoll)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Follow did not return after its context was cancelled")
	}
	mu.Lock()
	defer mu.Unlock()
	if first != "mine" {
		t.Errorf("first line %q, want mine", first)
	}
}
