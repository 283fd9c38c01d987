package stages

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/install-metrics/install-metrics/pkg/record"
)

// TestFailRules gives every failure rule its class: a rule that maps a
// message to the wrong class (waiting for bootstrap-complete to APIFailed)
// fails here. Each text is a message the installer logs (rules.go cites
// where).
func TestFailRules(t *testing.T) {
	want := map[string]struct {
		result record.Result
		kind   failKind
	}{
		"received interrupt signal":                        {record.Interrupted, kindNamed},
		"failed to create install config":                  {record.InvalidConfig, kindNamed},
		`invalid "install-config.yaml" file`:               {record.InvalidConfig, kindNamed},
		"invalid install config":                           {record.InvalidConfig, kindNamed},
		"failed to create cluster":                         {record.ProvisioningFailed, kindNamed},
		"failed to apply terraform":                        {record.ProvisioningFailed, kindNamed},
		"failed to apply using terraform":                  {record.ProvisioningFailed, kindNamed},
		"failure applying terraform":                       {record.ProvisioningFailed, kindNamed},
		"failed to create control-plane":                   {record.ProvisioningFailed, kindNamed},
		"infrastructure was not ready within":              {record.ProvisioningFailed, kindNamed},
		"control-plane machines were not provisioned":      {record.ProvisioningFailed, kindNamed},
		"failed during pre-provisioning":                   {record.ProvisioningFailed, kindNamed},
		"failed to run cluster api system":                 {record.ProvisioningFailed, kindNamed},
		"waiting for kubernetes api":                       {record.APIFailed, kindNamed},
		"cluster installation timed out":                   {record.OperatorsDegraded, kindNamed},
		"failed to wait for bootstrapping to complete":     {record.BootstrapFailed, kindNamed},
		"waiting for bootstrap-complete":                   {record.BootstrapFailed, kindNamed},
		"bootstrap etcd member":                            {record.BootstrapFailed, kindNamed},
		"failed to initialize the cluster":                 {record.OperatorsDegraded, kindNamed},
		"cluster initialization failed":                    {record.OperatorsDegraded, kindNamed},
		"cluster operators were not stable":                {record.OperatorsDegraded, kindNamed},
		"error checking cluster operator progressing":      {record.OperatorsDegraded, kindNamed},
		"error checking final cluster operator":            {record.OperatorsDegraded, kindNamed},
		"loading kubeconfig":                               {record.Failed, kindNamed},
		"no cluster installation directory found":          {record.Failed, kindNamed},
		"preparing to destroy cluster":                     {record.Failed, kindNamed},
		"failed to destroy cluster":                        {record.Failed, kindNamed},
		"destroying bootstrap resources":                   {record.Failed, kindNamed},
		"failed to destroy bootstrap":                      {record.Failed, kindNamed},
		"failed to gather bootstrap":                       {record.Failed, kindNamed},
		"error executing openshift-install":                {record.Failed, kindNamed},
		"invalid log-level":                                {record.Failed, kindNamed},
		"failed to write asset":                            {record.Failed, kindNamed},
		"failed to create asset store":                     {record.Failed, kindNamed},
		"bootstrap failed to complete":                     {"", kindStage},
		"attempted to gather clusteroperator status after": {"", kindStage},
		"attempted to gather debug logs after":             {"", kindStage},
		"use the following commands to gather logs":        {"", kindStage},
		"failed to fetch dependency of":                    {"", kindAsset},
		"failed to generate asset":                         {"", kindAsset},
		"failed to load asset":                             {"", kindAsset},
		"failed to fetch ":                                 {"", kindAsset},
	}
	for _, r := range failRules {
		w, ok := want[r.text]
		if !ok {
			t.Errorf("rule %q has no expected class here: add it", r.text)
			continue
		}
		if r.result != w.result || r.kind != w.kind {
			t.Errorf("rule %q: %q kind %d, want %q kind %d", r.text, r.result, r.kind, w.result, w.kind)
		}
		// The rule is reachable: no earlier rule takes its text.
		if res, kind := classifyFailure([]byte(r.text)); res != w.result || kind != w.kind {
			t.Errorf("%q classifies as %q kind %d, want %q kind %d", r.text, res, kind, w.result, w.kind)
		}
		delete(want, r.text)
	}
	for text := range want {
		t.Errorf("no rule for %q", text)
	}
}

