package gateway

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/install-metrics/install-metrics/internal/buildinfo"

	"github.com/prometheus/client_golang/prometheus/push"

	"github.com/install-metrics/install-metrics/pkg/metrics"
	"github.com/install-metrics/install-metrics/pkg/sink"
	"github.com/install-metrics/install-metrics/pkg/sink/internal/httpsink"
)

// defaultTimeout bounds a push whose context has no deadline.
const defaultTimeout = 5 * time.Second

// maxSecretFile bounds what is read from a token or basic-auth file.
const maxSecretFile = 64 << 10

// Options are a gateway's credentials and connection settings.
type Options struct {
	// Auth is how pushes are authenticated.
	Auth Auth
	// PullSecretToken is the Bearer token for AuthPullSecret.
	PullSecretToken string
	// CAFile is a PEM file of extra CA certificates, added to the system roots.
	CAFile string
	// Dial connects (nil: net.Dialer); tests replace it.
	Dial sink.DialFunc
}

// Gateway pushes to an aggregation gateway with client_golang's push
// package: POST {url}/metrics/job/install-metrics, text format (counters
// and histograms), credentials from the current flags, no redirects
// followed.
type Gateway struct {
	sink       sink.URL
	auth       Auth
	pullSecret string
	caFile     string
	dial       sink.DialFunc
}

// New returns the sink for the gateway at u.
func New(u sink.URL, o Options) *Gateway {
	return &Gateway{sink: u, auth: o.Auth, pullSecret: o.PullSecretToken, caFile: o.CAFile, dial: o.Dial}
}

// Preflight checks, without the network, that the credentials and the CA
// file can be read.
func (g *Gateway) Preflight() error {
	if _, _, err := g.credentials(); err != nil {
		return err
	}
	_, err := g.client(context.Background())
	return err
}

// Send implements sink.Sink.
func (g *Gateway) Send(ctx context.Context, b sink.Batch) error {
	authz, secrets, err := g.credentials()
	if err != nil {
		return sink.NotDelivered(err)
	}
	client, err := g.client(ctx)
	if err != nil {
		return sink.NotDelivered(err)
	}
	defer client.CloseIdleConnections()
	rec := &recorder{doer: client, before: b.BeforeWrite}
	hdr := http.Header{"User-Agent": {buildinfo.UserAgent()}}
	if authz != "" {
		hdr.Set("Authorization", authz)
	}
	err = push.New(g.sink.Endpoint, sink.Job).
		Collector(metrics.NewCollector(b.Samples...)).
		Client(rec).
		Format(metrics.TextFormat).
		Header(hdr).
		AddContext(ctx)
	return g.classify(ctx, err, rec, secrets)
}

// credentials returns the Authorization header value and the strings that
// must never appear in a message.
func (g *Gateway) credentials() (string, []string, error) {
	switch g.auth.Mode {
	case AuthTokenFile:
		line, err := readSecretLine(g.auth.Path, "token file")
		if err != nil {
			return "", nil, err
		}
		if strings.ContainsAny(line, " \t") {
			return "", nil, fmt.Errorf("token file %s holds spaces: it must hold the token alone", g.auth.Path)
		}
		return "Bearer " + line, []string{line}, nil
	case AuthBasicFile:
		line, err := readSecretLine(g.auth.Path, "basic-auth file")
		if err != nil {
			return "", nil, err
		}
		user, pass, ok := strings.Cut(line, ":")
		if !ok || user == "" {
			return "", nil, fmt.Errorf("basic-auth file %s must hold user:password on one line", g.auth.Path)
		}
		enc := base64.StdEncoding.EncodeToString([]byte(line))
		return "Basic " + enc, []string{pass, enc, line}, nil
	case AuthPullSecret:
		tok := strings.TrimSpace(g.pullSecret)
		if tok == "" || strings.ContainsAny(tok, " \t\r\n") {
			return "", nil, errors.New(`--metrics-auth pull-secret: no usable cloud.openshift.com auth in the pull secret; use --metrics-auth token-file:PATH`)
		}
		return "Bearer " + tok, []string{tok}, nil
	}
	return "", nil, nil
}

// readSecretLine reads a one-line secret; errors never quote the content.
func readSecretLine(path, what string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", what, sink.CleanPathErr(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", fmt.Errorf("reading %s %s: %w", what, path, sink.CleanPathErr(err))
	}
	if len(data) > maxSecretFile {
		return "", fmt.Errorf("%s %s is larger than %d KiB", what, path, maxSecretFile>>10)
	}
	s := strings.TrimRight(string(data), "\r\n")
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", fmt.Errorf("%s %s is empty", what, path)
	case strings.ContainsAny(s, "\r\n"):
		return "", fmt.Errorf("%s %s holds more than one line", what, path)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return "", fmt.Errorf("%s %s holds control characters", what, path)
		}
	}
	return s, nil
}

