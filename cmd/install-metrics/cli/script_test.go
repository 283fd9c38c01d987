package cli_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"go.uber.org/goleak"

	"github.com/install-metrics/install-metrics/cmd/install-metrics/cli"
	"github.com/install-metrics/install-metrics/internal/replay"
)

// TestMain makes the test binary play both install-metrics and, on $PATH, the
// installer (the replay installer; rogpeppe/go-internal testscript).
func TestMain(m *testing.M) {
	testscript.Main(leakChecked{m}, map[string]func(){
		"install-metrics":   func() { os.Exit(cli.Main(os.Args[1:])) },
		"openshift-install": func() { os.Exit(replay.Main(os.Args)) },
	})
}

// TestScripts runs testdata/script/*.txtar: whole invocations as a user types
// them, in a fresh directory with its own HOME and XDG_STATE_HOME.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			home := filepath.Join(env.WorkDir, "home")
			env.Setenv("HOME", home)
			env.Setenv("XDG_STATE_HOME", filepath.Join(home, ".local", "state"))
			env.Setenv("OPENSHIFT_INSTALL_REPLAY_SPEED", "inf")
			for _, v := range []string{"CI", "OPENSHIFT_CI", "PROW_JOB_ID", "JENKINS_URL", "GITHUB_ACTIONS",
				"GITLAB_CI", "BUILD_ID", "INSTALL_METRICS", "DO_NOT_TRACK", "INSTALL_METRICS_SINKS",
				"INSTALL_METRICS_JUNIT", "GITHUB_STEP_SUMMARY", "TRACEPARENT", "OTEL_EXPORTER_OTLP_ENDPOINT",
				"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"} {
				env.Setenv(v, "")
			}
			return os.MkdirAll(home, 0o755)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":   cmdExits,
			"replace": cmdReplace,
		},
	})
}

// cmdExits runs a program and checks its exact exit code:
// exits CODE PROG ARGS... (stdout and stderr are kept as with exec).
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad code %q", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("exits: %v", err)
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

// cmdReplace edits a file as a user would: replace OLD NEW FILE (OLD must be
// there).
func cmdReplace(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: replace OLD NEW FILE")
	}
	path := ts.MkAbs(args[2])
	b, err := os.ReadFile(path)
	ts.Check(err)
	if !strings.Contains(string(b), args[0]) {
		ts.Fatalf("replace: %q not in %s", args[0], args[2])
	}
	ts.Check(os.WriteFile(path, []byte(strings.Replace(string(b), args[0], args[1], 1)), 0o644))
}

// leakChecked fails the test binary when a goroutine outlives the tests
// (goleak; testscript.Main wants the Run() int that goleak checks).
type leakChecked struct{ m *testing.M }

func (l leakChecked) Run() int {
	code := l.m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			return 1
		}
	}
	return code
}
