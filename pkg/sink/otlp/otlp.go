package otlp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/install-metrics/install-metrics/internal/buildinfo"
	"github.com/install-metrics/install-metrics/pkg/record"
	"github.com/install-metrics/install-metrics/pkg/sink"
	"github.com/install-metrics/install-metrics/pkg/sink/internal/httpsink"
)

// The environment variables of a CA file for https endpoints (used when
// Options.CAFile is empty).
const (
	EnvCertificate       = "OTEL_EXPORTER_OTLP_CERTIFICATE"
	EnvTracesCertificate = "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE"
)

// maxResponse bounds what is read of an answer.
const maxResponse = 64 << 10

// Options are what a Sink takes besides its URL. The zero value of each
// field means its default.
type Options struct {
	// Getenv reads the environment (default os.LookupEnv).
	Getenv func(string) (string, bool)
	// CAFile is a PEM file of extra CA certificates for https endpoints
	// (--metrics-ca-file), added to the system roots; when empty,
	// OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE or OTEL_EXPORTER_OTLP_CERTIFICATE.
	CAFile string
	// Version is install-metrics' version, the instrumentation scope's
	// (default buildinfo.Version()).
	Version string
	// Labels gives the closed-set labels of an invocation (default
	// closedLabels: the counters' own normalisation).
	Labels func(record.Invocation) Labels
	// Debugf, when set, receives one line per decision (never a secret).
	Debugf func(format string, a ...any)
	// Dial replaces net.Dialer.DialContext (tests simulate DNS failures).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Sink sends each invocation as one trace over OTLP/HTTP (protobuf).
type Sink struct {
	url      URL
	endpoint string
	headers  http.Header
	secrets  []string
	resource [][2]string
	caFile   string
	o        Options
}

var _ sink.Sink = (*Sink)(nil)

// New builds the sink of u from the environment: the endpoint of plain
// "otlp", the headers and the resource (read again by every New, so a later
// flush uses the headers of its own environment: they are never spooled).
// The parent comes from each invocation's recorded Traceparent, not from
// this environment, so that a flush elsewhere keeps the run's parent. It
// touches neither the network nor any file. An error means the sink cannot
// be used (it names the variable, never a header's value; the caller names
// the sink); a malformed OTEL_RESOURCE_ATTRIBUTES is ignored with a debug
// line, as the specification says.
func New(u URL, o Options) (*Sink, error) {
	if o.Getenv == nil {
		o.Getenv = os.LookupEnv
	}
	if o.Labels == nil {
		o.Labels = closedLabels
	}
	if o.Version == "" {
		o.Version = buildinfo.Version()
	}
	s := &Sink{url: u, endpoint: u.Endpoint, o: o, caFile: o.CAFile}
	if s.endpoint == "" {
		ep, from, err := resolveEndpoint(o.Getenv)
		if err != nil {
			return nil, err
		}
		s.endpoint = ep
		s.debugf("otlp: endpoint %s from %s", ep, from)
	}
	h, secrets, err := parseHeaders(o.Getenv)
	if err != nil {
		return nil, err
	}
	if len(h) > 0 && !strings.HasPrefix(s.endpoint, "https://") && !sink.Loopback(s.endpoint) {
		return nil, fmt.Errorf("the headers of %s would travel in clear text to %s: use an https endpoint (plain http only to localhost)", EnvHeaders, s.endpoint)
	}
	s.headers, s.secrets = h, secrets
	var note string
	s.resource, note = parseResource(o.Getenv)
	if note != "" {
		s.debugf("otlp: %s", note)
	}
	if s.caFile == "" {
		for _, name := range []string{EnvTracesCertificate, EnvCertificate} {
			if v, ok := o.Getenv(name); ok && v != "" {
				s.caFile = v
				break
			}
		}
	}
	return s, nil
}

// Preflight checks, without the network, what would make every send fail:
// the CA file (New has checked the environment). Its error is the one Send
// would give.
func (s *Sink) Preflight() error {
	_, err := s.client(context.Background())
	return err
}

func (s *Sink) client(ctx context.Context) (*http.Client, error) {
	c, err := httpsink.Client(ctx, s.caFile, httpsink.DialFunc(s.o.Dial))
	if err != nil {
		return nil, fmt.Errorf("reading the CA file: %w", err)
	}
	return c, nil
}

// URL is the sink's canonical URL (what the spool stores).
func (s *Sink) URL() URL { return s.url }

// Endpoint is where the traces go.
func (s *Sink) Endpoint() string { return s.endpoint }

func (s *Sink) debugf(format string, a ...any) {
	if s.o.Debugf != nil {
		s.o.Debugf(format, a...)
	}
}

// Send implements sink.Sink: the batch's invocation as one trace. A batch
// without an invocation, or under a TRACEPARENT whose sampled flag is off,
// sends nothing.
func (s *Sink) Send(ctx context.Context, b sink.Batch) error {
	if b.Invocation == nil {
		s.debugf("otlp: no invocation in the batch: no trace to send")
		return nil
	}
	var parent *Parent
	if tp := b.Invocation.Traceparent; tp != "" {
		p, err := ParseTraceparent(tp)
		if err != nil {
			s.debugf("otlp: the recorded traceparent is ignored (%v): the trace has no parent", err)
		} else {
			parent = &p
		}
	}
	if parent != nil && !parent.Sampled {
		s.debugf("otlp: %s was not sampled: no trace sent", EnvTraceparent)
		return nil
	}
	td := Trace(b.Invocation, s.o.Labels(*b.Invocation), s.resource, parent, s.o.Version)
	// TracesData is wire-identical to ExportTraceServiceRequest (both hold
	// resource_spans as field 1), and its package does not pull in gRPC.
	body, err := proto.Marshal(td)
	if err != nil {
		return fmt.Errorf("encoding the trace: %w", err)
	}
	client, err := s.client(ctx)
	if err != nil {
		return &sink.NotDeliveredError{Err: err}
	}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("preparing the request: %s", sink.Redact(err.Error(), s.secrets...))
	}
	for k, vs := range s.headers {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("User-Agent", buildinfo.UserAgent())
	req, w := httpsink.TraceWrites(req, b.BeforeWrite)
	resp, err := client.Do(req)
	if err != nil {
		if r := w.Refused(); r != nil {
			return &sink.NotDeliveredError{Err: fmt.Errorf("not sent: %w", r)}
		}
		return s.transportError(ctx, err, w.Wrote())
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	_ = resp.Body.Close()
	return s.classify(resp, data, len(td.ResourceSpans[0].ScopeSpans[0].Spans))
}

// classify turns an answer into nil, a *sink.NotDeliveredError (spool it)
// or a plain error (do not resend), as the gateway sink does; the OTLP/HTTP
// specification agrees (429, 502, 503, 504 are retryable). A message never
// holds a header value.
func (s *Sink) classify(resp *http.Response, data []byte, spans int) error {
	status := resp.StatusCode
	msg := ""
	if m := s.printable(errorMessage(resp.Header.Get("Content-Type"), data), 200); m != "" {
		msg = ": " + m
	}
	switch {
	case status >= 200 && status < 300:
		return s.partialSuccess(resp.Header.Get("Content-Type"), data, spans)
	case status == http.StatusBadRequest:
		return fmt.Errorf("collector rejected the trace (400%s); it is not resent", msg)
	case status >= 300 && status < 400:
		return &sink.NotDeliveredError{Err: fmt.Errorf("collector answered %d redirecting to %s; redirects are not followed, so headers stay with the host you named: use the final URL", status, httpsink.RedirectHost(resp.Header.Get("Location")))}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return &sink.NotDeliveredError{Err: fmt.Errorf("collector refused the credentials (%d%s): check %s", status, msg, EnvHeaders)}
	case status == http.StatusTooManyRequests:
		return &sink.NotDeliveredError{Err: fmt.Errorf("collector is throttling (429%s)", msg)}
	case status >= 400 && status < 500:
		return &sink.NotDeliveredError{Err: fmt.Errorf("collector answered %d%s: check the endpoint (%s)", status, msg, s.endpoint)}
	case status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout:
		return &sink.NotDeliveredError{Err: fmt.Errorf("collector unavailable (%d%s)", status, msg)}
	}
	return fmt.Errorf("collector answered %d%s; the trace may have been stored, so it is not resent", status, msg)
}

// partialSuccess reads an ExportTraceServiceResponse: rejected spans are a
// plain error (the specification forbids a retry), a message with nothing
// rejected is a warning for the debug log.
func (s *Sink) partialSuccess(contentType string, data []byte, spans int) error {
	if !isProtobuf(contentType) || len(data) == 0 {
		return nil
	}
	ps, ok := bytesField(data, 1)
	if !ok {
		return nil
	}
	rejected, _ := varintField(ps, 1)
	text, _ := bytesField(ps, 2)
	m := s.printable(string(text), 200)
	if int64(rejected) > 0 {
		if m != "" {
			m = ": " + m
		}
		return fmt.Errorf("collector rejected %d of %d spans%s; they are not resent", int64(rejected), spans, m)
	}
	if m != "" {
		s.debugf("otlp: collector took the trace with a warning: %s", m)
	}
	return nil
}

// transportError classifies a failure without an answer.
func (s *Sink) transportError(ctx context.Context, err error, wrote bool) error {
	switch {
	case !wrote:
		return &sink.NotDeliveredError{Err: fmt.Errorf("%s%s", httpsink.NetReason(ctx, err, s.secrets), httpsink.TLSHint(err, "collector", "--metrics-ca-file or "+EnvCertificate))}
	case errors.Is(ctx.Err(), context.Canceled):
		return errors.New("sending interrupted after the trace was sent; it may have been stored, so it is not resent")
	case ctx.Err() != nil || sink.IsTimeout(err):
		return errors.New("no answer before --metrics-timeout ran out, after the trace was sent; it may have been stored, so it is not resent")
	}
	return fmt.Errorf("connection failed after the trace was sent (%s); it may have been stored, so it is not resent", httpsink.NetReason(ctx, err, s.secrets))
}

// errorMessage is the message of an error answer: the message field of a
// google.rpc.Status when the body is protobuf, else the body as text.
func errorMessage(contentType string, data []byte) string {
	if isProtobuf(contentType) {
		m, _ := bytesField(data, 2)
		return string(m)
	}
	return string(data)
}

func isProtobuf(contentType string) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	return mt == "application/x-protobuf"
}

// bytesField returns the first length-delimited field num of a protobuf
// message (read with the protobuf module's wire reader).
func bytesField(b []byte, num protowire.Number) ([]byte, bool) {
	var out []byte
	found := eachField(b, func(n protowire.Number, t protowire.Type, v []byte) bool {
		if n == num && t == protowire.BytesType {
			out, _ = protowire.ConsumeBytes(v)
			return true
		}
		return false
	})
	return out, found
}

// varintField returns the first varint field num of a protobuf message.
func varintField(b []byte, num protowire.Number) (uint64, bool) {
	var out uint64
	found := eachField(b, func(n protowire.Number, t protowire.Type, v []byte) bool {
		if n == num && t == protowire.VarintType {
			out, _ = protowire.ConsumeVarint(v)
			return true
		}
		return false
	})
	return out, found
}

// eachField calls fn with each field's number, type and encoded value until
// fn returns true; it reports whether fn did. Malformed input ends the walk.
func eachField(b []byte, fn func(protowire.Number, protowire.Type, []byte) bool) bool {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return false
		}
		if fn(num, typ, b[n:n+m]) {
			return true
		}
		b = b[n+m:]
	}
	return false
}

// printable is text with every header value redacted, in one printable
// line of at most max bytes.
func (s *Sink) printable(text string, max int) string {
	return sink.OneLine(sink.Redact(text, s.secrets...), max)
}
