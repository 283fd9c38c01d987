package stages

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/install-metrics/install-metrics/pkg/record"
)

// fileLog writes messages in the file format, one second apart from
// 2025-01-01T10:00:00Z; each message is "level message".
func fileLog(msgs ...string) string {
	var b strings.Builder
	start := time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC)
	for i, m := range msgs {
		lv, msg, _ := strings.Cut(m, " ")
		fmt.Fprintf(&b, "time=%q level=%s msg=%q\n", start.Add(time.Duration(i)*time.Second).Format(time.RFC3339), lv, msg)
	}
	return b.String()
}

func summarize(t *testing.T, log string, exit Exit) Summary {
	t.Helper()
	s, err := Classify(strings.NewReader(log), fixedNow, exit)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func header(v string) string { return "debug OpenShift Installer " + v }

// Logs for the precedence table, each ending in the middle of a stage.
var (
	logInfra = fileLog(header("4.16.0"), "info Consuming Install Config from target directory",
		"info Creating infrastructure resources...")
	logAPI = logInfra + fileLog(header("4.16.0"),
		"info Waiting up to 20m0s (until 3:27PM UTC) for the Kubernetes API at https://api.x:6443...")
	logBootstrap = logAPI + fileLog("info API v1.29.6 up",
		"info Waiting up to 45m0s (until 4:13PM UTC) for bootstrapping to complete...")
	logOperators = logBootstrap + fileLog("info Destroying the bootstrap resources...",
		"info Waiting up to 40m0s (until 5:22PM UTC) for the cluster at https://api.x:6443 to initialize...")
)

func withVersion(log, v string) string { return strings.ReplaceAll(log, "4.16.0", v) }

func TestSummaryPrecedence(t *testing.T) {
	tests := []struct {
		name  string
		log   string
		exit  Exit
		want  record.Result
		basis Basis
	}{
		{"signal beats everything", logOperators + fileLog("error failed to initialize the cluster: x"),
			Exit{Code: -1, Known: true, Signaled: true}, record.Interrupted, BasisSignal},
		{"shell's 128+SIGTERM", logAPI, Exit{Code: 143, Known: true}, record.Interrupted, BasisSignal},
		{"exit 0 is success", logAPI, Exit{Code: 0, Known: true}, record.Success, BasisExitCode},
		{"exit 3 on 4.16", logAPI, Exit{Code: 3, Known: true}, record.InvalidConfig, BasisExitCode},
		{"exit 4 on 4.11", withVersion(logInfra, "4.11.0"), Exit{Code: 4, Known: true}, record.ProvisioningFailed, BasisExitCode},
		{"exit 4 on 4.10 means nothing", withVersion(logAPI, "4.10.3"), Exit{Code: 4, Known: true}, record.APIFailed, BasisStage},
		{"exit 5 before API up", logAPI, Exit{Code: 5, Known: true}, record.APIFailed, BasisExitCode},
		{"exit 5 after API up", logBootstrap, Exit{Code: 5, Known: true}, record.BootstrapFailed, BasisExitCode},
		{"exit 6", logOperators, Exit{Code: 6, Known: true}, record.OperatorsDegraded, BasisExitCode},
		{"exit 7 on 4.15", withVersion(logOperators, "4.15.2"), Exit{Code: 7, Known: true}, record.OperatorsDegraded, BasisExitCode},
		{"exit 7 on 4.14 means nothing", withVersion(logBootstrap, "4.14.2"), Exit{Code: 7, Known: true}, record.BootstrapFailed, BasisStage},
		{"exit 8 on 4.16", logInfra, Exit{Code: 8, Known: true}, record.Interrupted, BasisExitCode},
		{"exit 8 on 4.15 means nothing", withVersion(logInfra, "4.15.2"), Exit{Code: 8, Known: true}, record.ProvisioningFailed, BasisStage},
		{"exit 3 with unknown version is trusted", "INFO Waiting up to 20m0s for the Kubernetes API at https://api.x:6443...\n",
			Exit{Code: 3, Known: true}, record.InvalidConfig, BasisExitCode},
		{"exit 8 on a dev build is trusted", withVersion(logAPI, "unreleased-master-9999-gabcdef"),
			Exit{Code: 8, Known: true}, record.Interrupted, BasisExitCode},
		{"exit 1 decided by the failure line", withVersion(logBootstrap, "4.9.0") + fileLog("fatal Bootstrap failed to complete: failed to wait for bootstrapping to complete: timed out waiting for the condition"),
			Exit{Code: 1, Known: true}, record.BootstrapFailed, BasisLogLine},
		{"exit 1 without a failure line: the stage", withVersion(logAPI, "4.9.0"), Exit{Code: 1, Known: true}, record.APIFailed, BasisStage},
		{"exit 1 before infrastructure without a failure line", withVersion(fileLog(header("4.9.0"), "info Consuming Install Config from target directory"), "4.9.0"),
			Exit{Code: 1, Known: true}, record.Failed, BasisStage},
		{"exit 1 and nothing", "", Exit{Code: 1, Known: true}, record.Failed, BasisStage},
		{"exit 2 (panic) during bootstrap", withVersion(logBootstrap, "4.9.0"), Exit{Code: 2, Known: true}, record.BootstrapFailed, BasisStage},
		{"unknown exit code 42", logOperators, Exit{Code: 42, Known: true}, record.OperatorsDegraded, BasisStage},
		{"second signal: exit 1 after the interrupt line", logInfra + fileLog("warning Received interrupt signal"),
			Exit{Code: 1, Known: true}, record.Interrupted, BasisLogLine},
		{"no exit: interrupt line", logInfra + fileLog("warning Received interrupt signal", "error failed to fetch Cluster: context canceled"),
			Exit{}, record.Interrupted, BasisLogLine},
		{"no exit: stops mid-stage", logOperators, Exit{}, record.Interrupted, BasisEndOfLog},
		{"no exit: nothing at all", "garbage\n\x00\xff\n", Exit{}, record.Failed, BasisNothing},
		{"no exit: success line", logOperators + fileLog("info Install complete!"), Exit{}, record.Success, BasisLogLine},
		{"no exit: failure after a success line", logOperators + fileLog("info Install complete!", "fatal something broke"),
			Exit{}, record.OperatorsDegraded, BasisStage},
		{"no exit: a non-fatal error is no failure", logBootstrap + fileLog("error Error: rpc error: transport is closing"),
			Exit{}, record.Interrupted, BasisEndOfLog},
		{"no exit: a fatal line of unknown text", logBootstrap + fileLog("fatal something broke"),
			Exit{}, record.BootstrapFailed, BasisStage},
		{"no exit: error after a stage finished belongs to the next one", logBootstrap + fileLog("info Destroying the bootstrap resources...", "fatal failed to wait for worker node availability: x"),
			Exit{}, record.OperatorsDegraded, BasisStage},
		{"no exit: bootstrap destroy failure is Failed", logBootstrap + fileLog("info Destroying the bootstrap resources...", "fatal error destroying bootstrap resources: x"),
			Exit{}, record.Failed, BasisLogLine},
		{"no exit: asset failure after infrastructure is the stage's", logInfra + fileLog("fatal failed to fetch Cluster: failed to generate asset \"Cluster\": boom"),
			Exit{}, record.ProvisioningFailed, BasisLogLine},
		{"no exit: bare bootstrap failure without stages", "level=fatal msg=Bootstrap failed to complete\n",
			Exit{}, record.BootstrapFailed, BasisStage},
		{"no exit: gather bootstrap", fileLog(header("4.12.0"), "info Pulling debug logs from the bootstrap machine", `info Bootstrap gather logs captured here "/d/log-bundle-20240101.tar.gz"`),
			Exit{}, record.Success, BasisLogLine},
		{"no exit: create cluster's own gathering after a failure", logBootstrap + fileLog("error Bootstrap failed to complete: timed out waiting for the condition",
			`info Bootstrap gather logs captured here "/d/log-bundle-20240101.tar.gz"`),
			Exit{}, record.BootstrapFailed, BasisStage},
		{"a failure line followed by progress did not end the run", logInfra + fileLog("error failed to create cluster: transient", header("4.16.0"),
			"info Waiting up to 20m0s (until 3:27PM UTC) for the Kubernetes API at https://api.x:6443...", "info API v1.29.6 up"),
			Exit{}, record.Interrupted, BasisEndOfLog},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := summarize(t, tt.log, tt.exit)
			if s.Result != tt.want || s.Basis != tt.basis {
				t.Errorf("got %s by %s (deciding %q), want %s by %s", s.Result, s.Basis, s.Deciding, tt.want, tt.basis)
			}
		})
	}
}

