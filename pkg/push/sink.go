package push

import (
	"context"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sink sends one batch of samples somewhere. It must return by the time ctx
// is done. An error wrapping a *NotDeliveredError means the samples provably
// did not arrive and may be sent again; any other error means they were
// rejected or may have arrived, and they are not resent.
type Sink interface {
	Send(ctx context.Context, samples []Sample) error
}

// NotDeliveredError marks a failure after which the samples provably did not
// arrive (nothing was written, or the far end refused before processing), so
// sending them again cannot count them twice.
type NotDeliveredError struct{ Err error }

func (e *NotDeliveredError) Error() string { return e.Err.Error() }
func (e *NotDeliveredError) Unwrap() error { return e.Err }

func notDelivered(err error) error { return &NotDeliveredError{Err: err} }

// IsNotDelivered reports whether err says the samples provably did not arrive.
func IsNotDelivered(err error) bool {
	var nd *NotDeliveredError
	return errors.As(err, &nd)
}

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
	b.WriteString(oneLine(w.Err.Error(), 400))
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

// oneLine squeezes s into one printable line of at most max bytes.
func oneLine(s string, max int) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			space = true
			continue
		}
		if b.Len()+1+utf8.RuneLen(r) > max {
			return b.String() + "…"
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// redact replaces every secret in s by "[REDACTED]" (a hostile or
// misconfigured gateway might echo a header back in its error message).
func redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	return s
}
