package push_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/install-metrics/install-metrics/pkg/push"
	"github.com/install-metrics/install-metrics/pkg/record"
)

// Example sends one invocation to the local textfile (the default sink) and
// shows the record, as `install-metrics metrics show --format prom` does.
func Example() {
	state, err := os.MkdirTemp("", "push-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(state)

	sinks, err := push.ParseSinks(nil, state) // no --metrics-sink: the textfile
	if err != nil {
		fmt.Println(err)
		return
	}
	sender, err := push.New(push.Config{Sinks: sinks, StateDir: state, Timeout: push.DefaultTimeout})
	if err != nil {
		fmt.Println(err)
		return
	}
	rep := sender.Send(context.Background(), record.Invocation{
		Command: "destroy", Target: "cluster", OS: "linux", Platform: "aws",
		Version: "4.16.20", Result: record.Success, Wall: 4 * time.Minute,
	})
	for _, w := range rep.Warnings {
		fmt.Println("warning:", w)
	}
	if err := push.Show(os.Stdout, filepath.Join(state, "metrics.prom"), "prom"); err != nil {
		fmt.Println(err)
	}
	// Output:
	// # HELP cluster_installation_invocation Installer commands run through install-metrics, by command, target, os, platform, result, exit code, version, bucketed duration (minutes) and CI.
	// # TYPE cluster_installation_invocation counter
	// cluster_installation_invocation{ci="false",command="destroy",duration="5",os="linux",platform="aws",result="Success",return="0",target="cluster",version="4.16"} 1
}

// ExampleBucket shows the duration bucket rule with the default step.
func ExampleBucket() {
	for _, d := range []time.Duration{0, 2*time.Minute + 30*time.Second, 25 * time.Minute, 25*time.Minute + time.Second} {
		fmt.Println(d, push.Bucket(d, push.DefaultBucket))
	}
	// Output:
	// 0s 2.5
	// 2m30s 2.5
	// 25m0s 25
	// 25m1s 27.5
}

// ExampleStatsDLines shows the DogStatsD lines of a StatsD sink with
// ?prefix=im.
func ExampleStatsDLines() {
	samples := push.Samples(record.Invocation{Command: "version", OS: "darwin", Result: record.Success}, push.SampleOptions{})
	for _, l := range push.StatsDLines(samples, "im") {
		fmt.Println(l)
	}
	// Output:
	// im.cluster_installation_invocation:1|c|#command:version,os:darwin,platform:unknown,result:Success,return:0,version:unknown,duration:2.5,ci:false
}
