package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	var lines []string
	testHookReaped = func() {
		locks, _ := filepath.Glob(filepath.Join(state, "install-metrics", "journal", "*.lock"))
		for _, l := range locks {
			b, _ := os.ReadFile(l)
			lines = append(lines, string(b))
		}
	}
	defer func() { testHookReaped = nil }()
	if code := e.Run([]string{"--installer", "/bin/false", "create", "cluster", "--dir", t.TempDir()}); code != 1 {
		t.Fatalf("exit code %d, want /bin/false's 1", code)
	}
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "ended ") || !strings.Contains(lines[0], `"exit":1`) {
		t.Errorf("the journal lock file when the installer was reaped: %q, want one Ended line with exit 1", lines)
	}
}
