package push

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/install-metrics/install-metrics/pkg/metrics"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// helperEnv makes the test binary act as a separate install-metrics process
// writing the textfile (see TestTextfileConcurrentProcesses).
const helperEnv = "PUSH_TEST_TEXTFILE_WRITER"

// TestMain fails the package's tests if any goroutine is left behind: every
// sink must return, and every connection must be closed, by its deadline.
func TestMain(m *testing.M) {
	if path := os.Getenv(helperEnv); path != "" {
		os.Exit(textfileWriter(path))
	}
	goleak.VerifyTestMain(m)
}

// textfileWriter sends PUSH_TEST_WRITES invocations at once to the textfile
// at path, like as many install-metrics runs ending together.
func textfileWriter(path string) int {
	n, _ := strconv.Atoi(os.Getenv("PUSH_TEST_WRITES"))
	sinks, err := ParseSinks([]string{"file://" + path}, os.TempDir())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var wg sync.WaitGroup
	failed := make(chan string, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := New(Config{Sinks: sinks, StateDir: os.TempDir(), Timeout: 60 * time.Second})
			if err != nil {
				failed <- err.Error()
				return
			}
			for _, w := range s.SendSamples(contextBackground(), metrics.Samples(testInv(), metrics.SampleOptions{})).Warnings {
				failed <- w.Error()
			}
		}()
	}
	wg.Wait()
	close(failed)
	code := 0
	for f := range failed {
		fmt.Fprintln(os.Stderr, f)
		code = 1
	}
	return code
}
