package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/install-metrics/install-metrics/internal/testenv"
	"github.com/install-metrics/install-metrics/monitoring"
	"github.com/install-metrics/install-metrics/pkg/sink/gateway/gatewaytest"
)

const waitQuery = 45 * time.Second

// build compiles install-metrics and the replay installer into a temporary
// directory, once per test.
func build(t *testing.T) (im, installer string) {
	t.Helper()
	dir := t.TempDir()
	root := testenv.RepoRoot(t)
	for _, b := range []struct{ out, pkg string }{
		{"install-metrics", "./cmd/install-metrics"},
		{"openshift-install", "./cmd/openshift-install-replay"},
	} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, b.out), b.pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", b.pkg, err, out)
		}
	}
	return filepath.Join(dir, "install-metrics"), filepath.Join(dir, "openshift-install")
}

const installConfig = `apiVersion: v1
baseDomain: example.com
metadata:
  name: e2e
platform:
  %s: {}
pullSecret: '{"auths":{"cloud.openshift.com":{"auth":"ZTJlLXB1bGwtc2VjcmV0","email":"e2e@example.com"}}}'
`

// run is one wrapped invocation: a replay scenario in a fresh --dir.
type run struct {
	scenario string
	args     []string
	platform string // install-config.yaml platform; "" for none written
	env      []string
	code     int
	before   func(t *testing.T, dir string) // between a previous run and this one
}

// TestWrappedRunsAnswerTheUserStories runs the replay installer through the
// real install-metrics binary for several results and platforms, into a
// real statsd_exporter, the textfile and the test gateway at once. A real
// Prometheus scrapes all three (honor_labels) and the user stories' PromQL
// gets the same exact numbers from each.
func TestWrappedRunsAnswerTheUserStories(t *testing.T) {
	testenv.Tool(t, "prometheus") // skip (or fail under CI) before building anything
	im, installer := build(t)
	udp, _, statsdMetrics := testenv.StartStatsdExporter(t)
	state := t.TempDir()
	textfile := filepath.Join(state, "install-metrics", "metrics.prom")
	tf := testenv.ServeTextfile(t, textfile)
	gw := gatewaytest.NewServer(gatewaytest.Options{})
	t.Cleanup(gw.Close)

	work := t.TempDir()
	env := append(os.Environ(),
		"XDG_STATE_HOME="+state,
		"HOME="+t.TempDir(),
		"INSTALL_METRICS_INSTALLER="+installer,
		"INSTALL_METRICS_SINKS=statsd://"+udp+",file://"+textfile+","+gw.URL,
		"OPENSHIFT_INSTALL_REPLAY_SPEED=inf",
		"CI=", "OPENSHIFT_CI=", "PROW_JOB_ID=", "JENKINS_URL=", "GITHUB_ACTIONS=", "GITLAB_CI=", "BUILD_ID=",
		"INSTALL_METRICS=", "DO_NOT_TRACK=",
	)
	runs := []run{
		{scenario: "cluster-success", platform: "aws", args: []string{"create", "cluster"}},
		{scenario: "cluster-success", platform: "aws", args: []string{"create", "cluster"}},
		{scenario: "cluster-success", platform: "aws", args: []string{"create", "cluster"}, env: []string{"PROW_JOB_ID=e2e"}},
		{scenario: "cluster-api-failed", platform: "aws", args: []string{"create", "cluster"}, code: 5},
		{scenario: "cluster-operators-degraded", platform: "gcp", args: []string{"create", "cluster"}, code: 6},
		{scenario: "cluster-bootstrap-failed", platform: "vsphere", args: []string{"create", "cluster"}, code: 1},
		{scenario: "cluster-provisioning-failed", platform: "vsphere", args: []string{"create", "cluster"}, code: 1},
		{scenario: "wait-for-install-complete", platform: "alibabacloud", args: []string{"wait-for", "install-complete"}},
		{scenario: "manifests", platform: "none", args: []string{"create", "manifests"}},
		{scenario: "ignition-configs", args: []string{"create", "ignition-configs"}, before: func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, "manifests", "cluster-scheduler-02-config.yml"), "mastersSchedulable: true", "mastersSchedulable: false")
		}},
	}
	for i, r := range runs {
		dir := filepath.Join(work, fmt.Sprintf("c%d", i))
		if r.before != nil {
			dir = filepath.Join(work, fmt.Sprintf("c%d", i-1)) // the previous run's directory
			r.before(t, dir)
		}
		if r.platform != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "install-config.yaml"), fmt.Appendf(nil, installConfig, r.platform), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command(im, append(r.args, "--dir", dir)...)
		cmd.Env = append(append(env[:len(env):len(env)], "OPENSHIFT_INSTALL_REPLAY_SCENARIO="+r.scenario), r.env...)
		out, err := cmd.CombinedOutput()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("run %d (%s): %v", i, r.scenario, err)
		}
		if code != r.code {
			t.Fatalf("run %d (%s): exit code %d, want %d\n%s", i, r.scenario, code, r.code, out)
		}
		if strings.Contains(string(out), "install-metrics: warning") {
			t.Errorf("run %d (%s): a sink failed:\n%s", i, r.scenario, out)
		}
		if strings.Contains(string(out), "ZTJlLXB1bGwtc2VjcmV0") {
			t.Errorf("run %d (%s): the pull secret was printed", i, r.scenario)
		}
	}

	api := testenv.StartPrometheusWithRules(t, monitoring.RulesYAML(), statsdMetrics, tf.URL+"/metrics", gw.URL+"/metrics")
	sources := map[string]string{
		"statsd":   strings.TrimPrefix(strings.TrimSuffix(statsdMetrics, "/metrics"), "http://"),
		"textfile": strings.TrimPrefix(tf.URL, "http://"),
		"gateway":  strings.TrimPrefix(gw.URL, "http://"),
	}
	for _, st := range userStories {
		for name, inst := range sources {
			t.Run(name+"/"+st.story, func(t *testing.T) {
				q := strings.ReplaceAll(st.query, "SOURCE", `instance="`+inst+`"`)
				testenv.WaitForQuery(t, api, q, st.want, waitQuery)
			})
		}
	}
	checkMonitoring(t, api)
}

