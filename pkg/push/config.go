package push

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultTimeout bounds all sending after the installer exits
// (--metrics-timeout).
const DefaultTimeout = 5 * time.Second

// Job is the job label the gateway adds from the push path
// (POST {url}/metrics/job/install-metrics).
const Job = "install-metrics"

// SinkKind says what a sink URL points at.
type SinkKind int

// The kinds of sink.
const (
	GatewaySink  SinkKind = iota + 1 // http:// or https://: an aggregation push gateway
	StatsDSink                       // statsd:// (UDP) or statsd+tcp://
	TextfileSink                     // file:///abs/path.prom
)

func (k SinkKind) String() string {
	switch k {
	case GatewaySink:
		return "gateway"
	case StatsDSink:
		return "statsd"
	case TextfileSink:
		return "textfile"
	}
	return "unknown"
}

// SinkURL is one validated sink. Its String form is canonical (it is what
// the spool stores) and never holds a credential: URLs with user info or
// query strings that could carry one are refused by ParseSink.
type SinkURL struct {
	Kind SinkKind
	// Scheme is http, https, statsd, statsd+tcp or file.
	Scheme string
	// Addr is host:port for StatsD; Endpoint the gateway base URL (no
	// trailing slash); Path the textfile's absolute path.
	Addr     string
	Endpoint string
	Path     string
	// Prefix is the StatsD name prefix (?prefix=P gives P.NAME).
	Prefix string
}

// String returns the canonical URL.
func (s SinkURL) String() string {
	switch s.Kind {
	case GatewaySink:
		return s.Endpoint
	case StatsDSink:
		u := s.Scheme + "://" + s.Addr
		if s.Prefix != "" {
			u += "?prefix=" + s.Prefix
		}
		return u
	case TextfileSink:
		return (&url.URL{Scheme: "file", Path: s.Path}).String()
	}
	return ""
}

// ErrBadSink is wrapped by every ParseSink error.
var ErrBadSink = errors.New("invalid sink URL")

// SinkError describes a sink URL that cannot be used; Error names the value
// (with any credential removed) and says what to do.
type SinkError struct {
	Value  string // the URL as given, credentials removed
	Reason string
}

func (e *SinkError) Error() string { return fmt.Sprintf("%q: %s", e.Value, e.Reason) }

// Unwrap makes errors.Is(err, ErrBadSink) true.
func (e *SinkError) Unwrap() error { return ErrBadSink }

const sinkForms = "use https://host[:port][/prefix], statsd://host:port[?prefix=P], statsd+tcp://host:port[?prefix=P] or file:///abs/path.prom"

