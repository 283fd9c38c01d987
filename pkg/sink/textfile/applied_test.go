package textfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/install-metrics/install-metrics/pkg/metrics"
	"github.com/install-metrics/install-metrics/pkg/metrics/metricstest"
	"github.com/install-metrics/install-metrics/pkg/sink"
)

// invocations sums the invocation counter of the file.
func invocations(t *testing.T, path string) float64 {
	t.Helper()
	mfs, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0.0
	for _, m := range mfs[metrics.InvocationFamily].GetMetric() {
		n += m.GetCounter().GetValue()
	}
	return n
}

func testID(i int) string { return fmt.Sprintf("%020d-%016x", 1_700_000_000_000_000_000+i, i) }

// A batch sent again with the same id (a journal record taken over after a
// kill between the rename and the journal's Done) is counted once, through
// the fast path and through the full parse (a file edited by hand) alike;
// the ids survive a batch without one.
func TestTextfileAppliedOnce(t *testing.T) {
	smp := metrics.Samples(metricstest.Invocations()["create-cluster-success"], metrics.SampleOptions{})
	for _, mode := range []string{"in place", "full parse"} {
		t.Run(mode, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "metrics.prom")
			tf := New(path, nil, nil)
			for i, id := range []string{testID(1), testID(1), "", testID(2), testID(1), testID(2)} {
				if mode == "full parse" && i > 0 {
					data, err := os.ReadFile(path)
					if err != nil {
						t.Fatal(err)
					}
					// An edit the checksum catches: the next send parses.
					if err := os.WriteFile(path, append(data, "# edited\n"...), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				if err := tf.Send(t.Context(), sink.Batch{Samples: smp, ID: id}); err != nil {
					t.Fatal(err)
				}
			}
			if got := invocations(t, path); got != 3 {
				t.Errorf("%v invocations, want 3 (ids 1 and 2 once each, one without an id)", got)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{testID(1), testID(2)}, appliedIDs(data)); diff != "" {
				t.Errorf("applied ids (-want +got):\n%s", diff)
			}
			if mode == "in place" && !Verified(data) {
				t.Errorf("the file's checksum does not cover the id lines:\n%s", data)
			}
		})
	}
}

// The file keeps the ids of the MaxApplied batches applied last, whatever
// their creation time; an id of another shape (from a hostile spool entry
// or file) is never written into the file.
func TestTextfileAppliedBounded(t *testing.T) {
	smp := metrics.Samples(metricstest.Invocations()["create-cluster-success"], metrics.SampleOptions{})
	path := filepath.Join(t.TempDir(), "metrics.prom")
	tf := New(path, nil, nil)
	// Applied newest-created first: the first five applied are dropped.
	for i := range MaxApplied + 5 {
		if err := tf.Send(t.Context(), sink.Batch{Samples: smp, ID: testID(MaxApplied + 5 - i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tf.Send(t.Context(), sink.Batch{Samples: smp, ID: "x\ncluster_installation_invocation 99"}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ids := appliedIDs(data)
	if len(ids) != MaxApplied || ids[0] != testID(MaxApplied) || ids[len(ids)-1] != testID(1) {
		t.Errorf("%d ids from %s to %s, want %d from %s to %s", len(ids), ids[0], ids[len(ids)-1], MaxApplied, testID(MaxApplied), testID(1))
	}
	if strings.Contains(string(data), "x\n") || invocations(t, path) != MaxApplied+6 {
		t.Errorf("a malformed id changed the file: %v invocations", invocations(t, path))
	}
}

// A long run's batch, applied after MaxApplied shorter runs that started
// after it, keeps its id: sent again, it is not counted twice.
func TestTextfileAppliedLongRunKept(t *testing.T) {
	smp := metrics.Samples(metricstest.Invocations()["create-cluster-success"], metrics.SampleOptions{})
	path := filepath.Join(t.TempDir(), "metrics.prom")
	tf := New(path, nil, nil)
	for i := range MaxApplied {
		if err := tf.Send(t.Context(), sink.Batch{Samples: smp, ID: testID(100 + i)}); err != nil {
			t.Fatal(err)
		}
	}
	long := testID(1) // created before all of them
	for range 2 {
		if err := tf.Send(t.Context(), sink.Batch{Samples: smp, ID: long}); err != nil {
			t.Fatal(err)
		}
	}
	if n := invocations(t, path); n != MaxApplied+1 {
		t.Errorf("%v invocations, want %d: the long run's batch was counted twice", n, MaxApplied+1)
	}
}
