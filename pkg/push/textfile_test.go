package push

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/install-metrics/install-metrics/internal/testenv"
	"github.com/install-metrics/install-metrics/pkg/metrics"
	"github.com/install-metrics/install-metrics/pkg/metrics/metricstest"
	"github.com/install-metrics/install-metrics/pkg/show"
	"github.com/install-metrics/install-metrics/pkg/sink"
	"github.com/install-metrics/install-metrics/pkg/sink/gateway/gatewaytest"
	"github.com/install-metrics/install-metrics/pkg/sink/textfile"
)

func contextBackground() context.Context { return context.Background() }

var fixedNow = func() time.Time { return time.Date(2026, 11, 23, 18, 30, 0, 0, time.UTC) }

func readFile(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// readFiles returns the textfile at path and its histogram shards, by path.
func readFiles(t *testing.T, path string) map[string]string {
	t.Helper()
	files, err := textfile.Files(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range files {
		out[f] = readFile(t, f)
	}
	return out
}

func stringsOf(files map[string][]byte) map[string]string {
	out := make(map[string]string, len(files))
	for p, data := range files {
		out[p] = string(data)
	}
	return out
}

func TestTextfileSumsAcrossInvocations(t *testing.T) {
	state := t.TempDir()
	s := newSender(t, Config{StateDir: state, Now: fixedNow})
	invs := metricstest.Invocations()
	for _, name := range []string{"create-cluster-success", "create-cluster-success", "create-cluster-bootstrap-failed", "destroy-cluster", "version"} {
		if rep := s.Send(t.Context(), invs[name]); len(rep.Warnings) != 0 || len(rep.Sent) != 1 {
			t.Fatalf("%s: %+v", name, warnings(rep))
		}
	}
	path := DefaultTextfile(state)
	files, err := textfile.Files(path)
	if err != nil {
		t.Fatal(err)
	}
	// A small textfile holds everything in metrics.prom (below
	// textfile.DefaultShardAt: one file, one fsync per run): golden
	// summed.prom. Beyond it the histograms move to their shards
	// (pkg/sink/textfile's shard tests).
	var names []string
	for _, f := range files {
		name := "summed" + strings.TrimPrefix(filepath.Base(f), "metrics")
		names = append(names, name)
		metricstest.Golden(t, "textfile/"+name, []byte(readFile(t, f)), *update)
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, want 0644 (node_exporter runs as another user)", f, fi.Mode().Perm())
		}
	}
	want := []string{"summed.prom"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	left, _ := filepath.Glob(filepath.Join(state, ".metrics.prom.tmp-*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// node_exporter's textfile collector reads the file through the same parser
// promtool uses; promtool's only complaint is the agreed one (no _total).
func TestTextfileReadableByPromtool(t *testing.T) {
	promtool := testenv.Tool(t, "promtool")
	state := t.TempDir()
	s := newSender(t, Config{StateDir: state})
	for _, inv := range metricstest.Invocations() {
		s.Send(t.Context(), inv)
	}
	files, err := textfile.Files(DefaultTextfile(state))
	if err != nil || len(files) == 0 {
		t.Fatalf("files %v: %v", files, err)
	}
	// Each file on its own, as node_exporter reads them.
	for i, f := range files {
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(readFile(t, f))
		out, err := cmd.CombinedOutput()
		if i > 0 { // a histogram shard
			if err != nil {
				t.Errorf("promtool %s: %v\n%s", f, err, out)
			}
			continue
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 3 {
			t.Fatalf("promtool: %v\n%s", err, out)
		}
		want := []string{
			`cluster_installation_duration counter metrics should have "_total" suffix`,
			`cluster_installation_invocation counter metrics should have "_total" suffix`,
			`cluster_installation_modification counter metrics should have "_total" suffix`,
		}
		if diff := cmp.Diff(want, strings.Split(strings.TrimSpace(string(out)), "\n")); diff != "" {
			t.Errorf("promtool findings mismatch (-want +got):\n%s", diff)
		}
	}
}

func TestTextfileKeepsOtherFamilies(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "node.prom")
	other := "# HELP backup_last_success_timestamp_seconds Last backup.\n# TYPE backup_last_success_timestamp_seconds gauge\nbackup_last_success_timestamp_seconds{host=\"a\"} 1.7e+09\n"
	if err := os.WriteFile(path, []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	s := newSender(t, Config{}, "file://"+path)
	s.Send(t.Context(), testInv())
	if got := readFile(t, path); !strings.Contains(got, other) || !strings.Contains(got, `cluster_installation_invocation{`) {
		t.Errorf("file:\n%s", got)
	}
}

func TestTextfileCorruptIsMovedAside(t *testing.T) {
	for name, content := range map[string]string{
		"garbage":    "this is not { exposition\x00\n",
		"type clash": "# TYPE cluster_installation_invocation gauge\ncluster_installation_invocation 3\n",
		"negative":   "# TYPE cluster_installation_modification counter\ncluster_installation_modification{asset=\"x\"} -4\n",
		"truncated":  "# TYPE cluster_installation_modification counter\ncluster_installation_modification{asset=\"x",
	} {
		t.Run(name, func(t *testing.T) {
			state := t.TempDir()
			path := DefaultTextfile(state)
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			s := newSender(t, Config{StateDir: state, Now: fixedNow})
			rep := s.Send(t.Context(), testInv())
			got := warnings(rep)
			wantPrefix := "file://" + path + ": textfile " + path + " was corrupt ("
			wantSuffix := "): moved aside to metrics.prom.corrupt-20261123T183000Z, started a fresh one"
			if len(got) != 1 || !strings.HasPrefix(got[0], wantPrefix) || !strings.HasSuffix(got[0], wantSuffix) {
				t.Errorf("warnings %q", got)
			}
			if aside := readFile(t, path+".corrupt-20261123T183000Z"); aside != content {
				t.Errorf("moved-aside file holds %q", aside)
			}
			want, _ := textfile.Canonical(path, metrics.Samples(testInv(), metrics.SampleOptions{}))
			if diff := cmp.Diff(string(want[path]), readFile(t, path)); diff != "" {
				t.Errorf("fresh file mismatch (-want +got):\n%s", diff)
			}
			// A second corruption the same second gets its own name.
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			s.Send(t.Context(), testInv())
			if _, err := os.Stat(path + ".corrupt-20261123T183000Z-1"); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestTextfileSymlinkOrDirectoryIsRefused(t *testing.T) {
	for _, kind := range []string{"symlink", "directory"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "metrics.prom")
			target := filepath.Join(dir, "elsewhere.prom")
			if kind == "symlink" {
				if err := os.WriteFile(target, []byte("# precious\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(target, path); err != nil {
					t.Fatal(err)
				}
			} else if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
			s := newSender(t, Config{}, "file://"+path)
			if pre := s.Preflight(); len(pre) != 1 {
				t.Errorf("preflight %v", pre)
			}
			rep := s.Send(t.Context(), testInv())
			want := map[string]string{
				"symlink":   "textfile " + path + " is a symbolic link: install-metrics replaces the file atomically and does not follow links; name the real file in --metrics-sink; kept in the spool",
				"directory": "textfile " + path + " is a directory: name a file ending in .prom; kept in the spool",
			}[kind]
			if got := warnings(rep); len(got) != 1 || !strings.Contains(got[0], want) {
				t.Errorf("warnings %q, want %q", got, want)
			}
			if n := len(spoolEntries(t, s)); n != 1 {
				t.Errorf("%d spool entries", n)
			}
			if kind == "symlink" {
				if fi, err := os.Lstat(path); err != nil || fi.Mode()&os.ModeSymlink == 0 {
					t.Error("the link was replaced")
				}
				if readFile(t, target) != "# precious\n" {
					t.Error("the link's target was written")
				}
				// Fixed by the user: the next flush delivers the kept samples.
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
				if rep := s.Flush(t.Context()); rep.Flushed != 1 || !strings.Contains(readFile(t, path), "cluster_installation_invocation{") {
					t.Errorf("flush: %+v", rep)
				}
			}
		})
	}
}

// failingTemp is a temporary file whose writes fail like a full disk.
type failingTemp struct {
	*os.File
	err error
}

func (f failingTemp) Write([]byte) (int, error) { return 0, f.err }

func TestTextfileWriteFailuresKeepTheOldFile(t *testing.T) {
	for name, tc := range map[string]struct {
		create func(dir, pattern string) (textfile.TempFile, error)
		want   string
	}{
		"full disk": {
			create: func(dir, pattern string) (textfile.TempFile, error) {
				f, err := os.CreateTemp(dir, pattern)
				return failingTemp{f, syscall.ENOSPC}, err
			},
			want: "writing textfile %s: no space left on device; kept in the spool",
		},
		"read-only file system": {
			create: func(dir, pattern string) (textfile.TempFile, error) {
				return nil, &os.PathError{Op: "open", Path: filepath.Join(dir, "x"), Err: syscall.EROFS}
			},
			want: "cannot create a file in %s: read-only file system; kept in the spool",
		},
	} {
		t.Run(name, func(t *testing.T) {
			state := t.TempDir()
			path := DefaultTextfile(state)
			s := newSender(t, Config{StateDir: state})
			s.Send(t.Context(), testInv())
			before := readFile(t, path)
			s.newSink = func(u SinkURL, note func(error)) sink.Sink {
				tf := textfile.New(u.Path, fixedNow, note)
				tf.CreateTemp = tc.create
				return tf
			}
			rep := s.Send(t.Context(), testInv())
			arg := path
			if name == "read-only file system" {
				arg = state
			}
			if got := warnings(rep); len(got) != 1 || !strings.Contains(got[0], fmt.Sprintf(tc.want, arg)) {
				t.Errorf("warnings %q, want %q", got, fmt.Sprintf(tc.want, arg))
			}
			if readFile(t, path) != before {
				t.Error("the old file changed")
			}
			if left, _ := filepath.Glob(filepath.Join(state, ".metrics.prom.tmp-*")); len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}
			if n := len(spoolEntries(t, s)); n != 1 {
				t.Errorf("%d spool entries", n)
			}
		})
	}
}

func TestTextfileReadOnlyDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes into read-only directories; TestTextfileWriteFailuresKeepTheOldFile simulates it")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o755)
	s := newSender(t, Config{}, "file://"+filepath.Join(dir, "m.prom"))
	rep := s.Send(t.Context(), testInv())
	if got := warnings(rep); len(got) != 1 || !strings.Contains(got[0], "permission denied; kept in the spool") {
		t.Errorf("warnings %q", got)
	}
}

func TestTextfileConcurrentWriters(t *testing.T) {
	const writers = 100
	state := t.TempDir()
	var wg sync.WaitGroup
	reps := make([]*Report, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := newSender(t, Config{StateDir: state, Timeout: 60 * time.Second})
			reps[i] = s.Send(t.Context(), testInv())
		}()
	}
	wg.Wait()
	for i, r := range reps {
		if len(r.Warnings) != 0 {
			t.Errorf("writer %d: %q", i, warnings(r))
		}
	}
	assertCount(t, DefaultTextfile(state), writers)
}

// assertCount checks the invocation counter in a textfile.
func assertCount(t testing.TB, path string, want float64) {
	t.Helper()
	rec, err := show.LoadRecord(path)
	if err != nil {
		t.Fatal(err)
	}
	var got float64
	for _, s := range rec.Invocations {
		got += s.Count
	}
	if got != want {
		t.Errorf("%s counts %v invocations, want %v", path, got, want)
	}
}

// Separate processes, as when many CI jobs end at once on one machine.
func TestTextfileConcurrentProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	const procs, each = 4, 25
	path := filepath.Join(t.TempDir(), "metrics.prom")
	var wg sync.WaitGroup
	errs := make([]error, procs)
	outs := make([][]byte, procs)
	for i := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), helperEnv+"="+path, fmt.Sprintf("PUSH_TEST_WRITES=%d", each))
			outs[i], errs[i] = cmd.CombinedOutput()
		}()
	}
	wg.Wait()
	for i := range procs {
		if errs[i] != nil {
			t.Errorf("process %d: %v\n%s", i, errs[i], outs[i])
		}
	}
	assertCount(t, path, procs*each)
}

