package push

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/install-metrics/install-metrics/pkg/journal"
	"github.com/install-metrics/install-metrics/pkg/metrics"
	"github.com/install-metrics/install-metrics/pkg/record"
	"github.com/install-metrics/install-metrics/pkg/sink"
	"github.com/install-metrics/install-metrics/pkg/sink/gateway"
	"github.com/install-metrics/install-metrics/pkg/sink/otlp"
	"github.com/install-metrics/install-metrics/pkg/sink/statsd"
	"github.com/install-metrics/install-metrics/pkg/sink/textfile"
	"github.com/install-metrics/install-metrics/pkg/spool"
)

// localBudget bounds the textfile write when Timeout is 0 (no network
// wait): local file work still needs a moment, e.g. to wait for the lock
// while other runs write.
const localBudget = time.Second

// straggle is how long Send waits past its deadline for a sink that ignores
// it before giving up on it (ours do not; it is a safety net).
const straggle = 50 * time.Millisecond

// Sender sends samples to the configured sinks. Build it with New.
type Sender struct {
	cfg     Config
	spool   *spool.Spool
	journal *journal.Journal
	// newSink builds the Sink for a URL; tests replace it.
	newSink func(SinkURL, func(error)) sink.Sink
	// dial connects gateway and StatsD sinks (nil: net.Dialer); tests
	// replace it to simulate DNS failures.
	dial sink.DialFunc
}

// New validates cfg (no network, no file read) and returns a Sender. An
// empty cfg.Sinks means the default textfile in cfg.StateDir.
func New(cfg Config) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(cfg.Sinks) == 0 {
		def, err := ParseSinks(nil, cfg.StateDir)
		if err != nil {
			return nil, err
		}
		cfg.Sinks = def
	}
	if cfg.Bucket == 0 {
		cfg.Bucket = DefaultBucket
	}
	s := &Sender{
		cfg:   cfg,
		spool: spool.New(SpoolDir(cfg.StateDir), cfg.SpoolLimits, cfg.now),
	}
	s.journal = openJournal(cfg, nil)
	s.newSink = s.defaultSink
	return s, nil
}

func (s *Sender) defaultSink(u SinkURL, note func(error)) sink.Sink {
	switch u.Kind {
	case GatewaySink:
		return s.gateway(u, s.dial)
	case StatsDSink:
		return statsd.New(u, s.dial)
	case OTLPSink:
		o, err := s.otlp(u, s.dial)
		if err != nil {
			// Said by Preflight before the run; the batch waits in the
			// spool for an environment that works.
			return failing{sink.NotDelivered(err)}
		}
		return o
	default:
		return textfile.New(u.Path, s.cfg.now, note)
	}
}

func (s *Sender) gateway(u SinkURL, dial sink.DialFunc) *gateway.Gateway {
	return gateway.New(u, gateway.Options{Auth: s.cfg.Auth, PullSecretToken: s.cfg.PullSecretToken, CAFile: s.cfg.CAFile, Dial: dial})
}

// otlp builds the OTLP trace sink of u from the environment (read now: a
// flush uses its own OTEL_EXPORTER_OTLP_HEADERS, never spooled ones).
func (s *Sender) otlp(u SinkURL, dial sink.DialFunc) (*otlp.Sink, error) {
	return otlp.New(otlp.URL{Endpoint: u.Endpoint}, otlp.Options{
		Getenv: s.cfg.Getenv, CAFile: s.cfg.CAFile, Version: s.cfg.Version, Debugf: s.cfg.Debugf, Dial: dial,
	})
}

// failing is a sink that could not be built: every Send gives its error.
type failing struct{ err error }

func (f failing) Send(context.Context, sink.Batch) error { return f.err }

// Preflight checks, without the network, what would make every push fail
// later: unreadable credential or CA files, a textfile path that is a link or
// a directory, an OTLP environment that cannot be used (a malformed
// OTEL_EXPORTER_OTLP_ENDPOINT or _HEADERS, headers in clear text). Call it before starting the installer and print the warnings;
// none of them is fatal.
func (s *Sender) Preflight() []*Warning {
	var out []*Warning
	for _, u := range s.cfg.Sinks {
		switch u.Kind {
		case GatewaySink:
			if err := s.gateway(u, nil).Preflight(); err != nil {
				out = append(out, &Warning{Sink: u.String(), Err: err})
			}
		case OTLPSink:
			o, err := s.otlp(u, nil)
			if err == nil {
				err = o.Preflight()
			}
			if err != nil {
				out = append(out, &Warning{Sink: u.String(), Err: err})
			}
		case TextfileSink:
			if err := textfile.CheckPath(u.Path); err != nil {
				out = append(out, &Warning{Sink: u.String(), Err: err})
			}
		}
	}
	return out
}

