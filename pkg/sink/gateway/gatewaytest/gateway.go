package gatewaytest

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Options configure a Server.
type Options struct {
	// AuthUsers turns on HTTP Basic auth for pushes, like the gateway's
	// --AuthUsers user=pass,… flag.
	AuthUsers map[string]string
	// BearerToken emulates the TLS proxy in front of the gateway: a push
	// without "Authorization: Bearer <BearerToken>" gets 401 from the proxy
	// and never reaches the gateway.
	BearerToken string
	// Addr is the 127.0.0.1:port to listen on (default: a free port), e.g.
	// to bring a gateway back where a client found none.
	Addr string
	// KeepRequests keeps only the latest KeepRequests requests for
	// Requests (0: all), so that a long soak measures the store and not
	// the request log. Pushes and the store count every request.
	KeepRequests int
	// Lifecycle starts the gateway's lifecycle listener too, on its own
	// port (Server.LifecycleURL): GET /healthy and /ready answer OK, GET
	// /metrics the gateway's own prom_agg_gateway_metric_pushes{push_job}
	// (pushes merged, per job of the push path), as the real one does.
	Lifecycle bool
}

// FaultKind is a misbehaviour of the gateway or of the network in front.
type FaultKind int

// The faults.
const (
	// NoFault: behave like the real gateway.
	NoFault FaultKind = iota
	// Status answers Fault.Status with Fault.Body without processing (a
	// proxy's 429, 502, 503, 504, or a 500).
	Status
	// Hang reads the request and never answers (until the client gives up
	// or the server closes). Nothing is processed.
	Hang
	// Slow processes the push, then answers 202 after Fault.Delay.
	Slow
	// CloseMidRequest closes the connection after the request headers,
	// without reading the body. Nothing is processed.
	CloseMidRequest
	// CloseAfterProcessing processes the push, then closes the connection
	// without answering: the samples were counted, the client cannot know.
	CloseAfterProcessing
	// Redirect answers 307 to Fault.Location without processing.
	Redirect
	// Garbage reads the request and answers bytes that are not HTTP,
	// without processing.
	Garbage
)

// Fault is what the server does with the next requests (see SetFault).
type Fault struct {
	Kind     FaultKind
	Status   int
	Body     string
	Delay    time.Duration
	Location string
}

// Request is one request the server received.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
	// Status is the status code answered, 0 when none was.
	Status int
}

// Server is a running test gateway. Its zero value is not usable: use
// NewServer or NewTLSServer, and Close it.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:34567.
	URL string
	// LifecycleURL is the lifecycle listener's base URL (Options.Lifecycle).
	LifecycleURL string
	lifecycle    *httptest.Server
	// jobPushes is the real gateway's own counter, per job of the push
	// path ("" for none), served by the lifecycle listener.
	jobPushes *prometheus.CounterVec

	ts      *httptest.Server
	opts    Options
	caPEM   []byte
	closing chan struct{}
	once    sync.Once

	mu       sync.Mutex
	fault    Fault
	requests []Request
	dropped  int // requests no longer kept (Options.KeepRequests)
	families map[string]*dto.MetricFamily
	pushes   int
}

func newServer(o Options) (*Server, error) {
	s := &Server{opts: o, closing: make(chan struct{}), families: map[string]*dto.MetricFamily{}}
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	if o.Addr != "" {
		ln, err := net.Listen("tcp", o.Addr)
		if err != nil {
			s.ts.Close()
			return nil, fmt.Errorf("listening on %s: %w", o.Addr, err)
		}
		_ = s.ts.Listener.Close()
		s.ts.Listener = ln
	}
	// Failed TLS handshakes are what some tests are about: not worth a log line.
	s.ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.jobPushes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "prom_agg_gateway_metric_pushes",
		Help: "Total number of metric push requests, per job",
	}, []string{"push_job"})
	if o.Lifecycle {
		reg := prometheus.NewRegistry()
		reg.MustRegister(s.jobPushes)
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		ok := func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "OK") }
		mux.HandleFunc("GET /healthy", ok)
		mux.HandleFunc("GET /ready", ok)
		s.lifecycle = httptest.NewServer(mux)
		s.LifecycleURL = s.lifecycle.URL
	}
	return s, nil
}

