package push

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// maxDatagram keeps each UDP datagram within a typical path MTU (the
// DogStatsD client default); one invocation normally fits in one.
const maxDatagram = 1432

// statsd sends samples as StatsD counters with DogStatsD tags, the way
// ironic-lib's statsd backend does (prefix.name, one non-blocking datagram),
// so that prometheus/statsd_exporter turns the tags back into labels.
type statsd struct {
	sink SinkURL
	dial dialFunc
}

// Send implements Sink.
func (s *statsd) Send(ctx context.Context, samples []Sample) error {
	lines := StatsDLines(samples, s.sink.Prefix)
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
		return notDelivered(dialReason(ctx, err))
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if network == "udp" {
		for _, dgram := range packDatagrams(lines, maxDatagram) {
			if _, err := conn.Write([]byte(dgram)); err != nil {
				// A datagram is sent whole or not at all.
				return notDelivered(fmt.Errorf("sending to %s: %w", s.sink.Addr, opErr(err)))
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
		return notDelivered(fmt.Errorf("sending to %s: %w", s.sink.Addr, opErr(err)))
	default:
		return fmt.Errorf("connection to %s failed after %d of %d bytes (%w); the samples may have been counted, so they are not resent", s.sink.Addr, n, len(payload), opErr(err))
	}
}

func dialReason(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || isTimeout(err) {
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

// StatsDLines renders samples as DogStatsD counter lines,
// "[prefix.]NAME:VALUE|c|#label:value,...", in the schema's label order.
// Empty label values are left out (in PromQL an empty label equals an absent
// one). A joined asset list becomes one line per asset: a tag value cannot
// hold a comma. A value that could break the line format becomes "other".
func StatsDLines(samples []Sample, prefix string) []string {
	var out []string
	for _, s := range samples {
		name := s.Name
		if prefix != "" {
			name = prefix + "." + s.Name
		}
		value := strconv.FormatFloat(s.Value, 'f', -1, 64)
		if s.Name == ModificationFamily && strings.Contains(s.Label("asset"), ",") {
			for _, a := range strings.Split(s.Label("asset"), ",") {
				out = append(out, statsdLine(name, value, []Label{{"asset", a}}))
			}
			continue
		}
		out = append(out, statsdLine(name, value, s.Labels))
	}
	return out
}

func statsdLine(name, value string, labels []Label) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte(':')
	b.WriteString(value)
	b.WriteString("|c")
	sep := "|#"
	for _, l := range labels {
		if l.Value == "" {
			continue
		}
		v := l.Value
		if strings.ContainsAny(v, ",|#\n\r: ") {
			v = Other
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
