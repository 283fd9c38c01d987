package push_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/install-metrics/install-metrics/pkg/push"
	"github.com/install-metrics/install-metrics/pkg/record"
	"github.com/install-metrics/install-metrics/pkg/show"
)

// Example sends one invocation to the local textfile (the default sink) and
// shows the record's samples, as `install-metrics metrics show --format prom`
// prints them (the histogram's _bucket lines left out here).
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
	var buf strings.Builder
	if err := show.Show(&buf, filepath.Join(state, "metrics.prom"), "prom"); err != nil {
		fmt.Println(err)
	}
	for line := range strings.Lines(buf.String()) {
		if !strings.HasPrefix(line, "#") && !strings.Contains(line, "_bucket{") { // the samples, buckets aside
			fmt.Print(line)
		}
	}
	// Output:
	// cluster_installation_command_duration_seconds_sum{ci="false",command="destroy",platform="aws",result="Success",target="cluster",version="4.16"} 240
	// cluster_installation_command_duration_seconds_count{ci="false",command="destroy",platform="aws",result="Success",target="cluster",version="4.16"} 1
	// cluster_installation_invocation{ci="false",command="destroy",duration="5",os="linux",platform="aws",result="Success",return="0",target="cluster",version="4.16"} 1
}
