package journal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"github.com/install-metrics/install-metrics/pkg/record"
)

// The test binary also plays the processes of the crash and concurrency
// tests: with helperEnv set, TestMain runs the named helper instead of the
// tests (like golang/go's os/exec tests and pkg/wrap's).
const (
	helperEnv = "GO_JOURNAL_HELPER"
	// helperTimeout bounds every helper process: none may outlive a test.
	helperTimeout = 60 * time.Second
)

var helpers = map[string]func(args []string) int{
	"runs":     helperRuns,
	"takeover": helperTakeOver,
}

func TestMain(m *testing.M) {
	if name := os.Getenv(helperEnv); name != "" {
		h, ok := helpers[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "unknown helper %q\n", name)
			os.Exit(100)
		}
		os.Exit(h(os.Args[1:]))
	}
	goleak.VerifyTestMain(m)
}

// The sinks of the test records: a textfile and a gateway, as pkg/push
// writes them.
const (
	sinkFile    = "file:///var/lib/node_exporter/install-metrics.prom"
	sinkGateway = "https://gateway.example:9091/metrics/job/install-metrics"
)

var testSinks = []string{sinkFile, sinkGateway}

// startInv is what the wrapper knows before the installer starts.
func startInv() record.Invocation {
	return record.Invocation{
		Command: "create", Target: "cluster", OS: "linux", Platform: "aws", CI: true,
		Start: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC),
	}
}

// progressInv is the run half-way: version known, two stages entered.
func progressInv() record.Invocation {
	inv := startInv()
	inv.Version = "4.16.20"
	inv.Stages = []record.Stage{
		{Name: record.Provisioning, Start: inv.Start, End: inv.Start.Add(time.Minute), Finished: true},
		{Name: record.Infrastructure, Start: inv.Start.Add(time.Minute), End: inv.Start.Add(2 * time.Minute)},
	}
	return inv
}

// endInv is the run ended: bootstrap failed, exit code 5.
func endInv() record.Invocation {
	inv := progressInv()
	inv.Stages[1].Finished = true
	inv.Stages = append(inv.Stages, record.Stage{Name: record.Bootstrap, Start: inv.Start.Add(2 * time.Minute), End: inv.Start.Add(9 * time.Minute)})
	inv.Result, inv.ExitCode, inv.Wall = record.BootstrapFailed, 5, 9*time.Minute
	return inv
}

// warnings collects what a journal warns about.
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) add(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, err.Error())
}

func (w *warnings) get() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.list...)
}

// open returns a journal in a fresh directory whose warnings are collected.
func open(t testing.TB, cfg Config) (*Journal, *warnings) {
	t.Helper()
	return openIn(t, filepath.Join(t.TempDir(), "journal"), cfg)
}

func openIn(t testing.TB, dir string, cfg Config) (*Journal, *warnings) {
	t.Helper()
	w := &warnings{}
	if cfg.Warn == nil {
		cfg.Warn = w.add
	}
	return Open(dir, cfg), w
}

func begin(t testing.TB, j *Journal) *Entry {
	t.Helper()
	e, err := j.Begin(startInv(), testSinks)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// die leaves an entry as a SIGKILLed owner would: record and lock file in
// place, lock released.
func die(e *Entry) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.release()
}

// takeAll is TakeOver that fails the test on an error.
func takeAll(t testing.TB, j *Journal) []*Entry {
	t.Helper()
	es, err := j.TakeOver(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, e := range es {
			_ = e.Close()
		}
	})
	return es
}

// files lists the journal directory's names but the spare lock file's
// (spare tells whether there is one).
func files(t testing.TB, j *Journal) []string {
	t.Helper()
	des, err := os.ReadDir(j.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	must(t, err)
	var out []string
	for _, de := range des {
		if de.Name() != spareName {
			out = append(out, de.Name())
		}
	}
	return out
}

// spare returns the spare lock file's inode, 0 when there is none.
func spare(t testing.TB, j *Journal) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(j.sparePath(), &st); err != nil {
		if !errors.Is(err, unix.ENOENT) {
			t.Fatal(err)
		}
		return 0
	}
	return st.Ino
}

// withSuffix keeps the names that end in suffix.
func withSuffix(names []string, suffix string) []string {
	var out []string
	for _, n := range names {
		if strings.HasSuffix(n, suffix) {
			out = append(out, n)
		}
	}
	return out
}

func mkfifo(path string) error { return unix.Mkfifo(path, 0o600) }
