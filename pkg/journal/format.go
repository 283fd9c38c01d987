package journal

import (
	"slices"
	"time"

	"github.com/mailru/easyjson"

	"github.com/install-metrics/install-metrics/pkg/record"
)

// The types written to disk: a record file, and each slot of a lock file
// (slots.go), holds a state. They are encoded by
// format_easyjson.go, generated from this file by easyjson (`make
// generate`; lint fails when it is stale): code, not reflection, so that
// the first record of a process, written in front of the installer's
// start, costs microseconds instead of the 0.3-0.5 ms encoding/json needs
// to build its encoders for these types once per process
// (docs/benchmarks.md). They are read with encoding/json: reading is for
// takeovers and flushes, where nobody waits, and TestFormatMatchesEncodingJSON
// holds the two to the same bytes.

// state is the record file's content.
//
//easyjson:json
type state struct {
	Version int       `json:"version"`
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	// Seq counts the writes of this record (1 after Begin).
	Seq         int64             `json:"seq"`
	Provisional bool              `json:"provisional"`
	Invocation  record.Invocation `json:"invocation"`
	Sinks       []Sink            `json:"sinks"`
	Dir         string            `json:"dir,omitempty"`
}

// Ending is how the installer ended, as the wrapper knows it the moment
// its child is reaped: before the log's last lines are read and long
// before Complete.
type Ending struct {
	ExitCode int           `json:"exit"`
	Result   record.Result `json:"result"` // what the exit code alone gives
	Wall     time.Duration `json:"wall"`
	Signal   string        `json:"signal,omitempty"`
}

// marshal encodes v with its generated encoder.
func marshal(v easyjson.Marshaler) ([]byte, error) { return easyjson.Marshal(v) }

// inUTC is inv with its times in UTC, the same instants. A record holds
// UTC times: encoding a local time loads the system's time zone first
// (/etc/localtime, 0.1 ms), which Begin would pay in front of the
// installer's start.
func inUTC(inv record.Invocation) record.Invocation {
	inv.Start = inv.Start.UTC()
	if len(inv.Stages) > 0 {
		inv.Stages = slices.Clone(inv.Stages)
		for i := range inv.Stages {
			s := &inv.Stages[i]
			s.Start, s.End = s.Start.UTC(), s.End.UTC()
		}
	}
	return inv
}