// NewServer starts a plain HTTP test gateway on 127.0.0.1. It panics if
// Options.Addr cannot be listened on (use Listen to get the error).
func NewServer(o Options) *Server {
	s, err := Listen(o)
	if err != nil {
		panic("gatewaytest: " + err.Error())
	}
	return s
}

// Listen is NewServer returning an error instead of panicking.
func Listen(o Options) (*Server, error) {
	s, err := newServer(o)
	if err != nil {
		return nil, err
	}
	s.ts.Start()
	s.URL = s.ts.URL
	return s, nil
}

// Close stops the server; hanging requests are released first.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closing)
		s.ts.CloseClientConnections()
		s.ts.Close()
		if s.lifecycle != nil {
			s.lifecycle.Close()
		}
	})
}

// SetFault sets what the server does with the following requests.
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = f
}

// Requests returns a copy of every request received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Pushes is how many pushes were accepted (202).
func (s *Server) Pushes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pushes
}

// Value sums the counter, gauge or untyped values of family name over the
// series whose labels include every pair of match.
func (s *Server) Value(name string, match map[string]string) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	mf, ok := s.families[name]
	if !ok {
		return 0
	}
	var sum float64
	for _, m := range mf.Metric {
		if !matches(m, match) {
			continue
		}
		sum += m.GetCounter().GetValue() + m.GetGauge().GetValue() + m.GetUntyped().GetValue()
	}
	return sum
}

// Histogram is one histogram of the store, or the sum of several.
type Histogram struct {
	Count uint64
	Sum   float64
	// Buckets are the cumulative counts by upper bound, +Inf included.
	Buckets map[float64]uint64
}

// Histogram adds up the histograms of family name over the series whose
// labels include every pair of match, bound by bound (as stored: after the
// gateway's merge by upper bound).
func (s *Server) Histogram(name string, match map[string]string) Histogram {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Histogram{Buckets: map[float64]uint64{}}
	mf, ok := s.families[name]
	if !ok {
		return out
	}
	for _, m := range mf.Metric {
		if !matches(m, match) {
			continue
		}
		h := m.GetHistogram()
		out.Count += h.GetSampleCount()
		out.Sum += h.GetSampleSum()
		for _, b := range h.GetBucket() {
			out.Buckets[b.GetUpperBound()] += b.GetCumulativeCount()
		}
		out.Buckets[math.Inf(1)] = out.Count
	}
	return out
}

