package otlp

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/install-metrics/install-metrics/pkg/sink/internal/otlpurl"
)

// The environment variables of the OpenTelemetry specification this sink
// reads (specification/protocol/exporter.md, configuration/sdk-environment-variables.md).
const (
	EnvEndpoint       = otlpurl.EnvEndpoint
	EnvTracesEndpoint = otlpurl.EnvTracesEndpoint
	EnvHeaders        = otlpurl.EnvHeaders
	EnvTracesHeaders  = "OTEL_EXPORTER_OTLP_TRACES_HEADERS"
	EnvServiceName    = "OTEL_SERVICE_NAME"
	EnvResourceAttrs  = "OTEL_RESOURCE_ATTRIBUTES"
	EnvTraceparent    = "TRACEPARENT"
)

// DefaultServiceName is service.name unless OTEL_SERVICE_NAME says otherwise.
const DefaultServiceName = "install-metrics"

// TracesPath is the default path of OTLP/HTTP traces.
const TracesPath = otlpurl.TracesPath

// defaultEndpoint is the specification's default for OTLP/HTTP traces.
const defaultEndpoint = otlpurl.DefaultEndpoint

// Schemes are the sink URL schemes of this package.
var Schemes = []string{"otlp+http", "otlp+https", "otlp"}

// URL is a parsed OTLP sink URL. Its String form is canonical (what the
// spool stores) and never holds a credential.
type URL struct {
	// Endpoint is the http(s) URL the traces are POSTed to, "" for plain
	// "otlp" (resolved from the environment when the sink is built).
	Endpoint string
}

// String returns the canonical sink URL: otlp+http://host[:port]/path,
// otlp+https://..., or otlp.
func (u URL) String() string { return otlpurl.String(u.Endpoint) }

// IsURL reports whether raw is meant for this package (its scheme is one of
// Schemes), so that a sink parser can hand it to ParseURL.
func IsURL(raw string) bool { return otlpurl.IsURL(raw) }

// ParseURL validates an OTLP sink URL without touching the network or the
// environment. A missing path is /v1/traces. pkg/sink's Parse accepts the
// same forms (both use pkg/sink/internal/otlpurl).
func ParseURL(raw string) (URL, error) {
	ep, err := otlpurl.Parse(raw)
	if err != nil {
		return URL{}, fmt.Errorf("%q: %w", otlpurl.Redact(strings.TrimSpace(raw)), err)
	}
	return URL{Endpoint: ep}, nil
}

// resolveEndpoint is the endpoint of plain "otlp", from the environment as
// the specification says: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, else
// OTEL_EXPORTER_OTLP_ENDPOINT with v1/traces appended to its path, else
// http://localhost:4318/v1/traces. Errors never show more of the value than
// scheme, host and path.
func resolveEndpoint(getenv func(string) (string, bool)) (endpoint, from string, err error) {
	if v, ok := getenv(EnvTracesEndpoint); ok && strings.TrimSpace(v) != "" {
		ep, err := otlpurl.Endpoint(strings.TrimSpace(v), false)
		if err != nil {
			return "", "", fmt.Errorf("%s=%q: %w", EnvTracesEndpoint, otlpurl.Redact(v), err)
		}
		return ep, EnvTracesEndpoint, nil
	}
	if v, ok := getenv(EnvEndpoint); ok && strings.TrimSpace(v) != "" {
		ep, err := otlpurl.Endpoint(strings.TrimSpace(v), false)
		if err != nil {
			return "", "", fmt.Errorf("%s=%q: %w", EnvEndpoint, otlpurl.Redact(v), err)
		}
		return strings.TrimSuffix(ep, "/") + TracesPath, EnvEndpoint, nil
	}
	return defaultEndpoint, "the default", nil
}

