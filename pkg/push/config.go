package push

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/install-metrics/install-metrics/pkg/metrics"
	"github.com/install-metrics/install-metrics/pkg/sink"
	"github.com/install-metrics/install-metrics/pkg/sink/gateway"
	"github.com/install-metrics/install-metrics/pkg/spool"
)

// DefaultTimeout bounds all sending after the installer exits
// (--metrics-timeout).
const DefaultTimeout = 5 * time.Second

// Job is the job label the gateway adds from the push path
// (POST {url}/metrics/job/install-metrics).
const Job = sink.Job

// The sink URL lives in pkg/sink (the spool validates what it reads back
// with it); these names keep this package's API.
type (
	// SinkURL is one validated sink (see sink.URL).
	SinkURL = sink.URL
	// SinkKind says what a sink URL points at.
	SinkKind = sink.Kind
	// SinkError describes a sink URL that cannot be used.
	SinkError = sink.URLError
)

// The kinds of sink.
const (
	GatewaySink  = sink.GatewayKind
	StatsDSink   = sink.StatsDKind
	TextfileSink = sink.TextfileKind
	OTLPSink     = sink.OTLPKind
)

// ErrBadSink is wrapped by every ParseSink error.
var ErrBadSink = sink.ErrBadURL

// ParseSink validates one sink URL without touching the network or the disk.
func ParseSink(raw string) (SinkURL, error) { return sink.Parse(raw) }

// Gateway credentials live with the gateway sink.
type (
	// Auth is a parsed --metrics-auth value.
	Auth = gateway.Auth
	// AuthMode is how a gateway push is authenticated.
	AuthMode = gateway.AuthMode
)

// The modes of --metrics-auth.
const (
	AuthNone       = gateway.AuthNone
	AuthTokenFile  = gateway.AuthTokenFile
	AuthBasicFile  = gateway.AuthBasicFile
	AuthPullSecret = gateway.AuthPullSecret
)

// ParseAuth validates a --metrics-auth value: none, token-file:PATH,
// basic-file:PATH or pull-secret. It reads no file.
func ParseAuth(v string) (Auth, error) { return gateway.ParseAuth(v) }

// SpoolLimits bound the spool; zero fields mean the defaults.
type SpoolLimits = spool.Limits

// Spool bounds: beyond them the oldest pushes are dropped, with a warning.
const (
	DefaultSpoolEntries = spool.DefaultEntries
	DefaultSpoolBytes   = spool.DefaultBytes
	DefaultSpoolAge     = spool.DefaultAge
)

// DefaultBucket is the default duration bucket step.
const DefaultBucket = metrics.DefaultBucket

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
	// Auth is how gateway pushes are authenticated (not OTLP: its headers
	// come from OTEL_EXPORTER_OTLP_HEADERS).
	Auth Auth
	// PullSecretToken is the Bearer token for AuthPullSecret (the caller
	// extracts it from the pull secret; it is kept in memory only).
	PullSecretToken string
	// CAFile is a PEM file of extra CA certificates for https sinks
	// (--metrics-ca-file, INSTALL_METRICS_CA_FILE), added to the system roots;
	// for OTLP, OTEL_EXPORTER_OTLP_[TRACES_]CERTIFICATE when it is empty.
	CAFile string
	// Getenv reads the environment (default os.LookupEnv): the OTLP sink's
	// OTEL_* variables, read again for every send and flush (its headers
	// are never spooled).
	Getenv func(string) (string, bool)
	// Version is install-metrics' version for the traces' instrumentation
	// scope (default buildinfo.Version()).
	Version string
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
		if err := metrics.ValidateBucket(c.Bucket); err != nil {
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
	return sink.Loopback(s.Endpoint)
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
