package stages

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/install-metrics/install-metrics/pkg/record"
)

// TestOnStage: on a real log, the hook runs once per line that enters or
// ends a stage, never for another, and each time Summary shows one more
// step of the timeline it ends with.
func TestOnStage(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(realLogs, "039-vsphere-4.7-create-bootstrap-timeout-file.log"))
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC) }
	tr := NewTracker(now)
	type step struct {
		stage    record.StageName
		finished int
	}
	var steps []step
	tr.OnStage(func() {
		st := tr.Summary(Exit{}).Stages
		finished := 0
		for _, s := range st {
			if s.Finished {
				finished++
			}
		}
		steps = append(steps, step{st[len(st)-1].Name, finished})
	})
	for line := range strings.Lines(string(data)) {
		before := len(steps)
		tr.Line([]byte(line))
		if len(steps) > before+1 {
			t.Fatalf("one line called the hook %d times", len(steps)-before)
		}
	}
	want := NewTracker(now)
	for line := range strings.Lines(string(data)) {
		want.Line([]byte(line))
	}
	final := want.Summary(Exit{Code: 1, Known: true}).Stages
	if len(steps) < len(final) {
		t.Fatalf("%d hook calls for a timeline of %d stages: %+v", len(steps), len(final), steps)
	}
	for i := 1; i < len(steps); i++ {
		if steps[i] == steps[i-1] {
			t.Errorf("call %d changed nothing: %+v", i, steps[i])
		}
	}
	var names []record.StageName
	for _, s := range final {
		names = append(names, s.Name)
	}
	t.Logf("steps: %+v", steps)
	if got := steps[len(steps)-1].stage; got != names[len(names)-1] || !slices.Contains(names, steps[0].stage) {
		t.Errorf("steps %+v, want them to end in the final timeline's %v", steps, names)
	}
}
