// Package sink is the interface between the Sender and the places samples
// and invocations go: the textfile, the gateway, StatsD and OTLP traces.
//
// This file is the stand-in of branch h5-otlp for the package engineer h1
// builds (same API); at merge h1's version is kept.
package sink

import (
	"context"
	"errors"

	"github.com/install-metrics/install-metrics/pkg/push"
	"github.com/install-metrics/install-metrics/pkg/record"
)

// Batch is what one Send delivers.
type Batch struct {
	// Samples are the counters and histogram observations (stand-in:
	// push.Sample, metrics.Sample after the split).
	Samples []push.Sample
	// Invocation is the run itself, for per-invocation sinks (traces); it
	// may be nil.
	Invocation *record.Invocation
}

// Sink sends one batch somewhere. It must return by the time ctx is done.
type Sink interface {
	Send(ctx context.Context, b Batch) error
}

// NotDeliveredError marks a failure after which the batch provably did not
// arrive, so sending it again later cannot count it twice: it is spooled.
// Any other error is never resent.
type NotDeliveredError struct{ Err error }

func (e *NotDeliveredError) Error() string { return e.Err.Error() }
func (e *NotDeliveredError) Unwrap() error { return e.Err }

// IsNotDelivered reports whether err says the batch provably did not arrive.
func IsNotDelivered(err error) bool {
	var nd *NotDeliveredError
	return errors.As(err, &nd)
}