func TestTextfileLockedTooLongIsSpooled(t *testing.T) {
	state := t.TempDir()
	path := DefaultTextfile(state)
	if err := os.MkdirAll(state, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	const timeout = 200 * time.Millisecond
	s := newSender(t, Config{StateDir: state, Timeout: timeout})
	var rep *Report
	if d := timed(func() { rep = s.Send(t.Context(), testInv()) }); d > timeout+slack {
		t.Errorf("Send took %v", d)
	}
	want := "textfile " + path + " stayed locked by other install-metrics runs until --metrics-timeout ran out; kept in the spool"
	if got := warnings(rep); len(got) != 1 || !strings.Contains(got[0], want) {
		t.Errorf("warnings %q, want %q", got, want)
	}
	f.Close()
	// The next run writes its own samples and the kept ones.
	rep = s.Send(t.Context(), testInv())
	if rep.Flushed != 1 || len(rep.Warnings) != 0 {
		t.Errorf("next run: %+v %q", rep, warnings(rep))
	}
	assertCount(t, path, 2)
}

// --metrics-timeout 0: no network wait at all; the textfile is still written.
func TestTimeoutZero(t *testing.T) {
	b, err := gatewaytest.NewBlackhole()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	state := t.TempDir()
	s := newSender(t, Config{StateDir: state, Timeout: -1}, b.URL, "statsd+tcp://"+b.Addr, "file://"+DefaultTextfile(state))
	var rep *Report
	if d := timed(func() { rep = s.Send(t.Context(), testInv()) }); d > slack {
		t.Errorf("Send took %v", d)
	}
	if len(rep.Warnings) != 0 || len(rep.Spooled) != 2 || len(rep.Sent) != 1 {
		t.Errorf("report %+v %q", rep, warnings(rep))
	}
	if b.Accepted() != 0 {
		t.Error("a connection was made with --metrics-timeout 0")
	}
	assertCount(t, DefaultTextfile(state), 1)
	if n := len(spoolEntries(t, s)); n != 2 {
		t.Errorf("%d spool entries", n)
	}
}

func TestReadTextfileRejectsSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "t.prom")
	_ = os.WriteFile(target, nil, 0o644)
	link := filepath.Join(dir, "l.prom")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := textfile.Read(link); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("textfile.Read(link) = %v", err)
	}
}