// Send sends one invocation to every sink: its samples (metrics.Samples:
// counters and histogram observations) and the invocation itself, for
// per-invocation sinks.
func (s *Sender) Send(ctx context.Context, inv record.Invocation) *Report {
	return s.SendBatch(ctx, sink.Batch{
		Samples:    metrics.Samples(inv, metrics.SampleOptions{Bucket: s.cfg.Bucket, Joined: s.cfg.Joined}),
		Invocation: &inv,
	})
}

// SendSamples sends samples alone (no invocation) to every sink; see SendBatch.
func (s *Sender) SendSamples(ctx context.Context, samples []metrics.Sample) *Report {
	return s.SendBatch(ctx, sink.Batch{Samples: samples})
}

// SendBatch sends a batch to every sink at once, all within
// Config.Timeout, then uses the time left to send spooled pushes to the sinks
// that just took the batch. It returns when done or when the time is up,
// whatever the network does; failures are warnings in the report.
func (s *Sender) SendBatch(ctx context.Context, batch sink.Batch) *Report {
	return s.send(ctx, batch, sendOpts{sinks: s.cfg.Sinks, flush: true})
}

// sendOpts shape one send.
type sendOpts struct {
	// sinks are the sinks to send to.
	sinks []SinkURL
	// flush sends the spool to the sinks that took the batch, with the
	// time left.
	flush bool
	// gate, when set, is the journal record of the batch (journal.go): a
	// network sink writes only once the record says Sending for it, and a
	// push that provably did not arrive is marked Sending before it is
	// spooled, so it is never both in the spool and Pending in the
	// journal. The textfile, idempotent by the batch's id, never waits.
	gate *writeGate
	// healthy, when set, receives the sinks that took the batch.
	healthy *[]SinkURL
	// kept, when set, receives the sinks left Pending in the journal
	// record: not tried, not spooled, for a later TakeOver.
	kept *[]SinkURL
}