func TestRuns(t *testing.T) {
	t.Run("the last run is judged", func(t *testing.T) {
		log := logAPI + fileLog("fatal Bootstrap failed to complete: waiting for Kubernetes API: context deadline exceeded",
			header("4.16.1"), "info Consuming Worker Machines from target directory", "info Ignition-Configs created in: d and d/auth")
		s := summarize(t, log, Exit{})
		if s.Result != record.Success || s.Version != "4.16.1" {
			t.Errorf("got %s of %q, want Success of 4.16.1", s.Result, s.Version)
		}
		if len(s.Stages) != 1 || s.Stages[0].Name != record.Provisioning {
			t.Errorf("stages %v, want only provisioning", stageNames(&s))
		}
	})
	t.Run("create cluster's second header keeps the run", func(t *testing.T) {
		s := summarize(t, logBootstrap, Exit{})
		if got := stageNames(&s); !cmp.Equal(got, record.StageNames[:4]) {
			t.Errorf("stages %v, want %v", got, record.StageNames[:4])
		}
	})
	t.Run("a new version starts a new run", func(t *testing.T) {
		log := logInfra + fileLog(header("4.17.0"), "info Waiting up to 20m0s for the Kubernetes API at https://api.x:6443...")
		s := summarize(t, log, Exit{})
		if got := stageNames(&s); !cmp.Equal(got, []record.StageName{record.API}) || s.Version != "4.17.0" {
			t.Errorf("stages %v of %q, want [api] of 4.17.0", got, s.Version)
		}
	})
	t.Run("a killed run's lines are forgotten", func(t *testing.T) {
		log := logOperators + fileLog(header("4.16.0"), "fatal loading kubeconfig: stat d/auth/kubeconfig: no such file or directory")
		s := summarize(t, log, Exit{Code: 1, Known: true})
		if s.Result != record.Failed || len(s.Stages) != 0 {
			t.Errorf("got %s with stages %v, want Failed without stages", s.Result, stageNames(&s))
		}
	})
}

