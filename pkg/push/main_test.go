package push

import (
	"flag"
	"testing"

	"go.uber.org/goleak"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestMain fails the package's tests if any goroutine is left behind: every
// sink must return, and every connection must be closed, by its deadline.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
