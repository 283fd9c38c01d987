package statsd

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"

	"github.com/install-metrics/install-metrics/pkg/metrics"
	"github.com/install-metrics/install-metrics/pkg/sink"
)

// maxDatagram keeps each UDP datagram within a typical path MTU (the
// DogStatsD client default); one invocation normally fits in one.
const maxDatagram = 1432

// StatsD sends counters as StatsD counters and histogram observations as
// timers, with DogStatsD tags, the way ironic-lib's statsd backend does
// (prefix.name, one non-blocking datagram), so that prometheus/statsd_exporter
// turns the tags back into labels (and, with monitoring/statsd-mapping.yaml,
// the timers into histograms with the contract's buckets).
type StatsD struct {
	sink sink.URL
	dial sink.DialFunc
}

// New returns the sink for the StatsD daemon at u; dial nil means net.Dialer.
func New(u sink.URL, dial sink.DialFunc) *StatsD { return &StatsD{sink: u, dial: dial} }

// Send implements sink.Sink.
func (s *StatsD) Send(ctx context.Context, b sink.Batch) error {
	lines := Lines(b.Samples, s.sink.Prefix)
	network := "udp"
	if s.sink.Scheme == "statsd+tcp" {
		network = "tcp"
	}
	dial := s.dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	conn, err := dial(ctx, network, s.sink.Addr)
	if err != nil {
		return sink.NotDelivered(dialReason(ctx, err))
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if err := b.Ready(); err != nil {
		return sink.NotDelivered(fmt.Errorf("not sent: %w", err))
	}
	if network == "udp" {
		for _, dgram := range packDatagrams(lines, maxDatagram) {
			if _, err := conn.Write([]byte(dgram)); err != nil {
				// A datagram is sent whole or not at all.
				return sink.NotDelivered(fmt.Errorf("sending to %s: %w", s.sink.Addr, opErr(err)))
			}
		}
		return nil
	}
	payload := strings.Join(lines, "\n") + "\n"
	n, err := conn.Write([]byte(payload))
	switch {
	case err == nil:
		return nil
	case n == 0:
		return sink.NotDelivered(fmt.Errorf("sending to %s: %w", s.sink.Addr, opErr(err)))
	default:
		return fmt.Errorf("connection to %s failed after %d of %d bytes (%w); the samples may have been counted, so they are not resent", s.sink.Addr, n, len(payload), opErr(err))
	}
}

func dialReason(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || sink.IsTimeout(err) {
		return errors.New("no connection before --metrics-timeout ran out")
	}
	return opErr(err)
}

// opErr drops the net.OpError wrapping's repetition ("dial tcp 127.0.0.1:1:
// connect: connection refused" stays readable as is).
func opErr(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Timeout() {
		return errors.New("timed out")
	}
	return err
}

// Lines renders samples as DogStatsD lines in the schema's label order:
// a counter as "[prefix.]NAME:VALUE|c|#label:value,...", a histogram
// observation as a timer in milliseconds, "[prefix.]NAME:MS|ms|#...".
// Empty label values are left out (in PromQL an empty label equals an absent
// one). A joined asset list becomes one line per asset: a tag value cannot
// hold a comma. A value that could break the line format becomes "other".
func Lines(samples []metrics.Sample, prefix string) []string {
	var out []string
	for _, s := range samples {
		name := s.Name
		if prefix != "" {
			name = prefix + "." + s.Name
		}
		typ, value := "c", s.Value
		if s.Kind == metrics.Histogram {
			typ, value = "ms", math.Round(s.Value*1e6)/1e3 // whole microseconds
		}
		v := strconv.FormatFloat(value, 'f', -1, 64)
		if s.Name == metrics.ModificationFamily && strings.Contains(s.Label("asset"), ",") {
			for _, a := range strings.Split(s.Label("asset"), ",") {
				out = append(out, line(name, v, typ, []metrics.Label{{Name: "asset", Value: a}}))
			}
			continue
		}
		out = append(out, line(name, v, typ, s.Labels))
	}
	return out
}

func line(name, value, typ string, labels []metrics.Label) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte(':')
	b.WriteString(value)
	b.WriteByte('|')
	b.WriteString(typ)
	sep := "|#"
	for _, l := range labels {
		if l.Value == "" {
			continue
		}
		v := l.Value
		if strings.ContainsAny(v, ",|#\n\r: ") {
			v = metrics.Other
		}
		b.WriteString(sep)
		b.WriteString(l.Name)
		b.WriteByte(':')
		b.WriteString(v)
		sep = ","
	}
	return b.String()
}

// packDatagrams groups lines, newline-separated, into datagrams of at most
// limit bytes (a longer line travels alone).
func packDatagrams(lines []string, limit int) []string {
	var out []string
	var cur strings.Builder
	for _, l := range lines {
		if cur.Len() > 0 && cur.Len()+1+len(l) > limit {
			out = append(out, cur.String())
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte('\n')
		}
		cur.WriteString(l)
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}
