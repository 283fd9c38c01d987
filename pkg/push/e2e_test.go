package push

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/install-metrics/install-metrics/internal/testenv"
	"github.com/install-metrics/install-metrics/pkg/record"
	"github.com/install-metrics/install-metrics/pkg/sink/gateway/gatewaytest"
)

// waitQuery bounds how long a PromQL answer may take to settle (scrapes
// every second, StatsD flushes every 200ms).
const waitQuery = 45 * time.Second

// storyRuns are the invocations behind the user-story queries.
func storyRuns() []record.Invocation {
	t0 := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	st := func(name record.StageName, from, to int, finished bool) record.Stage {
		return record.Stage{Name: name, Start: t0.Add(time.Duration(from) * time.Minute), End: t0.Add(time.Duration(to) * time.Minute), Finished: finished}
	}
	full := []record.Stage{st(record.Provisioning, 0, 2, true), st(record.Infrastructure, 2, 9, true),
		st(record.API, 9, 12, true), st(record.Bootstrap, 9, 21, true), st(record.Operators, 22, 45, true)}
	create := func(platform, goos string, res record.Result, code, stages int, modified []string) record.Invocation {
		return record.Invocation{Command: "create", Target: "cluster", OS: goos, Platform: platform, Version: "4.16.20",
			Result: res, ExitCode: code, Stages: full[:stages], Wall: 46 * time.Minute, Modified: modified}
	}
	var runs []record.Invocation
	for range 5 {
		runs = append(runs, create("aws", "linux", record.Success, 0, 5, []string{"install-config.yaml", "manifests/cluster-config.yaml"}))
	}
	for range 2 {
		runs = append(runs, create("aws", "darwin", record.Success, 0, 5, []string{}))
	}
	bootstrapFailed := create("vsphere", "linux", record.BootstrapFailed, 5, 4, nil)
	bootstrapFailed.Stages = append(full[:3:3], st(record.Bootstrap, 9, 40, false))
	runs = append(runs,
		bootstrapFailed,
		create("gcp", "linux", record.APIFailed, 5, 3, nil),
		create("gcp", "linux", record.APIFailed, 5, 3, nil),
		create("azure", "darwin", record.ProvisioningFailed, 4, 2, nil),
		create("aws", "linux", record.OperatorsDegraded, 6, 5, nil),
		create("aws", "linux", record.InvalidConfig, 3, 1, nil),
		record.Invocation{Command: "destroy", Target: "cluster", OS: "linux", Platform: "aws", Version: "4.16.20", Result: record.Success, Wall: 6 * time.Minute},
		record.Invocation{Command: "destroy", Target: "cluster", OS: "darwin", Platform: "aws", Version: "4.16.20", Result: record.Success, Wall: 7 * time.Minute},
		record.Invocation{Command: "wait-for", Target: "install-complete", OS: "linux", Platform: "aws", Version: "4.16.20",
			Result: record.Success, Stages: []record.Stage{st(record.Operators, 0, 20, true)}, Wall: 20 * time.Minute},
		record.Invocation{Command: "create", Target: "ignition-configs", OS: "linux", Platform: "none", Version: "4.16.20",
			Result: record.Success, Wall: 10 * time.Second, Modified: []string{"openshift/99_openshift-cluster-api_master-machines-0.yaml"}},
	)
	return runs
}

