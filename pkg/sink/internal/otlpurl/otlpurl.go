// Package otlpurl parses the OTLP sink's URLs and endpoints. It is shared by
// pkg/sink (whose Parse accepts every sink URL, the spool's included) and
// pkg/sink/otlp (which imports pkg/sink, so pkg/sink cannot import it).
package otlpurl

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// The environment variables the messages name (see pkg/sink/otlp).
const (
	EnvEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	EnvTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	EnvHeaders        = "OTEL_EXPORTER_OTLP_HEADERS"
)

// TracesPath is the default path of OTLP/HTTP traces.
const TracesPath = "/v1/traces"

// DefaultEndpoint is the specification's default for OTLP/HTTP traces.
const DefaultEndpoint = "http://localhost:4318" + TracesPath

// Forms lists the accepted sink URLs, for messages.
const Forms = "otlp+http://host:port[/path], otlp+https://host[:port][/path] or otlp (endpoint from " + EnvTracesEndpoint + " or " + EnvEndpoint + ")"

// IsURL reports whether raw is an OTLP sink URL (otlp, otlp+http://,
// otlp+https://, any case).
func IsURL(raw string) bool {
	raw = strings.ToLower(strings.TrimSpace(raw))
	return raw == "otlp" || strings.HasPrefix(raw, "otlp+http://") || strings.HasPrefix(raw, "otlp+https://")
}

// String is the canonical sink URL of an endpoint: "otlp+" + endpoint, or
// "otlp" for none (resolved from the environment).
func String(endpoint string) string {
	if endpoint == "" {
		return "otlp"
	}
	return "otlp+" + endpoint
}

// Parse validates an OTLP sink URL without touching the network or the
// environment and returns its endpoint ("" for plain otlp). A missing path
// is /v1/traces. The error says why, without the value (callers name it
// with Redact).
func Parse(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if strings.EqualFold(raw, "otlp") {
		return "", nil
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	scheme = strings.ToLower(scheme)
	if !ok || (scheme != "otlp+http" && scheme != "otlp+https") {
		return "", errors.New("not an OTLP sink: use " + Forms)
	}
	return Endpoint(strings.TrimPrefix(scheme, "otlp+")+"://"+rest, true)
}

// Endpoint checks an http(s) endpoint and returns it canonical (scheme
// and host lower case, no trailing slash but the root). With defaultPath, an
// empty path becomes /v1/traces (sink URLs; OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
// is used as it is, as the specification says).
func Endpoint(raw string, defaultPath bool) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		return "", errors.New("not a URL: use " + Forms)
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme != "http" && scheme != "https":
		return "", fmt.Errorf("scheme %q is not http or https", u.Scheme)
	case u.User != nil:
		return "", fmt.Errorf("credentials in the URL are not accepted (they would end up in logs and the spool): pass them in %s", EnvHeaders)
	case u.Hostname() == "":
		return "", errors.New("no host: use " + Forms)
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

// Redact removes user info (which may be a token) and any query from a
// URL for messages.
func Redact(raw string) string {
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