var prefixRE = lazyRegexp(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

// ParseSink validates one sink URL without touching the network or the disk.
func ParseSink(raw string) (SinkURL, error) {
	shown := redactURL(raw)
	bad := func(format string, a ...any) (SinkURL, error) {
		return SinkURL{}, &SinkError{Value: shown, Reason: fmt.Sprintf(format, a...)}
	}
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return bad("empty sink URL: %s", sinkForms)
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
		return SinkURL{Kind: GatewaySink, Scheme: scheme, Endpoint: ep}, nil
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
		return SinkURL{Kind: StatsDSink, Scheme: scheme, Addr: net.JoinHostPort(u.Hostname(), u.Port()), Prefix: prefix}, nil
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
		return SinkURL{Kind: TextfileSink, Scheme: "file", Path: filepath.Clean(p)}, nil
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

// ParseSinks validates a list of sink URLs (flags or INSTALL_METRICS_SINKS,
// already split) without touching the network or the disk. An empty list
// means the default: the local textfile DefaultTextfile(stateDir). Duplicates
// are removed (the same push sent twice would count twice).
func ParseSinks(raws []string, stateDir string) ([]SinkURL, error) {
	if len(raws) == 0 {
		if stateDir == "" {
			return nil, errors.New("no state directory for the default textfile: set XDG_STATE_HOME or HOME, or pass --metrics-sink")
		}
		return []SinkURL{{Kind: TextfileSink, Scheme: "file", Path: DefaultTextfile(stateDir)}}, nil
	}
	var out []SinkURL
	seen := map[string]bool{}
	for _, r := range raws {
		s, err := ParseSink(r)
		if err != nil {
			return nil, err
		}
		if !seen[s.String()] {
			seen[s.String()] = true
			out = append(out, s)
		}
	}
	return out, nil
}

// StateDir returns install-metrics' state directory from the environment:
// $XDG_STATE_HOME/install-metrics, else $HOME/.local/state/install-metrics.
// A relative XDG_STATE_HOME is ignored, as the XDG spec says.
func StateDir(getenv func(string) (string, bool)) (string, error) {
	if v, ok := getenv("XDG_STATE_HOME"); ok && filepath.IsAbs(v) {
		return filepath.Join(v, "install-metrics"), nil
	}
	if h, ok := getenv("HOME"); ok && filepath.IsAbs(h) {
		return filepath.Join(h, ".local", "state", "install-metrics"), nil
	}
	return "", errors.New("cannot find the state directory: set XDG_STATE_HOME or HOME to an absolute path")
}

// DefaultTextfile is the local textfile inside stateDir.
func DefaultTextfile(stateDir string) string { return filepath.Join(stateDir, "metrics.prom") }

// SpoolDir is the spool inside stateDir.
func SpoolDir(stateDir string) string { return filepath.Join(stateDir, "spool") }

// AuthMode is how a gateway push is authenticated.
type AuthMode int

// The modes of --metrics-auth.
const (
	AuthNone       AuthMode = iota // no credentials
	AuthTokenFile                  // Bearer token read from a file
	AuthBasicFile                  // HTTP Basic "user:password" read from a file
	AuthPullSecret                 // Bearer = the cloud.openshift.com auth of the pull secret
)

// Auth is a parsed --metrics-auth value. Files are read at send time, so a
// rotated token is picked up and nothing secret is held longer than needed.
type Auth struct {
	Mode AuthMode
	Path string // for AuthTokenFile and AuthBasicFile
}

// String returns the flag form (never a secret: only a path).
func (a Auth) String() string {
	switch a.Mode {
	case AuthTokenFile:
		return "token-file:" + a.Path
	case AuthBasicFile:
		return "basic-file:" + a.Path
	case AuthPullSecret:
		return "pull-secret"
	}
	return "none"
}

// ParseAuth validates a --metrics-auth value: none, token-file:PATH,
// basic-file:PATH or pull-secret. It reads no file.
func ParseAuth(v string) (Auth, error) {
	mode, path, hasPath := strings.Cut(strings.TrimSpace(v), ":")
	switch {
	case v == "" || v == "none":
		return Auth{Mode: AuthNone}, nil
	case v == "pull-secret":
		return Auth{Mode: AuthPullSecret}, nil
	case (mode == "token-file" || mode == "basic-file") && hasPath && path != "":
		if mode == "token-file" {
			return Auth{Mode: AuthTokenFile, Path: path}, nil
		}
		return Auth{Mode: AuthBasicFile, Path: path}, nil
	}
	// Quote only the mode: what follows a ':' may be a token typed inline.
	return Auth{}, fmt.Errorf("%q is not none, token-file:PATH, basic-file:PATH or pull-secret", authModeOnly(v))
}

// authModeOnly is v up to its first ':', with what followed elided.
func authModeOnly(v string) string {
	if mode, _, ok := strings.Cut(v, ":"); ok {
		return mode + ":…"
	}
	return v
}

// Config is everything a Sender needs. The zero value of each field means
// its default.
type Config struct {
	// Sinks from ParseSinks; empty means the default textfile in StateDir.
	Sinks []SinkURL
	// Bucket is the duration bucket step (default DefaultBucket).
	Bucket time.Duration
	// Joined sends the modified assets as one comma-joined sample.
	Joined bool
	// Timeout bounds all sending after the installer exits
	// (--metrics-timeout; the caller passes DefaultTimeout when the user gave
	// none). 0 means: do not wait for the network; gateway and StatsD pushes
	// go to the spool for a later flush and only the textfile is written.
	Timeout time.Duration
	// Auth is how gateway pushes are authenticated.
	Auth Auth
	// PullSecretToken is the Bearer token for AuthPullSecret (the caller
	// extracts it from the pull secret; it is kept in memory only).
	PullSecretToken string
	// CAFile is a PEM file of extra CA certificates for https sinks
	// (--metrics-ca-file, INSTALL_METRICS_CA_FILE), added to the system roots.
	CAFile string
	// StateDir holds the default textfile and the spool (StateDir()).
	StateDir string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Debugf, when set, receives one line per decision (never a secret).
	Debugf func(format string, a ...any)
	// Spool limits (defaults DefaultSpoolLimits).
	SpoolLimits SpoolLimits
}

// Validate checks the configuration without touching the network or reading
// any file: bucket step, timeout, and that credentials only go over https
// (or plain http to a loopback address).
func (c Config) Validate() error {
	if c.Bucket != 0 {
		if err := ValidateBucket(c.Bucket); err != nil {
			return fmt.Errorf("invalid --metrics-bucket: %w", err)
		}
	}
	if c.Timeout < 0 {
		return fmt.Errorf("invalid --metrics-timeout: %v is negative", c.Timeout)
	}
	if c.StateDir == "" || !filepath.IsAbs(c.StateDir) {
		return errors.New("no state directory: set XDG_STATE_HOME or HOME to an absolute path")
	}
	for _, s := range c.Sinks {
		if s.Kind == 0 {
			return errors.New("sink not parsed: use ParseSinks")
		}
		if s.Kind == GatewaySink && c.Auth.Mode != AuthNone && !credentialsAllowed(s) {
			return fmt.Errorf("--metrics-auth %s would send a credential in clear text to %s: use an https:// sink (plain http only to localhost)", c.Auth, s)
		}
	}
	return nil
}

// credentialsAllowed reports whether a credential may travel to the sink:
// over https, or over http to a loopback address.
func credentialsAllowed(s SinkURL) bool {
	if s.Scheme == "https" {
		return true
	}
	u, err := url.Parse(s.Endpoint)
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

func (c Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c Config) debugf(format string, a ...any) {
	if c.Debugf != nil {
		c.Debugf(format, a...)
	}
}
