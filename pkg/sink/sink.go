package sink

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/install-metrics/install-metrics/internal/fsutil"
	"github.com/install-metrics/install-metrics/pkg/metrics"
	"github.com/install-metrics/install-metrics/pkg/record"
)

// Batch is what one Send carries: the samples of one invocation (or of a
// spooled push) and, when known, the invocation itself for sinks that send
// one record per run (traces).
type Batch struct {
	// Samples are counter increments and histogram observations.
	Samples []metrics.Sample `json:"samples"`
	// Invocation is the run itself, for per-invocation sinks; may be nil.
	Invocation *record.Invocation `json:"invocation,omitempty"`
	// ID is the journal entry's id (pkg/journal), the idempotency key of
	// sinks that keep one (the textfile skips an id it already applied);
	// "" for a push without one.
	ID string `json:"id,omitempty"`
	// BeforeWrite, when set, is called by network sinks once the
	// connection is up (TLS included) and before the first byte of the
	// request or datagram is written; an error stops the send, which then
	// provably did not arrive (a *NotDeliveredError). It is how a
	// journaled run marks the sink Sending at the last moment: a kill
	// before it leaves the sink to be sent later, one after it never
	// sends twice (pkg/journal). Local sinks ignore it.
	BeforeWrite func() error `json:"-"`
}

// Ready calls b.BeforeWrite, if any.
func (b Batch) Ready() error {
	if b.BeforeWrite == nil {
		return nil
	}
	return b.BeforeWrite()
}

// Sink sends one batch somewhere. It must return by the time ctx is done.
// An error wrapping a *NotDeliveredError means the batch provably did not
// arrive and may be sent again; any other error means it was rejected or may
// have arrived, and it is not resent.
type Sink interface {
	Send(ctx context.Context, b Batch) error
}

// NotDeliveredError marks a failure after which the samples provably did not
// arrive (nothing was written, or the far end refused before processing), so
// sending them again cannot count them twice.
type NotDeliveredError struct{ Err error }

func (e *NotDeliveredError) Error() string { return e.Err.Error() }
func (e *NotDeliveredError) Unwrap() error { return e.Err }

// NotDelivered wraps err in a *NotDeliveredError.
func NotDelivered(err error) error { return &NotDeliveredError{Err: err} }

// IsNotDelivered reports whether err says the samples provably did not arrive.
func IsNotDelivered(err error) bool {
	var nd *NotDeliveredError
	return errors.As(err, &nd)
}

// CorruptError says a file (a textfile, a spool entry) cannot be read as ours.
type CorruptError struct {
	Path   string
	Reason string
	// What names the kind of file in the message ("textfile" by default).
	What string
}

func (e *CorruptError) Error() string {
	what := e.What
	if what == "" {
		what = "textfile"
	}
	return fmt.Sprintf("%s %s is corrupt: %s", what, e.Path, e.Reason)
}

// DialFunc is net.Dialer.DialContext; tests replace it to simulate DNS
// failures without leaving the machine.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// OneLine squeezes s into one printable line of at most max bytes.
func OneLine(s string, max int) string {
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

// Redact replaces every secret in s by "[REDACTED]" (a hostile or
// misconfigured gateway might echo a header back in its error message).
func Redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	return s
}

// ErrnoOf drops a (temporary) file's name from an error.
func ErrnoOf(err error) error { return fsutil.Errno(err) }

// CleanPathErr rewrites an *os.PathError as "path: errno" (no operation).
func CleanPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

// SyncDir fsyncs a directory (after a rename into it); errors are ignored.
func SyncDir(dir string) { _ = fsutil.SyncDir(dir) }

// Loopback reports whether rawURL's host is localhost or a loopback
// address, where a credential may travel over plain http.
func Loopback(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// IsTimeout reports whether err is a deadline or a network timeout.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
