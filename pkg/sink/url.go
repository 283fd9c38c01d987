package sink

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/install-metrics/install-metrics/pkg/sink/internal/otlpurl"
)

// Job is the job label the gateway adds from the push path
// (POST {url}/metrics/job/install-metrics).
const Job = "install-metrics"

// Kind says what a sink URL points at.
type Kind int

// The kinds of sink.
const (
	GatewayKind  Kind = iota + 1 // http:// or https://: an aggregation push gateway
	StatsDKind                   // statsd:// (UDP) or statsd+tcp://
	TextfileKind                 // file:///abs/path.prom
	OTLPKind                     // otlp+http://, otlp+https:// or otlp: traces (pkg/sink/otlp)
)

func (k Kind) String() string {
	switch k {
	case GatewayKind:
		return "gateway"
	case StatsDKind:
		return "statsd"
	case TextfileKind:
		return "textfile"
	case OTLPKind:
		return "otlp"
	}
	return "unknown"
}

// URL is one validated sink. Its String form is canonical (it is what
// the spool stores) and never holds a credential: URLs with user info or
// query strings that could carry one are refused by Parse.
type URL struct {
	Kind Kind
	// Scheme is http, https, statsd, statsd+tcp, file or otlp.
	Scheme string
	// Addr is host:port for StatsD; Endpoint the gateway base URL (no
	// trailing slash) or the OTLP endpoint (http(s)://host[:port]/path; ""
	// for plain otlp, resolved from the environment when the sink is built);
	// Path the textfile's absolute path.
	Addr     string
	Endpoint string
	Path     string
	// Prefix is the StatsD name prefix (?prefix=P gives P.NAME).
	Prefix string
}

// String returns the canonical URL.
func (s URL) String() string {
	switch s.Kind {
	case GatewayKind:
		return s.Endpoint
	case StatsDKind:
		u := s.Scheme + "://" + s.Addr
		if s.Prefix != "" {
			u += "?prefix=" + s.Prefix
		}
		return u
	case TextfileKind:
		return (&url.URL{Scheme: "file", Path: s.Path}).String()
	case OTLPKind:
		return otlpurl.String(s.Endpoint)
	}
	return ""
}

// ErrBadURL is wrapped by every Parse error.
var ErrBadURL = errors.New("invalid sink URL")

// URLError describes a sink URL that cannot be used; Error names the value
// (with any credential removed) and says what to do.
type URLError struct {
	Value  string // the URL as given, credentials removed
	Reason string
}

func (e *URLError) Error() string { return fmt.Sprintf("%q: %s", e.Value, e.Reason) }

// Unwrap makes errors.Is(err, ErrBadURL) true.
func (e *URLError) Unwrap() error { return ErrBadURL }

const sinkForms = "use https://host[:port][/prefix], statsd://host:port[?prefix=P], statsd+tcp://host:port[?prefix=P], file:///abs/path.prom or otlp+http[s]://host[:port][/path] (traces; plain otlp reads OTEL_EXPORTER_OTLP_ENDPOINT)"

var prefixRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)
})

// Parse validates one sink URL without touching the network or the disk.
func Parse(raw string) (URL, error) {
	shown := redactURL(raw)
	bad := func(format string, a ...any) (URL, error) {
		return URL{}, &URLError{Value: shown, Reason: fmt.Sprintf(format, a...)}
	}
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return bad("empty sink URL: %s", sinkForms)
	}
	if otlpurl.IsURL(raw) {
		ep, err := otlpurl.Parse(raw)
		if err != nil {
			return URL{}, &URLError{Value: otlpurl.Redact(raw), Reason: err.Error()}
		}
		return URL{Kind: OTLPKind, Scheme: "otlp", Endpoint: ep}, nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Opaque != "" {
		return bad("not a URL: %s", sinkForms)
	}
	if u.User != nil {
		return bad("credentials in the URL are not accepted (they would end up in logs and the spool): pass them with --metrics-auth")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return bad("a sink URL has no #fragment")
	}
	switch scheme := strings.ToLower(u.Scheme); scheme {
	case "http", "https":
		if u.Host == "" || u.Hostname() == "" {
			return bad("no host: %s", sinkForms)
		}
		if err := checkPort(u.Port(), false); err != nil {
			return bad("%v", err)
		}
		if u.RawQuery != "" || u.ForceQuery {
			return bad("a gateway URL takes no query string (pass credentials with --metrics-auth)")
		}
		p := strings.TrimRight(u.EscapedPath(), "/")
		if strings.Contains(p, "/metrics/") || strings.HasSuffix(p, "/metrics") {
			return bad("give the gateway's base URL: install-metrics adds /metrics/job/%s itself", Job)
		}
		ep := scheme + "://" + strings.ToLower(u.Host) + p
		return URL{Kind: GatewayKind, Scheme: scheme, Endpoint: ep}, nil
	case "statsd", "statsd+tcp", "statsd+udp":
		if scheme == "statsd+udp" {
			scheme = "statsd"
		}
		if u.Hostname() == "" {
			return bad("no host: use %s://host:port", scheme)
		}
		if err := checkPort(u.Port(), true); err != nil {
			return bad("%v", err)
		}
		if u.Path != "" && u.Path != "/" {
			return bad("a StatsD URL has no path: use %s://host:port[?prefix=P]", scheme)
		}
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			return bad("bad query string: use ?prefix=P")
		}
		prefix := ""
		for k, v := range q {
			if k != "prefix" || len(v) != 1 {
				return bad("unknown query parameter %q: the only one is prefix=P", k)
			}
			prefix = v[0]
			if !prefixRE().MatchString(prefix) {
				return bad("prefix %q must be dot-separated words of letters, digits and underscores", prefix)
			}
		}
		return URL{Kind: StatsDKind, Scheme: scheme, Addr: net.JoinHostPort(u.Hostname(), u.Port()), Prefix: prefix}, nil
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return bad("a file URL names a local file: file:///abs/path.prom (three slashes)")
		}
		if u.RawQuery != "" {
			return bad("a file URL takes no query string")
		}
		p := u.Path
		if p == "" || !filepath.IsAbs(p) {
			return bad("the textfile path must be absolute: file:///abs/path.prom")
		}
		if strings.HasSuffix(p, "/") || filepath.Ext(p) != ".prom" {
			return bad("the textfile must be a file whose name ends in .prom (node_exporter's textfile collector reads only those)")
		}
		return URL{Kind: TextfileKind, Scheme: "file", Path: filepath.Clean(p)}, nil
	default:
		return bad("unsupported scheme %q: %s", u.Scheme, sinkForms)
	}
}

func checkPort(p string, required bool) error {
	if p == "" {
		if required {
			return errors.New("no port: StatsD has no default port here, use host:port (statsd_exporter listens on 9125)")
		}
		return nil
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 1 to 65535", p)
	}
	return nil
}

// redactURL removes user info (which may be a token) from a URL for messages.
func redactURL(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
		rest = "***@" + rest[at+1:]
	}
	return scheme + "://" + rest
}
