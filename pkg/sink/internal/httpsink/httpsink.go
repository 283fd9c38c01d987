// Package httpsink is the HTTP plumbing the sinks that POST share (the OTLP
// trace sink; the gateway sink its messages): a client
// bounded by the send's deadline that never follows a redirect, knowing
// whether the request was completely written, and failure messages that
// never hold a secret.
package httpsink

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/install-metrics/install-metrics/pkg/sink"
)

// DefaultTimeout bounds a send whose context has no deadline.
const DefaultTimeout = 5 * time.Second

// DialFunc is net.Dialer.DialContext; tests replace it to simulate DNS
// failures without leaving the machine.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Client returns an HTTP client bounded by ctx's deadline, trusting the
// system roots plus the PEM certificates of caFile (when not ""), with no
// keep-alive, and that never follows a redirect: net/http keeps custom
// headers (credentials) on a redirect to another host, and a redirected
// POST is a wrong URL anyway. Errors are about caFile only.
func Client(ctx context.Context, caFile string, dial DialFunc) (*http.Client, error) {
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		pem, err := os.ReadFile(caFile)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = fmt.Errorf("%s: %w", pe.Path, pe.Err)
			}
			return nil, err
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", caFile)
		}
		tlsConf.RootCAs = pool
	}
	timeout := DefaultTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(d), time.Millisecond)
	}
	if dial == nil {
		dial = (&net.Dialer{Timeout: timeout}).DialContext
	}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                  http.ProxyFromEnvironment,
			DialContext:            dial,
			TLSClientConfig:        tlsConf,
			TLSHandshakeTimeout:    timeout,
			ResponseHeaderTimeout:  timeout,
			DisableKeepAlives:      true,
			MaxResponseHeaderBytes: 64 << 10,
		},
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

// Writes is what TraceWrites learns of one request.
type Writes struct {
	wrote   atomic.Bool
	mu      sync.Mutex
	refused error
}

// Wrote reports whether the request was completely written: before that, a
// failure proves the far end got nothing. A request the hook refused was
// not written, whatever net/http's trace said of its buffered bytes.
func (w *Writes) Wrote() bool { return w.wrote.Load() && w.Refused() == nil }

// Refused is the error of the BeforeWrite hook that stopped the request
// before its first byte, or nil.
func (w *Writes) Refused() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.refused
}

// TraceWrites makes req report whether it was completely written, and
// calls before (when not nil) once the connection is up, TLS handshake and
// proxy CONNECT included, and before the request's first byte: net/http
// calls GotConn on the request's goroutine before handing the request to
// the connection's writer. When before fails, the connection is closed
// there, so nothing of the request is written, and Refused returns the
// error. The client must not reuse connections (Client disables
// keep-alives), so GotConn is always a fresh connection.
func TraceWrites(req *http.Request, before func() error) (*http.Request, *Writes) {
	w := &Writes{}
	trace := &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				w.wrote.Store(true)
			}
		},
	}
	if before != nil {
		trace.GotConn = func(info httptrace.GotConnInfo) {
			if err := before(); err != nil {
				w.mu.Lock()
				w.refused = err
				w.mu.Unlock()
				_ = info.Conn.Close()
			}
		}
	}
	return req.WithContext(httptrace.WithClientTrace(req.Context(), trace)), w
}

// NetReason is a transport error without the request URL and without any
// secret: a timeout or an interruption said plainly, else the cause.
func NetReason(ctx context.Context, err error, secrets []string) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || sink.IsTimeout(err) {
		return "no connection before --metrics-timeout ran out"
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return "sending interrupted"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return sink.Redact(err.Error(), secrets...)
}

// TLSHint says what to do about a certificate error ("" for others);
// caHint names the way to pass a CA (a flag, an environment variable).
func TLSHint(err error, who, caHint string) string {
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(err, &ua):
		return " (pass the " + who + "'s CA with " + caHint + ")"
	case errors.As(err, &he):
		return " (the certificate is for another host name)"
	case errors.As(err, &ci) && ci.Reason == x509.Expired:
		return " (the " + who + "'s certificate has expired)"
	}
	return ""
}

// RedirectHost shows only where a redirect points, never a path or query.
func RedirectHost(loc string) string {
	u, err := url.Parse(loc)
	if err != nil || loc == "" {
		return "an unknown location"
	}
	if u.Host == "" {
		return "another path on the same host"
	}
	return u.Scheme + "://" + u.Host
}
