package journal_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/install-metrics/install-metrics/pkg/journal"
	"github.com/install-metrics/install-metrics/pkg/record"
)

// A wrapper records its run before the installer starts, completes it when
// the installer ends and marks each sink around its send. A run whose
// wrapper died is taken over by the next invocation and sent as it stands.
func Example() {
	state, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(state)
	j := journal.Open(filepath.Join(state, "journal"), journal.Config{})
	gateway := "https://gateway.example:9091/metrics/job/install-metrics"

	e, err := j.Begin(record.Invocation{Command: "create", Target: "cluster", Platform: "aws", OS: "linux"}, []string{gateway})
	if err != nil {
		fmt.Println(err) // one warning line; the installer runs anyway
		return
	}
	// ... the installer runs and exits 0 ...
	_ = e.Complete(record.Invocation{Command: "create", Target: "cluster", Platform: "aws", OS: "linux",
		Result: record.Success, ExitCode: 0, Wall: 40 * time.Minute})
	_ = e.Sending(gateway) // durable before the first byte goes out
	// ... the gateway refuses the connection: provably not delivered ...
	_ = e.Pending(gateway)
	_ = e.Close() // kept: it is now the spooled push

	es, _ := j.TakeOver(context.Background()) // the next invocation, or metrics flush
	for _, e := range es {
		st := e.State()
		fmt.Println(st.Invocation.Result, st.Status(gateway))
		_ = e.Sending(gateway)
		_ = e.Done(gateway) // the gateway took it
		_ = e.Close()       // every sink done: removed
	}
	// Output: Success pending
}