func (s *Sender) send(ctx context.Context, batch sink.Batch, o sendOpts) *Report {
	g := o.gate
	var kept []SinkURL
	defer func() {
		if o.kept != nil {
			*o.kept = kept
		}
	}()
	rep := &Report{}
	// markOrKeep marks u Sending before its push is spooled; when the
	// journal cannot say so, the push is not spooled but stays Pending
	// in the journal (one warning).
	markOrKeep := func(u SinkURL, why error) bool {
		if g == nil {
			return true
		}
		err := g.mark(u.String())
		if err != nil {
			kept = append(kept, u)
			rep.Warnings = append(rep.Warnings, &Warning{Sink: u.String(), Spooled: true, Err: fmt.Errorf("%w; kept in the journal for `install-metrics metrics flush` (%w)", why, err)})
		}
		return err == nil
	}
	var (
		mu    sync.Mutex
		notes []*Warning
	)
	note := func(u SinkURL) func(error) {
		return func(err error) {
			mu.Lock()
			notes = append(notes, &Warning{Sink: u.String(), Err: err})
			mu.Unlock()
		}
	}

	netCtx, cancelNet := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancelNet()
	localCtx, cancelLocal := context.WithTimeout(ctx, max(s.cfg.Timeout, localBudget))
	defer cancelLocal()
	if s.cfg.Timeout > 0 {
		localCtx = netCtx
	}

	type result struct {
		u       SinkURL
		err     error
		elapsed time.Duration
	}
	results := make(chan result, len(o.sinks))
	var direct []SinkURL // spooled without trying: Timeout 0
	pending := 0
	for _, u := range o.sinks {
		sctx := netCtx
		if u.Kind == TextfileSink {
			sctx = localCtx
		} else if s.cfg.Timeout == 0 {
			direct = append(direct, u)
			continue
		}
		pending++
		go func(u SinkURL, ctx context.Context) {
			start := time.Now()
			b := batch
			if g != nil && u.Kind != TextfileSink {
				b.BeforeWrite = func() error { return g.pass(u.String()) }
			}
			err := s.newSink(u, note(u)).Send(ctx, b)
			results <- result{u, err, time.Since(start)}
		}(u, sctx)
	}

	deadline, _ := localCtx.Deadline()
	if d, ok := netCtx.Deadline(); ok && d.After(deadline) {
		deadline = d
	}
	safety := time.NewTimer(time.Until(deadline) + straggle)
	defer safety.Stop()
	done := map[string]bool{}
	var healthy []SinkURL
	for pending > 0 {
		select {
		case r := <-results:
			pending--
			done[r.u.String()] = true
			s.cfg.debugf("sink %s: %v in %v", r.u, errOrOK(r.err), r.elapsed.Round(time.Microsecond))
			if r.err == nil {
				rep.Sent = append(rep.Sent, r.u.String())
				healthy = append(healthy, r.u)
				continue
			}
			if sink.IsNotDelivered(r.err) && !markOrKeep(r.u, r.err) {
				continue
			}
			s.handleFailure(rep, r.u, batch, r.err)
		case <-safety.C:
			// Closing the gate keeps a sink that has not written yet
			// from writing at all: it stays Pending in the journal.
			var wrote map[string]bool
			if g != nil {
				wrote = g.close()
			}
			for _, u := range o.sinks {
				if done[u.String()] || slicesContains(direct, u) {
					continue
				}
				if g != nil && u.Kind != TextfileSink && !wrote[u.String()] {
					kept = append(kept, u)
					rep.Warnings = append(rep.Warnings, &Warning{Sink: u.String(), Spooled: true,
						Err: errors.New("no connection before --metrics-timeout ran out; the samples were not sent and are kept for `install-metrics metrics flush`")})
					continue
				}
				rep.Warnings = append(rep.Warnings, &Warning{Sink: u.String(),
					Err: errors.New("did not finish before --metrics-timeout ran out; the samples may have arrived, so they are not resent")})
			}
			pending = 0
		}
	}
	for _, u := range direct {
		if !markOrKeep(u, errors.New("--metrics-timeout 0")) {
			continue
		}
		if warns, err := s.spool.Add(u.String(), batch); err != nil {
			rep.Warnings = append(rep.Warnings, &Warning{Sink: u.String(), Err: fmt.Errorf("--metrics-timeout 0: could not keep the samples for later, they are lost: %w", err)})
		} else {
			rep.Spooled = append(rep.Spooled, u.String())
			rep.Warnings = append(rep.Warnings, spoolWarnings(warns)...)
		}
	}

	if o.healthy != nil {
		*o.healthy = healthy
	}
	if len(healthy) > 0 && o.flush {
		flushCtx := netCtx
		if s.cfg.Timeout == 0 {
			flushCtx = localCtx
		}
		if flushCtx.Err() == nil {
			n, warns := s.flushSpool(flushCtx, healthy, false)
			rep.Flushed += n
			rep.Warnings = append(rep.Warnings, warns...)
		}
	}
	mu.Lock()
	rep.Warnings = append(notes, rep.Warnings...)
	mu.Unlock()
	return rep
}

func slicesContains(us []SinkURL, u SinkURL) bool {
	for _, v := range us {
		if v.String() == u.String() {
			return true
		}
	}
	return false
}

func errOrOK(err error) string {
	if err == nil {
		return "ok"
	}
	return "failed"
}

// handleFailure spools what provably did not arrive and records a warning.
func (s *Sender) handleFailure(rep *Report, u SinkURL, batch sink.Batch, err error) {
	if !sink.IsNotDelivered(err) {
		rep.Warnings = append(rep.Warnings, &Warning{Sink: u.String(), Err: err})
		return
	}
	warns, serr := s.spool.Add(u.String(), batch)
	if serr != nil {
		rep.Warnings = append(rep.Warnings, &Warning{Sink: u.String(),
			Err: fmt.Errorf("%w; the samples could not be kept for later either, they are lost: %w", err, serr)})
		return
	}
	rep.Spooled = append(rep.Spooled, u.String())
	rep.Warnings = append(rep.Warnings, &Warning{Sink: u.String(), Spooled: true, Err: err})
	rep.Warnings = append(rep.Warnings, spoolWarnings(warns)...)
}

func spoolWarnings(errs []error) []*Warning {
	out := make([]*Warning, 0, len(errs))
	for _, e := range errs {
		out = append(out, &Warning{Sink: "spool", Err: e})
	}
	return out
}

