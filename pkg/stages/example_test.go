package stages_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/install-metrics/install-metrics/pkg/stages"
)

func ExampleClassify() {
	log := `time="2025-03-10T09:00:00Z" level=debug msg="OpenShift Installer 4.16.3"
time="2025-03-10T09:00:00Z" level=info msg="Consuming Install Config from target directory"
time="2025-03-10T09:00:05Z" level=info msg="Creating infrastructure resources..."
time="2025-03-10T09:04:49Z" level=info msg="Waiting up to 20m0s (until 9:24AM UTC) for the Kubernetes API at https://api.c1.example.com:6443..."
time="2025-03-10T09:08:49Z" level=info msg="API v1.29.6+aba1e8d up"
time="2025-03-10T09:08:49Z" level=info msg="Waiting up to 45m0s (until 9:53AM UTC) for bootstrapping to complete..."
time="2025-03-10T09:53:50Z" level=error msg="Bootstrap failed to complete: timed out waiting for the condition"
`
	s, err := stages.Classify(strings.NewReader(log), time.Now, stages.Exit{Code: 5, Known: true})
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Version, s.Result, s.Basis)
	for _, st := range s.Stages {
		fmt.Println(st.Name, st.Duration(), st.Finished)
	}
	// Output:
	// 4.16.3 BootstrapFailed exit-code
	// provisioning 5s true
	// infrastructure 4m44s true
	// api 4m0s true
	// bootstrap 45m1s false
}

func ExampleTracker() {
	clock := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	t := stages.NewTracker(func() time.Time { return clock })
	for _, line := range []string{
		"\x1b[36mINFO\x1b[0m Waiting up to 20m0s for the Kubernetes API at https://api.c1.example.com:6443... \r",
		"\x1b[36mINFO\x1b[0m API v1.22.2+c8538fc up                       \r",
	} {
		t.Line([]byte(line))
	}
	s := t.Summary(stages.Exit{}) // no exit status: the log just stops
	fmt.Println(s.Format, s.Result, s.Basis, s.Stages[0].Name, s.Stages[0].Finished)
	// Output:
	// terminal Interrupted end-of-log api true
}
