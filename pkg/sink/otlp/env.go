package otlp

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The environment variables of the OpenTelemetry specification this sink
// reads (specification/protocol/exporter.md, configuration/sdk-environment-variables.md).
const (
	EnvEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	EnvTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	EnvHeaders        = "OTEL_EXPORTER_OTLP_HEADERS"
	EnvTracesHeaders  = "OTEL_EXPORTER_OTLP_TRACES_HEADERS"
	EnvServiceName    = "OTEL_SERVICE_NAME"
	EnvResourceAttrs  = "OTEL_RESOURCE_ATTRIBUTES"
	EnvTraceparent    = "TRACEPARENT"
)

// DefaultServiceName is service.name unless OTEL_SERVICE_NAME says otherwise.
const DefaultServiceName = "install-metrics"

// TracesPath is the default path of OTLP/HTTP traces.
const TracesPath = "/v1/traces"

// defaultEndpoint is the specification's default for OTLP/HTTP traces.
const defaultEndpoint = "http://localhost:4318" + TracesPath

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
func (u URL) String() string {
	if u.Endpoint == "" {
		return "otlp"
	}
	return "otlp+" + u.Endpoint
}

// IsURL reports whether raw is meant for this package (its scheme is one of
// Schemes), so that a sink parser can hand it to ParseURL.
func IsURL(raw string) bool {
	raw = strings.ToLower(strings.TrimSpace(raw))
	return raw == "otlp" || strings.HasPrefix(raw, "otlp+http://") || strings.HasPrefix(raw, "otlp+https://")
}

const forms = "use otlp+http://host:port[/path], otlp+https://host[:port][/path] or otlp (endpoint from " + EnvTracesEndpoint + " or " + EnvEndpoint + ")"

// ParseURL validates an OTLP sink URL without touching the network or the
// environment. A missing path is /v1/traces.
func ParseURL(raw string) (URL, error) {
	raw = strings.TrimSpace(raw)
	if strings.EqualFold(raw, "otlp") {
		return URL{}, nil
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	scheme = strings.ToLower(scheme)
	if !ok || (scheme != "otlp+http" && scheme != "otlp+https") {
		return URL{}, fmt.Errorf("%q is not an OTLP sink: %s", redactURL(raw), forms)
	}
	ep, err := endpointURL(strings.TrimPrefix(scheme, "otlp+")+"://"+rest, true)
	if err != nil {
		return URL{}, fmt.Errorf("%q: %w", redactURL(raw), err)
	}
	return URL{Endpoint: ep}, nil
}

// endpointURL checks an http(s) endpoint and returns it canonical (scheme
// and host lower case, no trailing slash but the root). With defaultPath, an
// empty path becomes /v1/traces (sink URLs; OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
// is used as it is, as the specification says).
func endpointURL(raw string, defaultPath bool) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		return "", errors.New("not a URL: " + forms)
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme != "http" && scheme != "https":
		return "", fmt.Errorf("scheme %q is not http or https", u.Scheme)
	case u.User != nil:
		return "", fmt.Errorf("credentials in the URL are not accepted (they would end up in logs and the spool): pass them in %s", EnvHeaders)
	case u.Hostname() == "":
		return "", errors.New("no host: " + forms)
	case u.RawQuery != "" || u.ForceQuery:
		return "", fmt.Errorf("an OTLP endpoint takes no query string (pass credentials in %s)", EnvHeaders)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "", errors.New("an OTLP endpoint has no #fragment")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("port %q is not a number from 1 to 65535", p)
		}
	}
	p := u.EscapedPath()
	if defaultPath && strings.Trim(p, "/") == "" {
		p = TracesPath
	}
	if p == "" {
		p = "/"
	}
	return scheme + "://" + strings.ToLower(u.Host) + p, nil
}

// redactURL removes user info (which may be a token) and any query from a
// URL for messages.
func redactURL(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		if len(raw) > 16 {
			return raw[:16] + "…"
		}
		return raw
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i] + "?…"
	}
	end := strings.IndexByte(rest, '/')
	if end < 0 {
		end = len(rest)
	}
	if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
		rest = "***@" + rest[at+1:]
	}
	return scheme + "://" + rest
}

// resolveEndpoint is the endpoint of plain "otlp", from the environment as
// the specification says: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, else
// OTEL_EXPORTER_OTLP_ENDPOINT with v1/traces appended to its path, else
// http://localhost:4318/v1/traces. Errors never show more of the value than
// scheme, host and path.
func resolveEndpoint(getenv func(string) (string, bool)) (endpoint, from string, err error) {
	if v, ok := getenv(EnvTracesEndpoint); ok && strings.TrimSpace(v) != "" {
		ep, err := endpointURL(strings.TrimSpace(v), false)
		if err != nil {
			return "", "", fmt.Errorf("%s=%q: %w", EnvTracesEndpoint, redactURL(v), err)
		}
		return ep, EnvTracesEndpoint, nil
	}
	if v, ok := getenv(EnvEndpoint); ok && strings.TrimSpace(v) != "" {
		ep, err := endpointURL(strings.TrimSpace(v), false)
		if err != nil {
			return "", "", fmt.Errorf("%s=%q: %w", EnvEndpoint, redactURL(v), err)
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
