package statsd_test

import (
	"fmt"

	"github.com/install-metrics/install-metrics/pkg/metrics"
	"github.com/install-metrics/install-metrics/pkg/record"
	"github.com/install-metrics/install-metrics/pkg/sink/statsd"
)

// ExampleLines shows the DogStatsD lines of a StatsD sink with
// ?prefix=im: a counter and a histogram observation (a timer in ms).
func ExampleLines() {
	samples := metrics.Samples(record.Invocation{Command: "version", OS: "darwin", Result: record.Success}, metrics.SampleOptions{})
	for _, l := range statsd.Lines(samples, "im") {
		fmt.Println(l)
	}
	// Output:
	// im.cluster_installation_invocation:1|c|#command:version,os:darwin,platform:unknown,result:Success,return:0,version:unknown,duration:2.5,ci:false
	// im.cluster_installation_command_duration_seconds:0|ms|#command:version,result:Success,version:unknown,platform:unknown,ci:false
}