// Flush sends the spooled pushes of every configured sink, within
// Config.Timeout (DefaultTimeout when it is 0), for `install-metrics metrics
// flush`. Pushes for sinks that are not configured now stay in the spool
// (credentials only go where the current flags say); the report counts them
// in Waiting and says how to send them.
func (s *Sender) Flush(ctx context.Context) *Report {
	timeout := s.cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rep := &Report{}
	rep.Warnings = append(rep.Warnings, spoolWarnings(s.spool.Prune())...)
	n, warns := s.flushSpool(ctx, s.cfg.Sinks, true)
	rep.Flushed = n
	rep.Warnings = append(rep.Warnings, warns...)
	n, warns, jwaiting := s.sendTakenOver(ctx, s.cfg.Sinks, true)
	rep.Flushed += n
	rep.Warnings = append(rep.Warnings, warns...)
	waiting, err := s.waiting()
	if err != nil {
		rep.Warnings = append(rep.Warnings, &Warning{Sink: "spool", Err: err})
	}
	for k, v := range jwaiting {
		if waiting == nil {
			waiting = map[string]int{}
		}
		waiting[k] += v
	}
	rep.Waiting = waiting
	for _, sink := range metrics.SortedKeys(waiting) {
		rep.Warnings = append(rep.Warnings, &Warning{Sink: "spool", Err: fmt.Errorf(
			"%d pushes wait for %s, which is not a current sink: run \"install-metrics --metrics-sink %s metrics flush\" to send them", waiting[sink], sink, sink)})
	}
	return rep
}

// waiting counts the entries for sinks that are not configured.
func (s *Sender) waiting() (map[string]int, error) {
	names, err := s.spool.List()
	if err != nil {
		return nil, err
	}
	current := map[string]bool{}
	for _, u := range s.cfg.Sinks {
		current[spool.SinkHash(u.String())] = true
	}
	out := map[string]int{}
	for _, n := range names {
		if current[spool.EntrySinkHash(n)] {
			continue
		}
		e, err := s.spool.Read(n)
		if err != nil {
			continue
		}
		out[e.Sink]++
	}
	return out, nil
}

// flushSpool sends the spooled entries of sinks, oldest first, one sink per
// goroutine, until ctx is done. A sink stops at its first failure. It
// returns how many entries were delivered and the warnings.
func (s *Sender) flushSpool(ctx context.Context, sinks []SinkURL, explicit bool) (int, []*Warning) {
	names, err := s.spool.List()
	if err != nil {
		return 0, []*Warning{{Sink: "spool", Err: err}}
	}
	if len(names) == 0 {
		return 0, nil
	}
	byHash := map[string][]string{}
	for _, n := range names {
		h := spool.EntrySinkHash(n)
		byHash[h] = append(byHash[h], n)
	}
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		flushed int
		warns   []*Warning
		// Corrupt entries are moved aside and told about in one line.
		corrupt      int
		firstCorrupt string
	)
	warn := func(w *Warning) { mu.Lock(); warns = append(warns, w); mu.Unlock() }
	for _, u := range sinks {
		todo := byHash[spool.SinkHash(u.String())]
		if len(todo) == 0 {
			continue
		}
		wg.Add(1)
		go func(u SinkURL, todo []string) {
			defer wg.Done()
			snk := s.newSink(u, func(err error) { warn(&Warning{Sink: u.String(), Err: err}) })
			for _, name := range todo {
				if ctx.Err() != nil {
					return
				}
				claimed, ok := s.spool.Claim(name)
				if !ok {
					continue // another run took it
				}
				e, err := s.spool.Read(claimed)
				if err != nil {
					var ce *sink.CorruptError
					if errors.As(err, &ce) {
						aside := s.spool.MoveAside(claimed)
						mu.Lock()
						if corrupt == 0 {
							firstCorrupt = fmt.Sprintf("%s (%s), moved aside to %s", name, ce.Reason, aside)
						}
						corrupt++
						mu.Unlock()
					} else {
						s.spool.Release(claimed, name)
					}
					continue
				}
				if e.Sink != u.String() {
					s.spool.Release(claimed, name) // a hash collision: not ours
					continue
				}
				err = snk.Send(ctx, e.Batch)
				switch {
				case err == nil:
					s.spool.Done(claimed)
					mu.Lock()
					flushed++
					mu.Unlock()
				case sink.IsNotDelivered(err):
					s.spool.Release(claimed, name)
					if explicit {
						warn(&Warning{Sink: u.String(), Spooled: true, Err: err})
					}
					return
				default:
					s.spool.Done(claimed)
					warn(&Warning{Sink: u.String(), Err: fmt.Errorf("spooled push: %w", err)})
				}
			}
		}(u, todo)
	}
	wg.Wait()
	switch {
	case corrupt == 1:
		warns = append(warns, &Warning{Sink: "spool", Err: fmt.Errorf("entry %s: corrupt, not retried", firstCorrupt)})
	case corrupt > 1:
		warns = append(warns, &Warning{Sink: "spool", Err: fmt.Errorf("%d corrupt entries moved aside (the first: %s), not retried", corrupt, firstCorrupt)})
	}
	return flushed, warns
}
