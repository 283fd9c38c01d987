package show

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/install-metrics/install-metrics/pkg/metrics/metricstest"
	"github.com/install-metrics/install-metrics/pkg/push"
	"github.com/install-metrics/install-metrics/pkg/record"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func goldenCompare(t *testing.T, name string, got []byte) {
	t.Helper()
	metricstest.Golden(t, name, got, *update)
}

// showFixture writes a textfile from a mix of runs.
func showFixture(t *testing.T) string {
	t.Helper()
	state := t.TempDir()
	sinks, err := push.ParseSinks(nil, state)
	if err != nil {
		t.Fatal(err)
	}
	s, err := push.New(push.Config{Sinks: sinks, StateDir: state, Timeout: push.DefaultTimeout})
	if err != nil {
		t.Fatal(err)
	}
	invs := metricstest.Invocations()
	runs := []string{"create-cluster-success", "create-cluster-success", "create-cluster-success",
		"create-cluster-bootstrap-failed", "destroy-cluster", "wait-for-install-complete-degraded", "version"}
	for _, name := range runs {
		s.Send(t.Context(), invs[name])
	}
	api := invs["create-cluster-bootstrap-failed"]
	api.Result, api.ExitCode, api.Stages = record.APIFailed, 5, api.Stages[:3]
	s.Send(t.Context(), api)
	return push.DefaultTextfile(state)
}

func TestShowGolden(t *testing.T) {
	path := showFixture(t)
	for _, format := range []string{"table", "json", "prom"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Show(&buf, path, format); err != nil {
				t.Fatal(err)
			}
			got := strings.ReplaceAll(buf.String(), filepath.Dir(path), "$STATE")
			goldenCompare(t, "record."+map[string]string{"table": "txt", "json": "json", "prom": "prom"}[format], []byte(got))
		})
	}
}

func TestShowNothingYet(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.prom")
	var buf bytes.Buffer
	if err := Show(&buf, path, ""); err != nil {
		t.Fatal(err)
	}
	want := "No runs recorded yet in " + path + ".\ninstall-metrics adds one after each installer command it wraps (unless --no-metrics).\n"
	if buf.String() != want {
		t.Errorf("got %q", buf.String())
	}
	buf.Reset()
	if err := Show(&buf, path, "json"); err != nil || !strings.Contains(buf.String(), `"invocations": []`) {
		t.Errorf("json: %v %s", err, buf.String())
	}
}

func TestShowErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.prom")
	if err := Show(&bytes.Buffer{}, path, "yaml"); err == nil || err.Error() != `unknown format "yaml": use table, prom, json` {
		t.Errorf("format: %v", err)
	}
	if err := os.WriteFile(path, []byte("garbage {"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Show(&bytes.Buffer{}, path, "")
	if err == nil || !strings.HasPrefix(err.Error(), "textfile "+path+" is corrupt: text format parsing error in line 1") {
		t.Errorf("corrupt: %v", err)
	}
}
