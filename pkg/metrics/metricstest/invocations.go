// Package metricstest holds the invocation records behind pkg/metrics'
// golden files, for the tests of every package that sends samples.
package metricstest

import (
	"time"

	"github.com/install-metrics/install-metrics/pkg/record"
)

// Invocations are the records behind pkg/metrics' golden files, shared by
// the sinks' tests. Every stage is Timed (the log gave its times).
func Invocations() map[string]record.Invocation {
	t0 := time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)
	stage := func(name record.StageName, from, to time.Duration, finished bool) record.Stage {
		return record.Stage{Name: name, Start: t0.Add(from), End: t0.Add(to), Finished: finished, Timed: true}
	}
	return map[string]record.Invocation{
		"create-cluster-success": {
			Command: "create", Target: "cluster", OS: "linux", Platform: "aws", Version: "4.16.20",
			Result: record.Success, ExitCode: 0, Start: t0, Wall: 41*time.Minute + 3*time.Second,
			Stages: []record.Stage{
				stage(record.Provisioning, 0, 1*time.Minute, true),
				stage(record.Infrastructure, 1*time.Minute, 6*time.Minute, true),
				stage(record.API, 6*time.Minute, 9*time.Minute, true),
				stage(record.Bootstrap, 6*time.Minute, 18*time.Minute, true),
				stage(record.Operators, 19*time.Minute, 41*time.Minute, true),
			},
			Modified: []string{"manifests/cluster-config.yaml", "install-config.yaml", "user-added"},
		},
		"create-cluster-bootstrap-failed": {
			Command: "create", Target: "cluster", OS: "darwin", Platform: "vsphere", Version: "4.14.0-rc.1",
			Result: record.BootstrapFailed, ExitCode: 5, Start: t0, Wall: 52 * time.Minute, CI: true,
			Stages: []record.Stage{
				stage(record.Provisioning, 0, 2*time.Minute, true),
				stage(record.Infrastructure, 2*time.Minute, 8*time.Minute, true),
				stage(record.API, 8*time.Minute, 10*time.Minute, true),
				stage(record.Bootstrap, 8*time.Minute, 52*time.Minute, false),
			},
			Modified: []string{"install-config.yaml"}, // not a success: no modification sample
		},
		"destroy-cluster": {
			Command: "destroy", Target: "cluster", OS: "linux", Platform: "gcp", Version: "4.5.0-0.okd-2020-07-14-153706-ga",
			Result: record.Success, Start: t0, Wall: 4 * time.Minute,
		},
		"wait-for-install-complete-degraded": {
			Command: "wait-for", Target: "install-complete", OS: "linux", Platform: "baremetal",
			Version: "unreleased-master-542-g0e12f4527c25e9d1e2ddb31bea0ace0cb6d463ca-dirty",
			Result:  record.OperatorsDegraded, ExitCode: 6, Start: t0, Wall: 40 * time.Minute,
			Stages: []record.Stage{stage(record.Operators, 0, 40*time.Minute, false)},
		},
		"version": {Command: "version", OS: "linux", Platform: "unknown", Version: "4.16.20", Result: record.Success, Wall: time.Second},
		"hostile": {
			Command: "rm -rf /", Target: "cluster\",evil=\"1", OS: "TempleOS", Platform: "AWS",
			Version: "4.16.20\" evil", Result: "Pwned", ExitCode: -1, Wall: -time.Hour,
			Modified: []string{"../../etc/passwd", "my secret file.yaml", "manifests/ok.yaml", "a,b", ""},
		},
	}
}

// EdgeSeconds are the stage durations of the table tests at the bucket
// edges: just below, on and just above the first bound, on the last finite
// bound (3 h) and far beyond it (30 h).
var EdgeSeconds = []float64{59, 60, 61, 3 * 3600, 30 * 3600}

// EdgeBuckets is the cumulative count per le of the stage histogram after
// one bootstrap observation of each EdgeSeconds value.
var EdgeBuckets = map[string]uint64{
	"60": 2, "120": 3, "300": 3, "600": 3, "900": 3, "1200": 3, "1800": 3, "2700": 3,
	"3600": 3, "5400": 3, "7200": 3, "10800": 4, "+Inf": 5,
}

// EdgeSum is the _sum of the stage histogram after EdgeInvocations.
const EdgeSum = 59 + 60 + 61 + 3*3600 + 30*3600

// EdgeInvocations are successful create cluster runs on 4.16/aws, one per
// EdgeSeconds value, whose only stage is a finished, timed bootstrap of that
// duration.
func EdgeInvocations() []record.Invocation {
	t0 := time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)
	var out []record.Invocation
	for _, s := range EdgeSeconds {
		d := time.Duration(s * float64(time.Second))
		out = append(out, record.Invocation{
			Command: "create", Target: "cluster", OS: "linux", Platform: "aws", Version: "4.16.3",
			Result: record.Success, Start: t0, Wall: d,
			Stages: []record.Stage{{Name: record.Bootstrap, Start: t0, End: t0.Add(d), Finished: true, Timed: true}},
		})
	}
	return out
}