// parseHeaders reads OTEL_EXPORTER_OTLP_TRACES_HEADERS, else
// OTEL_EXPORTER_OTLP_HEADERS (the signal-specific variable wins whole, as in
// the Go SDK): a comma-separated list of key=value with percent-encoded
// values (W3C Baggage without properties). Errors name the variable and the
// position of the entry, never its content: a value is a credential.
func parseHeaders(getenv func(string) (string, bool)) (http.Header, []string, error) {
	name := EnvTracesHeaders
	v, ok := getenv(name)
	if !ok || strings.TrimSpace(v) == "" {
		name = EnvHeaders
		if v, ok = getenv(name); !ok {
			return nil, nil, nil
		}
	}
	pairs, err := parseList(v)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w; it is not used", name, err)
	}
	h := http.Header{}
	var secrets []string
	for i, kv := range pairs {
		if !validHeaderName(kv[0]) {
			return nil, nil, fmt.Errorf("%s: entry %d has no valid header name; it is not used", name, i+1)
		}
		if strings.ContainsAny(kv[1], "\r\n\x00") {
			return nil, nil, fmt.Errorf("%s: entry %d holds a line break; it is not used", name, i+1)
		}
		switch http.CanonicalHeaderKey(kv[0]) {
		case "Content-Type", "Content-Length", "Content-Encoding", "Host", "Transfer-Encoding", "Connection":
			return nil, nil, fmt.Errorf("%s: entry %d sets a header the exporter owns; it is not used", name, i+1)
		}
		h.Add(kv[0], kv[1])
		if kv[1] != "" {
			secrets = append(secrets, kv[1])
		}
		// The raw, still-encoded form may be echoed too.
		if raw := rawValue(v, i); raw != "" && raw != kv[1] {
			secrets = append(secrets, raw)
		}
	}
	return h, secrets, nil
}

// rawValue is the still percent-encoded value of entry i of list.
func rawValue(list string, i int) string {
	parts := strings.Split(list, ",")
	n := -1
	for _, p := range parts {
		if strings.TrimSpace(p) == "" {
			continue
		}
		if n++; n == i {
			_, val, _ := strings.Cut(p, "=")
			return strings.TrimSpace(val)
		}
	}
	return ""
}

// parseList parses key1=value1,key2=value2 with percent-encoded values and
// optional spaces around entries, keys and values; empty entries are
// skipped. Errors give the entry's position only.
func parseList(v string) ([][2]string, error) {
	var out [][2]string
	n := 0
	for _, entry := range strings.Split(v, ",") {
		if strings.TrimSpace(entry) == "" {
			continue
		}
		n++
		key, val, ok := strings.Cut(entry, "=")
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if !ok || key == "" {
			return nil, fmt.Errorf("entry %d is not key=value", n)
		}
		dec, err := url.PathUnescape(val)
		if err != nil {
			return nil, fmt.Errorf("entry %d has a bad percent-encoding", n)
		}
		k, err := url.PathUnescape(key)
		if err != nil {
			return nil, fmt.Errorf("entry %d has a bad percent-encoding", n)
		}
		out = append(out, [2]string{k, dec})
	}
	return out, nil
}

// validHeaderName reports whether s is an HTTP token (RFC 9110).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// parseResource reads OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME: the
// resource attributes as (key, value) pairs in order, service.name first. A
// malformed OTEL_RESOURCE_ATTRIBUTES is discarded whole, as the
// specification says, and reported in note.
func parseResource(getenv func(string) (string, bool)) (attrs [][2]string, note string) {
	service := DefaultServiceName
	if v, ok := getenv(EnvResourceAttrs); ok && strings.TrimSpace(v) != "" {
		pairs, err := parseList(v)
		if err != nil {
			note = fmt.Sprintf("%s ignored: %v", EnvResourceAttrs, err)
			pairs = nil
		}
		for _, kv := range pairs {
			if kv[0] == "service.name" {
				service = kv[1]
				continue
			}
			attrs = append(attrs, kv)
		}
	}
	if v, ok := getenv(EnvServiceName); ok && strings.TrimSpace(v) != "" {
		service = strings.TrimSpace(v)
	}
	return append([][2]string{{"service.name", service}}, attrs...), note
}
