package otlp

import (
	"flag"
	"testing"

	"go.uber.org/goleak"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestMain fails the tests if a goroutine is left behind: every Send must
// return, and close its connection, by its deadline.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
