package cli

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/install-metrics/install-metrics/pkg/journal"
)

// The moment the installer is reaped, before the log's tail is read and
// the record completed, the journal already says how it ended (its lock
// file holds the Ended line with the exit code), so a SIGKILL then still
// records the run with its exit code, not as Interrupted.
func TestEndedNotedWhenReaped(t *testing.T) {
	state := t.TempDir()
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	env := map[string]string{"XDG_STATE_HOME": state, "HOME": t.TempDir()}
	e := &Env{
		Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Stdin:  devnull, Stdout: devnull, Stderr: devnull,
		Now: time.Now, GOOS: "linux",
	}
	var noted []journal.State
	testHookReaped = func() {
		noted, _ = journal.Open(filepath.Join(state, "install-metrics", "journal"), journal.Config{}).Peek()
	}
	defer func() { testHookReaped = nil }()
	if code := e.Run([]string{"--installer", "/bin/false", "create", "cluster", "--dir", t.TempDir()}); code != 1 {
		t.Fatalf("exit code %d, want /bin/false's 1", code)
	}
	if len(noted) != 1 || noted[0].Provisional || noted[0].Invocation.ExitCode != 1 {
		t.Errorf("the journal when the installer was reaped: %+v, want one record that ended with exit code 1", noted)
	}
}
