package push

import (
	"strings"

	"github.com/install-metrics/install-metrics/pkg/sink"
)

// Warning is one failure, printed as one line. It never holds a secret.
type Warning struct {
	// Sink is the canonical sink URL ("spool" for the spool itself).
	Sink string
	// Spooled is true when the samples were kept for a later flush.
	Spooled bool
	Err     error
}

func (w *Warning) Error() string {
	var b strings.Builder
	if w.Sink != "" {
		b.WriteString(w.Sink)
		b.WriteString(": ")
	}
	b.WriteString(sink.OneLine(w.Err.Error(), 400))
	if w.Spooled {
		b.WriteString(`; kept in the spool for the next run or "install-metrics metrics flush"`)
	}
	return b.String()
}

func (w *Warning) Unwrap() error { return w.Err }

// Report says what happened to one Send or Flush.
type Report struct {
	// Sent lists the sinks that took the samples.
	Sent []string
	// Spooled lists the sinks whose samples wait in the spool.
	Spooled []string
	// Flushed counts spooled batches delivered now.
	Flushed int
	// Waiting counts spooled batches for sinks that are not configured now,
	// by sink; only Flush reports them (as a warning).
	Waiting map[string]int
	// Warnings are the failures, one line each (print them with a
	// "warning:" prefix); they never change the exit code.
	Warnings []*Warning
}