// client returns an HTTP client bounded by ctx's deadline that trusts the
// system roots plus CAFile and never follows a redirect.
func (g *Gateway) client(ctx context.Context) (*http.Client, error) {
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if g.caFile != "" {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		pem, err := os.ReadFile(g.caFile)
		if err != nil {
			return nil, fmt.Errorf("reading --metrics-ca-file: %w", sink.CleanPathErr(err))
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--metrics-ca-file %s holds no PEM certificate", g.caFile)
		}
		tlsConf.RootCAs = pool
	}
	timeout := defaultTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(d), time.Millisecond)
	}
	if g.dial == nil {
		g.dial = (&net.Dialer{Timeout: timeout}).DialContext
	}
	tr := &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            g.dial,
		TLSClientConfig:        tlsConf,
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		// Never follow: net/http drops Authorization on a cross-host
		// redirect but keeps other headers, and a redirect of a POST is
		// a sign of a wrong URL anyway.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

// recorder wraps the HTTP client to learn what the push package does not
// say in a typed way: whether the whole request was written, and the status
// and body of the answer.
type recorder struct {
	doer   push.HTTPDoer
	before func() error // sink.Batch.BeforeWrite

	mu       sync.Mutex
	called   bool
	writes   *httpsink.Writes
	status   int
	body     []byte
	location string
}

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	req, w := httpsink.TraceWrites(req, r.before)
	r.mu.Lock()
	r.called, r.writes = true, w
	r.mu.Unlock()
	resp, err := r.doer.Do(req)
	if resp != nil {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		r.mu.Lock()
		r.status, r.body, r.location = resp.StatusCode, body, resp.Header.Get("Location")
		r.mu.Unlock()
	}
	return resp, err
}

// classify turns the push outcome into nil, a *NotDeliveredError (spool it)
// or a plain error (do not resend), with a message that never holds a secret.
func (g *Gateway) classify(ctx context.Context, err error, rec *recorder, secrets []string) error {
	if err == nil {
		return nil
	}
	rec.mu.Lock()
	called, writes, status, body, loc := rec.called, rec.writes, rec.status, rec.body, rec.location
	rec.mu.Unlock()
	wrote := writes != nil && writes.Wrote()
	if writes != nil && status == 0 {
		if r := writes.Refused(); r != nil {
			return sink.NotDelivered(fmt.Errorf("not sent: %w", r))
		}
	}
	msg := ""
	if m := sink.OneLine(sink.Redact(string(body), secrets...), 200); m != "" {
		msg = ": " + m
	}
	switch {
	case !called:
		return fmt.Errorf("preparing the push: %s", sink.Redact(err.Error(), secrets...))
	case status >= 200 && status < 300:
		return nil // 201, 204: taken, whatever the push package thinks
	case status == http.StatusBadRequest:
		return fmt.Errorf("gateway rejected the samples (400%s); they are not resent", msg)
	case status >= 300 && status < 400:
		return sink.NotDelivered(fmt.Errorf("gateway answered %d redirecting to %s; redirects are not followed, so credentials stay with the host you named: use the final URL as the sink", status, httpsink.RedirectHost(loc)))
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return sink.NotDelivered(fmt.Errorf("gateway refused the credentials (%d%s): check --metrics-auth", status, msg))
	case status >= 400 && status < 500:
		return sink.NotDelivered(fmt.Errorf("gateway answered %d%s: check the sink URL", status, msg))
	case status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout:
		return sink.NotDelivered(fmt.Errorf("gateway unavailable (%d%s)", status, msg))
	case status != 0:
		return fmt.Errorf("gateway answered %d%s; the samples may have been counted, so they are not resent", status, msg)
	case !wrote:
		return sink.NotDelivered(fmt.Errorf("%s%s", httpsink.NetReason(ctx, err, secrets), httpsink.TLSHint(err, "gateway", "--metrics-ca-file")))
	case errors.Is(ctx.Err(), context.Canceled):
		return errors.New("sending interrupted after the samples were sent; they may have been counted, so they are not resent")
	case ctx.Err() != nil || sink.IsTimeout(err):
		return errors.New("no answer before --metrics-timeout ran out, after the samples were sent; they may have been counted, so they are not resent")
	default:
		return fmt.Errorf("connection failed after the samples were sent (%s); they may have been counted, so they are not resent", httpsink.NetReason(ctx, err, secrets))
	}
}
