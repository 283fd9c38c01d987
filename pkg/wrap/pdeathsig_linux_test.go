package wrap_test

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// alive reports whether pid runs (a zombie does not: in a container nobody
// may reap it).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z") && !strings.HasPrefix(rest, "X")
}

// TestWrapperKilledKillsInstaller: SIGKILL cannot be forwarded, but on
// Linux the installer is killed too when the wrapper is, as it would have
// been when called directly, instead of running on orphaned.
func TestWrapperKilledKillsInstaller(t *testing.T) {
	t.Parallel()
	w := startWrapper(t)
	var v childView
	readJSON(t, w.ready, &v)
	if !alive(v.Pid) {
		t.Fatalf("installer %d not running", v.Pid)
	}
	if err := syscall.Kill(w.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := w.wait(t); code != -1 {
		t.Errorf("wrapper exit code %d, want -1 (killed)", code)
	}
	waitFor(t, 10*time.Second, "the installer to die", func() bool { return !alive(v.Pid) })
	if got := signalLog(t, w.log); len(got) != 0 {
		t.Errorf("installer received %v, want nothing but SIGKILL", got)
	}
}