func TestHardWrappedFailure(t *testing.T) {
	log := "2024-05-06T07:08:09Z FATAL failed to fetch Cluster: failed to generate asset \"Cluster\": failed to\n" +
		"2024-05-06T07:08:09Z create cluster: failed to apply Terraform: error(s) creating: timeout\n" +
		"make: *** [install] Error 1\n"
	s := summarize(t, log, Exit{})
	if s.Result != record.ProvisioningFailed {
		t.Errorf("got %s (%q), want ProvisioningFailed", s.Result, s.Deciding)
	}
	if !strings.Contains(s.Deciding, "failed to create cluster: failed to apply Terraform") {
		t.Errorf("deciding %q lacks its continuation", s.Deciding)
	}
	// client-go's own lines are no continuation.
	klog := "ERROR Bootstrap failed to complete: Get \"https://api.x:6443/version\": EOF\n" +
		"E0609 12:09:57.685885      67 reflector.go:138] failed to list *v1.ConfigMap: waiting for bootstrapping to complete\n"
	if s := summarize(t, klog, Exit{}); s.Result != record.BootstrapFailed || strings.Contains(s.Deciding, "reflector") {
		t.Errorf("got %s (%q), want BootstrapFailed from the ERROR line alone", s.Result, s.Deciding)
	}
	// Only a few lines after a failure are its continuation.
	long := "FATAL failed to fetch Install Config: x\n" + strings.Repeat("unrelated output\n", 10) + "waiting for kubernetes api\n"
	if s := summarize(t, long, Exit{}); s.Result != record.InvalidConfig {
		t.Errorf("got %s, want InvalidConfig", s.Result)
	}
}