func matches(m *dto.Metric, match map[string]string) bool {
	for k, v := range match {
		found := false
		for _, l := range m.Label {
			if l.GetName() == k && l.GetValue() == v {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Metrics renders the store as text, as GET /metrics does.
func (s *Server) Metrics() string {
	var buf bytes.Buffer
	s.render(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	return buf.String()
}

func (s *Server) render(w io.Writer, f expfmt.Format) {
	s.mu.Lock()
	defer s.mu.Unlock()
	enc := expfmt.NewEncoder(w, f)
	names := make([]string, 0, len(s.families))
	for n := range s.families {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if err := enc.Encode(s.families[n]); err != nil {
			return
		}
	}
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	fault := s.fault
	s.mu.Unlock()
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone()}

	if fault.Kind == CloseMidRequest {
		s.record(req)
		hijackClose(w)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	req.Body = body
	i := s.record(req)
	rec := &statusRecorder{ResponseWriter: w}
	defer func() {
		s.mu.Lock()
		if j := i - s.dropped; j >= 0 {
			s.requests[j].Status = rec.status
		}
		s.mu.Unlock()
	}()

	switch fault.Kind {
	case Status:
		http.Error(rec, fault.Body, fault.Status)
		return
	case Redirect:
		rec.Header().Set("Location", fault.Location)
		rec.WriteHeader(http.StatusTemporaryRedirect)
		return
	case Garbage:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, buf, err := hj.Hijack(); err == nil {
				_, _ = buf.WriteString("\x00\x01garbage \xff\r\n\r\n")
				_ = buf.Flush()
				_ = conn.Close()
			}
		}
		return
	case Hang:
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
		hijackClose(w)
		return
	}

	isPush := (r.Method == http.MethodPost || r.Method == http.MethodPut) &&
		(r.URL.Path == "/metrics" || strings.HasPrefix(r.URL.Path, "/metrics/"))
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/metrics":
		f := expfmt.NegotiateAccept(r.Header, expfmt.DefaultAcceptedFormats()...)
		rec.Header().Set("Content-Type", string(f))
		s.render(rec, f)
		return
	case !isPush:
		http.Error(rec, "404 page not found", http.StatusNotFound)
		return
	}
	if s.opts.BearerToken != "" && !bearerOK(r, s.opts.BearerToken) {
		http.Error(rec, "unauthorized", http.StatusUnauthorized)
		return
	}
	if len(s.opts.AuthUsers) > 0 && !s.basicOK(r) {
		rec.Header().Set("WWW-Authenticate", `Basic realm="Authorization Required"`)
		rec.WriteHeader(http.StatusUnauthorized)
		return
	}
	if err := s.insert(r.URL.Path, body); err != nil {
		http.Error(rec, err.Error(), http.StatusBadRequest)
		return
	}
	switch fault.Kind {
	case CloseAfterProcessing:
		rec.status = 0
		hijackClose(w)
		return
	case Slow:
		t := time.NewTimer(fault.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		}
	}
	rec.WriteHeader(http.StatusAccepted)
}

// record appends a request and returns its index among all the requests
// received (kept or not).
func (s *Server) record(req Request) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, req)
	i := s.dropped + len(s.requests) - 1
	if k := s.opts.KeepRequests; k > 0 && len(s.requests) > k {
		n := copy(s.requests, s.requests[len(s.requests)-k:])
		clear(s.requests[n:])
		s.requests = s.requests[:n]
		s.dropped = i + 1 - n
	}
	return i
}

func hijackClose(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("gatewaytest: connection cannot be hijacked")
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

func bearerOK(r *http.Request, token string) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}

func (s *Server) basicOK(r *http.Request) bool {
	h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Basic ")
	if !ok {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(h)
	if err != nil {
		return false
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	want, known := s.opts.AuthUsers[user]
	return ok && known && subtle.ConstantTimeCompare([]byte(pass), []byte(want)) == 1
}

// insert parses a push and merges it into the store, as the gateway's
// HandleInsert does.
func (s *Server) insert(path string, body []byte) error {
	var pairs [][2]string
	if rest := strings.Trim(strings.TrimPrefix(path, "/metrics"), "/"); rest != "" {
		parts := strings.Split(rest, "/")
		if len(parts)%2 != 0 {
			return fmt.Errorf("labels must be defined in pairs")
		}
		for i := 0; i < len(parts); i += 2 {
			pairs = append(pairs, [2]string{parts[i], parts[i+1]})
		}
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	in, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return err
	}
	names := make([]string, 0, len(in))
	for n := range in {
		names = append(names, n)
	}
	slices.Sort(names)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, name := range names {
		mf := in[name]
		for _, m := range mf.Metric {
			seen := map[string]bool{}
			for _, l := range m.Label {
				seen[l.GetName()] = true
			}
			for _, p := range pairs {
				if seen[p[0]] {
					return fmt.Errorf("duplicate label %s", p[0])
				}
				m.Label = append(m.Label, &dto.LabelPair{Name: ptr(p[0]), Value: ptr(p[1])})
			}
			slices.SortFunc(m.Label, func(a, b *dto.LabelPair) int { return strings.Compare(a.GetName(), b.GetName()) })
		}
		if err := validateFamily(mf); err != nil {
			return err
		}
		slices.SortFunc(mf.Metric, func(a, b *dto.Metric) int { return compareLabels(a.Label, b.Label) })
		cur, ok := s.families[name]
		if !ok {
			s.families[name] = mf
			continue
		}
		if cur.GetType() != mf.GetType() {
			return fmt.Errorf("cannot merge metric '%s': type %s != %s", name, cur.GetType(), mf.GetType())
		}
		cur.Metric = mergeMetrics(cur.GetType(), cur.Metric, mf.Metric)
	}
	s.pushes++
	job := "" // as HandleInsert: the last job pair of the path, "" without one
	for _, p := range pairs {
		if p[0] == "job" {
			job = p[1]
		}
	}
	s.jobPushes.WithLabelValues(job).Inc()
	return nil
}

func ptr[T any](v T) *T { return &v }

func validateFamily(mf *dto.MetricFamily) error {
	seen := map[model.Fingerprint]bool{}
	for _, m := range mf.Metric {
		ls := make(model.LabelSet, len(m.Label)+1)
		for _, l := range m.Label {
			ls[model.LabelName(l.GetName())] = model.LabelValue(l.GetValue())
		}
		ls[model.MetricNameLabel] = model.LabelValue(mf.GetName())
		if err := ls.Validate(); err != nil {
			return err
		}
		fp := ls.Fingerprint()
		if seen[fp] {
			return fmt.Errorf("duplicate labels: %v", ls)
		}
		seen[fp] = true
	}
	return nil
}

func compareLabels(a, b []*dto.LabelPair) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := strings.Compare(a[i].GetName(), b[i].GetName()); c != 0 {
			return c
		}
		if c := strings.Compare(a[i].GetValue(), b[i].GetValue()); c != 0 {
			return c
		}
	}
	return len(a) - len(b)
}

// mergeMetrics merges two label-sorted metric lists, combining equal label
// sets by type.
func mergeMetrics(t dto.MetricType, a, b []*dto.Metric) []*dto.Metric {
	out := make([]*dto.Metric, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch c := compareLabels(a[i].Label, b[j].Label); {
		case c < 0:
			out = append(out, a[i])
			i++
		case c > 0:
			out = append(out, b[j])
			j++
		default:
			out = append(out, combine(t, a[i], b[j]))
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// combine merges two samples of one series; the result has no timestamp.
func combine(t dto.MetricType, a, b *dto.Metric) *dto.Metric {
	m := &dto.Metric{Label: a.Label}
	switch t {
	case dto.MetricType_COUNTER:
		m.Counter = &dto.Counter{Value: ptr(a.GetCounter().GetValue() + b.GetCounter().GetValue())}
	case dto.MetricType_GAUGE:
		m.Gauge = &dto.Gauge{Value: ptr(a.GetGauge().GetValue() + b.GetGauge().GetValue())}
	case dto.MetricType_UNTYPED:
		m.Untyped = &dto.Untyped{Value: ptr(a.GetUntyped().GetValue() + b.GetUntyped().GetValue())}
	case dto.MetricType_SUMMARY:
		m.Summary = &dto.Summary{
			SampleCount: ptr(a.GetSummary().GetSampleCount() + b.GetSummary().GetSampleCount()),
			SampleSum:   ptr(a.GetSummary().GetSampleSum() + b.GetSummary().GetSampleSum()),
		}
	case dto.MetricType_HISTOGRAM:
		m.Histogram = &dto.Histogram{
			SampleCount: ptr(a.GetHistogram().GetSampleCount() + b.GetHistogram().GetSampleCount()),
			SampleSum:   ptr(a.GetHistogram().GetSampleSum() + b.GetHistogram().GetSampleSum()),
			Bucket:      mergeBuckets(a.GetHistogram().GetBucket(), b.GetHistogram().GetBucket()),
		}
	}
	return m
}

func mergeBuckets(a, b []*dto.Bucket) []*dto.Bucket {
	out := make([]*dto.Bucket, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch ua, ub := a[i].GetUpperBound(), b[j].GetUpperBound(); {
		case ua < ub:
			out = append(out, a[i])
			i++
		case ua > ub:
			out = append(out, b[j])
			j++
		default:
			out = append(out, &dto.Bucket{UpperBound: ptr(ua), CumulativeCount: ptr(a[i].GetCumulativeCount() + b[j].GetCumulativeCount())})
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}