// agentLog is an `agent wait-for install-complete` in the file format, one
// line a minute, with the installer's 2025 lines (pkg/agent/cluster.go,
// waitfor.go; cmd/openshift-install/agent/waitfor.go).
func agentLog(msgs ...string) string {
	var b strings.Builder
	start := time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC)
	for i, m := range msgs {
		lv, msg, _ := strings.Cut(m, " ")
		b.WriteString("time=\"" + start.Add(time.Duration(i)*time.Minute).Format(time.RFC3339) + "\" level=" + lv + " msg=" + quote(msg) + "\n")
	}
	return b.String()
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

var agentHead = []string{
	"debug OpenShift Installer 4.18.0",
	"debug asset directory: c1",
	"info Waiting for cluster install to initialize. Sleeping for 30 seconds", // 10:02
	"info Cluster is not ready for install. Check validations",                // 10:03
	"warning Host master-0 validation: Host couldn't synchronize with any NTP server",
	"info Cluster is ready for install", // 10:05
	"info Preparing cluster for installation",
	"info Cluster installation in progress", // 10:07
	"info Host: master-0, reached installation stage Writing image to disk: 100%",
	"info Bootstrap Kube API Initialized",
	"info Bootstrap configMap status is complete", // 10:10
	"info Bootstrap is complete",
	"info cluster bootstrap is complete",
}