// The in-place fast path and the full parse give the same file: after any
// sequence of runs it is exactly the canonical exposition of all samples.
func TestTextfileFastPathMatchesFullParse(t *testing.T) {
	invs := metricstest.Invocations()
	names := []string{"create-cluster-success", "destroy-cluster", "create-cluster-success", "version",
		"wait-for-install-complete-degraded", "create-cluster-success", "destroy-cluster", "hostile", "hostile",
		"create-cluster-bootstrap-failed", "version", "version"}
	state := t.TempDir()
	s := newSender(t, Config{StateDir: state})
	var all []metrics.Sample
	for i, name := range names {
		smp := metrics.Samples(invs[name], metrics.SampleOptions{})
		all = append(all, smp...)
		if rep := s.SendSamples(t.Context(), smp); len(rep.Warnings) != 0 {
			t.Fatal(warnings(rep))
		}
		want, err := textfile.Canonical(DefaultTextfile(state), all)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(stringsOf(want), readFiles(t, DefaultTextfile(state))); diff != "" {
			t.Fatalf("after run %d (%s) mismatch (-want +got):\n%s", i, name, diff)
		}
	}
}

// An edited file (the checksum no longer matches) is read in full: the edit
// is kept, the counts are right.
func TestTextfileEditedFileIsReparsed(t *testing.T) {
	state := t.TempDir()
	path := DefaultTextfile(state)
	s := newSender(t, Config{StateDir: state})
	s.Send(t.Context(), testInv())
	edited := strings.Replace(readFile(t, path), `platform="aws",result="Success",return="0",target="cluster",version="4.16"} 1`,
		`platform="aws",result="Success",return="0",target="cluster",version="4.16"} 41`, 1)
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	s.Send(t.Context(), testInv())
	assertCount(t, path, 42)
	if !textfile.Verified([]byte(readFile(t, path))) {
		t.Error("the rewritten file has no valid checksum")
	}
}