func TestTerminalUsesTheClock(t *testing.T) {
	clock := time.Date(2026, 3, 4, 5, 0, 0, 0, time.UTC)
	tr := NewTracker(func() time.Time { return clock })
	for _, l := range []string{
		"INFO Waiting up to 20m0s for the Kubernetes API at https://api.x:6443... ",
		"INFO API v1.22.2+c8538fc up                       ",
		"INFO Waiting up to 30m0s for bootstrapping to complete... ",
		"INFO It is now safe to remove the bootstrap resources ",
	} {
		tr.Line([]byte(l))
		clock = clock.Add(time.Minute)
	}
	s := tr.Summary(Exit{Code: 0, Known: true})
	want := []record.Stage{
		{Name: record.API, Start: time.Date(2026, 3, 4, 5, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 4, 5, 1, 0, 0, time.UTC), Finished: true},
		{Name: record.Bootstrap, Start: time.Date(2026, 3, 4, 5, 2, 0, 0, time.UTC), End: time.Date(2026, 3, 4, 5, 3, 0, 0, time.UTC), Finished: true},
	}
	if diff := cmp.Diff(want, s.Stages); diff != "" {
		t.Errorf("stages mismatch (-want +got):\n%s", diff)
	}
	if s.Timed {
		t.Errorf("Timed is true for a log without timestamps")
	}
}

func TestSummaryDoesNotChangeTheTracker(t *testing.T) {
	tr := NewTracker(fixedNow)
	for l := range strings.SplitSeq(logInfra+fileLog("error failed to create cluster: boom"), "\n") {
		tr.Line([]byte(l))
	}
	a := tr.Summary(Exit{})
	b := tr.Summary(Exit{Code: 4, Known: true})
	c := tr.Summary(Exit{})
	if diff := cmp.Diff(a, c); diff != "" {
		t.Errorf("second Summary differs (-first +second):\n%s", diff)
	}
	if b.Result != record.ProvisioningFailed || b.Basis != BasisExitCode {
		t.Errorf("got %s by %s", b.Result, b.Basis)
	}
}

func TestNoSecretsInSummary(t *testing.T) {
	log := logOperators + fileLog(
		"info Install complete!",
		`info Login to the console with user: "kubeadmin", and password: "Sup3r-Secret-Pw"`,
		`fatal failed to fetch Master Machines: failed to create install config: invalid "install-config.yaml" file: pullSecret: Invalid value: "{\"auths\":{\"quay.io\":{\"auth\":\"c2VjcmV0\"}}}": bad`,
	)
	s := summarize(t, log, Exit{})
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"Sup3r-Secret-Pw", "c2VjcmV0", "auths"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("summary holds %q: %s", secret, b)
		}
	}
}

func TestLineNeverPanics(t *testing.T) {
	tr := NewTracker(fixedNow)
	for _, l := range []string{"", "\n", "\r\n", "time=\"", "level=", `time="x" level=info msg="`, "INFO", "\x1b[", "\x1b",
		"[", "+", "12:3", "2024-13-45T99:99:99Z x", `msg="\x`, `level=info msg="\u12`, `level=info msg="\777`,
		"OpenShift Installer", "level=debug msg=OpenShift Installer ", strings.Repeat("\\", 100)} {
		tr.Line([]byte(l))
	}
	tr.Line(make([]byte, 3*DefaultMaxLine))
	_ = tr.Summary(Exit{})
}