func TestAgentStages(t *testing.T) {
	at := func(min int) time.Time { return time.Date(2025, 1, 1, 10, min, 0, 0, time.UTC) }
	st := func(name record.StageName, from, to int, fin bool) record.Stage {
		return record.Stage{Name: name, Start: at(from), End: at(to), Finished: fin, Timed: true}
	}
	head := []record.Stage{
		st(record.Rendezvous, 0, 3, true), st(record.Validation, 3, 5, true),
		st(record.Preparation, 6, 7, true), st(record.Bootstrap, 7, 10, true),
	}
	for _, tc := range []struct {
		name   string
		tail   []string
		result record.Result
		stages []record.Stage
	}{
		{"bootstrap-complete", nil, record.Success, head},
		{"install-complete 2025", []string{
			"debug Still waiting for the cluster to initialize: Working towards 4.18.0: 10 of 900 done",
			"info Cluster is installed", // 10:14
			"info Install complete!",
		}, record.Success, append(head[:4:4], st(record.Operators, 10, 14, true))},
		{"install-complete 2026", []string{
			"info Waiting up to 40m0s (until 11:00AM UTC) for the cluster at https://api.c1.example.com:6443 to initialize...",
			"info Waiting up to 30m0s (until 11:30AM UTC) to ensure each cluster operator has finished progressing...",
			"info All cluster operators have completed progressing",
			"info Install complete!", // 10:16
		}, record.Success, append(head[:4:4], st(record.Operators, 10, 16, true))},
		{"install timed out", []string{
			"error Cluster installation timed out: context deadline exceeded", // 10:13
			"error Cluster initialization failed because one or more operators are not functioning properly.",
		}, record.OperatorsDegraded, append(head[:4:4], st(record.Operators, 10, 14, false))},
		{"cut after bootstrap while operators initialize", []string{
			"debug Still waiting for the cluster to initialize: Working towards 4.18.0: 10 of 900 done",
		}, record.Interrupted, append(head[:4:4], st(record.Operators, 10, 13, false))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := summarize(t, agentLog(append(agentHead[:len(agentHead):len(agentHead)], tc.tail...)...), Exit{})
			if s.Result != tc.result {
				t.Errorf("result %s (%s, %q), want %s", s.Result, s.Basis, s.Deciding, tc.result)
			}
			if diff := cmp.Diff(tc.stages, s.Stages); diff != "" {
				t.Errorf("stages (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAgentValidationOnly: warnings never end the command; a log that stops
// while hosts fail validation is Interrupted, the exit code decides otherwise.
func TestAgentValidationOnly(t *testing.T) {
	log := agentLog(agentHead[:5]...) + agentLog("warning Cluster validation: The cluster has hosts that are not ready to install.")
	if s := summarize(t, log, Exit{}); s.Result != record.Interrupted || s.Basis != BasisEndOfLog {
		t.Errorf("no exit code: %s (%s), want Interrupted (end-of-log)", s.Result, s.Basis)
	}
	tr := NewTracker(fixedNow)
	tr.AgentWait()
	if err := ReadLines(strings.NewReader(log), 0, tr.Line); err != nil {
		t.Fatal(err)
	}
	for code, want := range map[int]record.Result{0: record.Success, 1: record.Failed, 5: record.BootstrapFailed,
		6: record.OperatorsDegraded, 7: record.OperatorsDegraded, 8: record.Interrupted} {
		if s := tr.Summary(Exit{Code: code, Known: true}); s.Result != want {
			t.Errorf("exit %d: %s, want %s", code, s.Result, want)
		}
	}
}

// TestAgentExitCodes: the exit codes of `agent wait-for` decide first, with
// the log's stages kept.
func TestAgentExitCodes(t *testing.T) {
	failBoot := agentLog(append(agentHead[:9:9],
		"error Attempted to gather ClusterOperator status after wait failure: x",
		"info Use the following commands to gather logs from the cluster",
		"error Bootstrap failed to complete: : bootstrap process timed out: context deadline exceeded")...)
	for _, tc := range []struct {
		log  string
		code int
		want record.Result
	}{
		{agentLog(agentHead...), 0, record.Success},
		{failBoot, 5, record.BootstrapFailed},
		{failBoot, -1, record.BootstrapFailed}, // no exit code: the line decides
		{agentLog(agentHead[:6]...) + agentLog("error Bootstrap failed to complete: : bootstrap process returned error: cluster installation was cancelled"), -1, record.BootstrapFailed},
		{agentLog(agentHead[:4]...), 5, record.BootstrapFailed}, // still validating: 5 is the bootstrap wait's
		{agentLog(append(agentHead, "error Cluster installation timed out: context deadline exceeded")...), 6, record.OperatorsDegraded},
		{agentLog(append(agentHead, "error These cluster operators were not stable: [etcd]")...), 7, record.OperatorsDegraded},
		{agentLog(agentHead[:4]...), 8, record.Interrupted},
		{agentLog("debug asset directory: ", "fatal No cluster installation directory found"), 1, record.Failed},
	} {
		exit := Exit{Code: tc.code, Known: tc.code >= 0}
		if s := summarize(t, tc.log, exit); s.Result != tc.want {
			t.Errorf("exit %d, log ending %q: %s (%s), want %s", tc.code, lastLine(tc.log), s.Result, s.Basis, tc.want)
		}
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestSuccessLines: each success line is a Success without an exit code.
func TestSuccessLines(t *testing.T) {
	for _, line := range []string{
		"INFO Generated ISO at c1/agent.x86_64.iso.",
		"INFO Generated ISO at c1/agent.x86_64.iso. The ISO is valid up to 2025-01-02T10:00:00Z",
		"INFO Generated minimal ISO at c1/agent.x86_64.iso",
		"INFO PXE boot artifacts created in: c1/boot-artifacts",
		"INFO Cluster Manifests created in: c1/cluster-manifests and c1/mirror",
		"INFO Agent Config Template created in: c1",
		"INFO cluster bootstrap is complete",
		"INFO Cluster is installed",
		"INFO Install complete!",
		"INFO It is now safe to remove the bootstrap resources",
		"INFO Manifests created in: c1/manifests and c1/openshift",
		"INFO Ignition-Configs created in: c1 and c1/auth",
	} {
		s := summarize(t, "INFO Consuming Install Config from target directory\n"+line+"\n", Exit{})
		if s.Result != record.Success || s.Basis != BasisLogLine {
			t.Errorf("%q: %s (%s), want Success (log-line)", line, s.Result, s.Basis)
		}
	}
}

// TestAPIOrBootstrap: `Bootstrap failed to complete` while the API wait is
// in progress and `API … up` never came is APIFailed, also when the line
// lost its level in a CI wrapper's re-print.
func TestAPIOrBootstrap(t *testing.T) {
	wait := "INFO Waiting up to 20m0s (until 10:20AM UTC) for the Kubernetes API at https://api.c1.example.com:6443...\n"
	for _, tc := range []struct {
		log  string
		want record.Result
	}{
		{wait + "ERROR Bootstrap failed to complete: Get \"https://api.c1.example.com:6443/version\": EOF\n", record.APIFailed},
		{wait + "    msg=\"Bootstrap failed to complete: Get \\\"https://api.c1.example.com:6443/version\\\": EOF\"\n", record.APIFailed},
		{wait + "msg=Bootstrap failed to complete: context deadline exceeded\n", record.APIFailed},
		{wait + "INFO API v1.31.0 up\nINFO Waiting up to 30m0s for bootstrapping to complete...\nERROR Bootstrap failed to complete: context deadline exceeded\n", record.BootstrapFailed},
		{wait + "msg=API v1.31.0 up\nmsg=Bootstrap failed to complete: context deadline exceeded\n", record.BootstrapFailed},
	} {
		if s := summarize(t, tc.log, Exit{}); s.Result != tc.want {
			t.Errorf("%q: %s (%s), want %s", lastLine(tc.log), s.Result, s.Basis, tc.want)
		}
	}
}

// TestSurveyInterrupt: Ctrl-C in the install-config survey fails the asset
// with "interrupt" and exit 1; the user interrupted.
func TestSurveyInterrupt(t *testing.T) {
	log := "FATAL failed to fetch Install Config: failed to fetch dependency of \"Install Config\": failed to generate asset \"Platform\": interrupt\n"
	for _, exit := range []Exit{{}, {Code: 1, Known: true}} {
		if s := summarize(t, log, exit); s.Result != record.Interrupted {
			t.Errorf("exit %+v: %s (%s), want Interrupted", exit, s.Result, s.Basis)
		}
	}
	other := "FATAL failed to fetch Install Config: failed to generate asset \"Platform\": invalid platform\n"
	if s := summarize(t, other, Exit{Code: 1, Known: true}); s.Result != record.InvalidConfig {
		t.Errorf("asset failure: %s, want InvalidConfig", s.Result)
	}
}

// TestInstallerTimes: the installer's own timer block is kept for people,
// and never becomes a stage.
func TestInstallerTimes(t *testing.T) {
	log := "DEBUG Time elapsed per stage:\nDEBUG            cluster: 4m44s \nDEBUG Bootstrap Complete: 13m47s\n" +
		"DEBUG                API: 1m30s\nINFO Time elapsed: 30m54s\nDEBUG not a timer line: x\n"
	s := summarize(t, log, Exit{})
	want := []InstallerTime{{"cluster", 4*time.Minute + 44*time.Second}, {"Bootstrap Complete", 13*time.Minute + 47*time.Second},
		{"API", 90 * time.Second}}
	if diff := cmp.Diff(want, s.InstallerTimes); diff != "" {
		t.Errorf("installer times (-want +got):\n%s", diff)
	}
	if len(s.Stages) != 0 {
		t.Errorf("the timer block made stages: %v", s.Stages)
	}
	file := fileLog("debug Time elapsed per stage:", "debug  Cluster Operators: 12m47s", "info Time elapsed: 33m33s")
	if s := summarize(t, file, Exit{}); len(s.InstallerTimes) != 1 || s.InstallerTimes[0].Name != "Cluster Operators" {
		t.Errorf("file format: %+v", s.InstallerTimes)
	}
}