// TestEndToEndUserStories replays runs into a real statsd_exporter, the
// textfile and the test gateway at once; a real Prometheus scrapes all
// three, and PromQL answers the user stories of the installer telemeter
// enhancement with the same exact numbers from each.
func TestEndToEndUserStories(t *testing.T) {
	testenv.Tool(t, "prometheus") // skip before starting anything
	udp, _, statsdMetrics := testenv.StartStatsdExporter(t)
	state := t.TempDir()
	textfile := filepath.Join(state, "metrics.prom")
	tf := testenv.ServeTextfile(t, textfile)
	gw := newGatewayServer(t, gatewaytest.Options{})

	s := newSender(t, Config{StateDir: state, Timeout: 5 * time.Second},
		"statsd://"+udp, "file://"+textfile, gw.URL)
	for i, inv := range storyRuns() {
		if rep := s.Send(t.Context(), inv); len(rep.Warnings) != 0 || len(rep.Sent) != 3 {
			t.Fatalf("run %d: sent %v, warnings %q", i, rep.Sent, warnings(rep))
		}
	}
	api := testenv.StartPrometheus(t, statsdMetrics, tf.URL+"/metrics", gw.URL+"/metrics")

	sources := map[string]string{
		"statsd":   strings.TrimPrefix(strings.TrimSuffix(statsdMetrics, "/metrics"), "http://"),
		"textfile": strings.TrimPrefix(tf.URL, "http://"),
		"gateway":  strings.TrimPrefix(gw.URL, "http://"),
	}
	stories := []struct {
		story, query string
		want         map[string]float64
	}{
		{"how installs end (create cluster, by result)",
			`sum by (result) (cluster_installation_invocation{command="create",target="cluster",%s})`,
			map[string]float64{`{result="Success"}`: 7, `{result="BootstrapFailed"}`: 1, `{result="APIFailed"}`: 2,
				`{result="ProvisioningFailed"}`: 1, `{result="OperatorsDegraded"}`: 1, `{result="InvalidConfig"}`: 1}},
		{"how long successful installs take (minutes, bucketed)",
			`sum by (duration) (cluster_installation_invocation{command="create",target="cluster",result="Success",%s})`,
			map[string]float64{`{duration="47.5"}`: 7}},
		{"how long bootstrapping takes, successful or not",
			`sum by (bootstrap, success) (cluster_installation_duration{bootstrap!="",%s})`,
			map[string]float64{`{bootstrap="12.5", success="true"}`: 7, `{bootstrap="12.5", success="false"}`: 1, `{bootstrap="32.5", success="false"}`: 1}},
		{"how long the operators take",
			`sum by (operators) (cluster_installation_duration{operators!="",%s})`,
			map[string]float64{`{operators="25"}`: 8, `{operators="20"}`: 1}},
		{"where failed runs stopped: the last stage reached",
			`sum(cluster_installation_duration{success="false",api!="",bootstrap="",%s}) or vector(0)`,
			map[string]float64{`{}`: 2}},
		{"failures by stage (result classes)",
			`sum by (result) (cluster_installation_invocation{result=~".+Failed|OperatorsDegraded|InvalidConfig",%s})`,
			map[string]float64{`{result="BootstrapFailed"}`: 1, `{result="APIFailed"}`: 2, `{result="ProvisioningFailed"}`: 1,
				`{result="OperatorsDegraded"}`: 1, `{result="InvalidConfig"}`: 1}},
		{"how often users modify generated assets, by asset",
			`sum by (asset) (cluster_installation_modification{%s})`,
			map[string]float64{`{asset="install-config.yaml"}`: 5, `{asset="manifests/cluster-config.yaml"}`: 5,
				`{asset="openshift/99_openshift-cluster-api_master-machines-0.yaml"}`: 1}},
		{"how often the installer runs from macOS",
			`sum by (os) (cluster_installation_invocation{%s})`,
			map[string]float64{`{os="linux"}`: 13, `{os="darwin"}`: 4}},
	}
	for _, st := range stories {
		for name, inst := range sources {
			t.Run(name+"/"+st.story, func(t *testing.T) {
				q := fmt.Sprintf(st.query, `instance="`+inst+`"`)
				testenv.WaitForQuery(t, api, q, st.want, waitQuery)
			})
		}
	}
}

// TestEndToEndScaleOut: three statsd_exporter replicas behind round-robin
// sinks take 300 invocations; summed over instances, Prometheus has exactly
// the totals.
func TestEndToEndScaleOut(t *testing.T) {
	testenv.Tool(t, "prometheus")
	const replicas, runs = 3, 300
	var targets, sinks []string
	for range replicas {
		_, tcp, metrics := testenv.StartStatsdExporter(t)
		targets = append(targets, metrics)
		sinks = append(sinks, "statsd+tcp://"+tcp)
	}
	senders := make([]*Sender, replicas)
	for i := range senders {
		senders[i] = newSender(t, Config{}, sinks[i])
	}
	base := storyRuns()
	want := map[string]float64{}
	for i := range runs {
		inv := base[i%len(base)]
		rep := senders[i%replicas].Send(t.Context(), inv)
		if len(rep.Warnings) != 0 {
			t.Fatalf("run %d: %q", i, warnings(rep))
		}
		want[fmt.Sprintf(`{result="%s"}`, inv.Result)]++
	}
	api := testenv.StartPrometheus(t, targets...)
	testenv.WaitForQuery(t, api, `sum by (result) (sum without (instance) (cluster_installation_invocation))`, want, waitQuery)
	testenv.WaitForQuery(t, api, `sum(cluster_installation_invocation)`, map[string]float64{`{}`: runs}, waitQuery)
	testenv.WaitForQuery(t, api, `count(sum by (instance) (cluster_installation_invocation) == 100)`, map[string]float64{`{}`: replicas}, waitQuery)
}