// userStories are the questions of docs/background/000 (the installer
// telemeter enhancement) with the answers the runs above must give.
var userStories = []struct {
	story, query string
	want         map[string]float64
}{
	{"installs by result",
		`sum by (result, return) (cluster_installation_invocation{command="create",target="cluster",SOURCE})`,
		map[string]float64{`{result="Success", return="0"}`: 3, `{result="APIFailed", return="5"}`: 1,
			`{result="OperatorsDegraded", return="6"}`: 1, `{result="BootstrapFailed", return="1"}`: 1,
			`{result="ProvisioningFailed", return="1"}`: 1}},
	{"installs by platform and version",
		`sum by (platform, version) (cluster_installation_invocation{command="create",target="cluster",SOURCE})`,
		map[string]float64{`{platform="aws", version="4.16"}`: 4, `{platform="gcp", version="4.16"}`: 1,
			`{platform="vsphere", version="4.7"}`: 2}},
	{"real users versus CI",
		`sum by (ci) (cluster_installation_invocation{SOURCE})`,
		map[string]float64{`{ci="false"}`: 9, `{ci="true"}`: 1}},
	{"runs per os",
		`sum by (os) (cluster_installation_invocation{SOURCE})`,
		map[string]float64{fmt.Sprintf(`{os=%q}`, runtime.GOOS): 10}},
	{"failures per stage: the stage each failed install ended in (its result class)",
		`sum by (result) (cluster_installation_invocation{command="create",target="cluster",result!="Success",SOURCE})`,
		map[string]float64{`{result="APIFailed"}`: 1, `{result="OperatorsDegraded"}`: 1,
			`{result="BootstrapFailed"}`: 1, `{result="ProvisioningFailed"}`: 1}},
	// The stage durations of the failed runs, bucketed (2.5 min steps), as
	// the recorded logs' own timestamps give them: e.g. the vSphere 4.7
	// bootstrap timeout waited 5m30s for the API and 30m10s for bootstrap.
	{"stage durations of failed installs",
		`sum by (provisioning, infrastructure, api, bootstrap, operators) (cluster_installation_duration{success="false",SOURCE})`,
		map[string]float64{
			`{api="20", infrastructure="7.5", provisioning="2.5"}`:                                  1,
			`{api="5", bootstrap="12.5", infrastructure="7.5", operators="40", provisioning="2.5"}`: 1,
			`{api="7.5", bootstrap="32.5"}`:                                                         1,
			`{infrastructure="2.5"}`:                                                                1,
		}},
	{"per-stage duration buckets of successful installs and waits",
		`sum by (api, bootstrap, operators) (cluster_installation_duration{success="true",SOURCE})`,
		map[string]float64{`{api="5", bootstrap="12.5", operators="10"}`: 3, `{operators="15"}`: 1}},
	{"modified assets",
		`sum by (asset) (cluster_installation_modification{SOURCE})`,
		map[string]float64{`{asset="manifests/cluster-scheduler-02-config.yml"}`: 1}},
}

func edit(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%q not in %s", old, path)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}
