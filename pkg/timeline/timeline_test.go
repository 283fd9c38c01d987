package timeline_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/install-metrics/install-metrics/pkg/record"
	"github.com/install-metrics/install-metrics/pkg/timeline"
)

var t0 = time.Date(2021, 5, 20, 7, 33, 32, 0, time.UTC)

func inv() record.Invocation {
	return record.Invocation{Version: "4.7.22", Result: record.BootstrapFailed, ExitCode: 1,
		Deciding: "Bootstrap failed to complete:\n  timed out waiting for the condition",
		Stages: []record.Stage{
			{Name: record.API, Start: t0, End: t0.Add(5*time.Minute + 30*time.Second), Finished: true},
			{Name: record.Bootstrap, Start: t0.Add(5*time.Minute + 30*time.Second), End: t0.Add(35*time.Minute + 40*time.Second)},
		}}
}

// TestWrite: the lines `metrics classify` prints (cmd/install-metrics/cli's
// classify.txtar checks the same shape through the command).
func TestWrite(t *testing.T) {
	got := timeline.String(inv(), timeline.Options{Title: "bootstrap.log", Basis: "stage"})
	want := `bootstrap.log
  installer      4.7.22
  result         BootstrapFailed  (decided by: stage)
  deciding line  Bootstrap failed to complete: timed out waiting for the condition
  stages         api        5m30s   done          07:33:32 → 07:39:02
                 bootstrap  30m10s  not finished  07:39:02 → 08:09:12
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	got = timeline.String(inv(), timeline.Options{Untimed: true, ExitCode: true})
	want = `  installer      4.7.22
  result         BootstrapFailed
  exit code      1
  deciding line  Bootstrap failed to complete: timed out waiting for the condition
  stages         api        done
                 bootstrap  not finished
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("untimed (-want +got):\n%s", diff)
	}

	got = timeline.String(record.Invocation{Result: record.Failed}, timeline.Options{})
	want = "  installer  (no header in the log)\n  result     Failed\n  stages     none reached\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("empty (-want +got):\n%s", diff)
	}
}

// TestOneLine: the cut never splits a character.
func TestOneLine(t *testing.T) {
	s := strings.Repeat("é", 200)
	got := timeline.OneLine(s, 160)
	if want := strings.Repeat("é", 160) + "…"; got != want {
		t.Errorf("OneLine cut %q", got)
	}
	if got := timeline.OneLine(" a \n\t b ", 160); got != "a b" {
		t.Errorf("OneLine(%q) = %q", " a \n\t b ", got)
	}
}
