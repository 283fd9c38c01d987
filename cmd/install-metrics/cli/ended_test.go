package cli

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/install-metrics/install-metrics/pkg/journal"
	"github.com/install-metrics/install-metrics/pkg/record"
)

// The moment the installer is reaped, before the log's tail is read and
// the record completed, the journal already says how it ended (its lock
// file holds the Ended line with the exit code), so a SIGKILL then still
// records the run with its exit code, not as Interrupted.
func TestEndedNotedWhenReaped(t *testing.T) {
	state := t.TempDir()
	e := quietEnv(t, state)
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

// While the installer runs, each stage it enters goes into the journal, so
// a run killed outright is taken over with the stages it reached (the
// installer here is a script that writes a log and waits until the test
// has seen the infrastructure stage there).
func TestStagesJournaledAsTheRunGoesOn(t *testing.T) {
	state, dir := t.TempDir(), t.TempDir()
	installer := filepath.Join(t.TempDir(), "openshift-install")
	script := `#!/bin/sh
log="$4/.openshift_install.log"
echo 'time="2026-12-02T10:00:00Z" level=debug msg="OpenShift Installer 4.18.1"' >> "$log"
echo 'time="2026-12-02T10:00:01Z" level=info msg="Consuming Install Config from target directory"' >> "$log"
echo 'time="2026-12-02T10:00:09Z" level=info msg="Creating infrastructure resources..."' >> "$log"
i=0
while [ ! -e "$4/seen" ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done
`
	if err := os.WriteFile(installer, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	e := quietEnv(t, state)
	var seen []journal.State
	testHookProgress = func() {
		sts, _ := journal.Open(filepath.Join(state, "install-metrics", "journal"), journal.Config{}).Peek()
		seen = append(seen, sts...)
		if len(sts) == 1 && len(sts[0].Invocation.Stages) == 2 {
			_ = os.WriteFile(filepath.Join(dir, "seen"), nil, 0o600)
		}
	}
	defer func() { testHookProgress = nil }()
	if code := e.Run([]string{"--installer", installer, "create", "cluster", "--dir", dir}); code != 0 {
		t.Fatalf("exit code %d, want the script's 0", code)
	}
	if len(seen) == 0 {
		t.Fatal("no stage was journaled while the installer ran")
	}
	last := seen[len(seen)-1]
	inv := last.Invocation
	if !last.Provisional || inv.Result != record.Interrupted || inv.ExitCode != -1 || inv.Version != "4.18.1" || len(inv.Stages) != 2 {
		t.Fatalf("journaled during the run: %+v, want a provisional record of 4.18.1 with two stages", last)
	}
	p, infra := inv.Stages[0], inv.Stages[1]
	if p.Name != record.Provisioning || !p.Finished || !p.Timed || p.Duration() != 9*time.Second ||
		infra.Name != record.Infrastructure || infra.Finished || !infra.Timed {
		t.Errorf("stages %+v, want provisioning finished after 9 s, then infrastructure under way", inv.Stages)
	}
}

// quietEnv is an Env whose state directory is state, with /dev/null for
// the terminal.
func quietEnv(t *testing.T, state string) *Env {
	t.Helper()
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { devnull.Close() })
	env := map[string]string{"XDG_STATE_HOME": state, "HOME": t.TempDir()}
	return &Env{
		Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Stdin:  devnull, Stdout: devnull, Stderr: devnull,
		Now: time.Now, GOOS: "linux",
	}
}
