package push

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/install-metrics/install-metrics/pkg/journal"
	"github.com/install-metrics/install-metrics/pkg/metrics"
	"github.com/install-metrics/install-metrics/pkg/modification"
	"github.com/install-metrics/install-metrics/pkg/record"
	"github.com/install-metrics/install-metrics/pkg/sink"
)

// JournalDir is the write-ahead journal inside stateDir (pkg/journal).
func JournalDir(stateDir string) string { return filepath.Join(stateDir, "journal") }

// openJournal opens the journal of cfg's state directory; its records name
// sinks by their canonical URL, which never holds a credential.
func openJournal(cfg Config, warn func(error)) *journal.Journal {
	return journal.Open(JournalDir(cfg.StateDir), journal.Config{
		Now: cfg.Now,
		ValidSink: func(raw string) bool {
			u, err := sink.Parse(raw)
			return err == nil && u.String() == raw
		},
		BeginSyncDelay: BeginSyncDelay,
		Warn:           warn,
	})
}

// BeginSyncDelay is how long after the installer's start the provisional
// journal record is fsynced (pkg/journal Config.BeginSyncDelay): late
// enough that the installer's start and first file writes never wait
// behind the file system's journal commit (fsyncs right after Begin
// delayed the start by 2-3 ms, docs/benchmarks.md), early enough that a
// power loss loses at most the first tenth of a second of an install; a
// run shorter than that has its record completed instead.
const BeginSyncDelay = 100 * time.Millisecond

// Begin writes the provisional journal record of a run about to start, for
// every configured sink (see pkg/journal): it survives the death of this
// process as soon as Begin returns, and a power loss BeginSyncDelay later.
// inv needs only what is known before the start: command, target, OS,
// platform, CI, start time. On an error the run goes on unjournaled: Send
// as before.
//
// dir is the run's asset directory ("" when unknown); the record keeps its
// absolute path, for a later flush with --metrics-auth pull-secret.
func (s *Sender) Begin(inv record.Invocation, dir string) (*journal.Entry, error) {
	if dir != "" {
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		} else {
			dir = ""
		}
	}
	e, err := s.journal.BeginIn(inv, urlsOf(s.cfg.Sinks), dir)
	if err != nil {
		return nil, fmt.Errorf("the run is not journaled, so a kill before its samples are sent loses them: %w", err)
	}
	return e, nil
}

// batchOf is what a journal entry sends.
func (s *Sender) batchOf(inv record.Invocation, id string) sink.Batch {
	return sink.Batch{
		Samples:    metrics.Samples(inv, metrics.SampleOptions{Bucket: s.cfg.Bucket, Joined: s.cfg.Joined}),
		Invocation: &inv,
		ID:         id,
	}
}

func urlsOf(us []SinkURL) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.String()
	}
	return out
}

// SendRun is Send for a run journaled by Begin (e nil: Send). The record
// is completed with inv as the send phase starts (journal Note: one pwrite
// into the entry's lock file, no new file, no rename; it survives our death
// at once); each network sink is then marked Sending,
// durably, once its connection is up and before the first byte of its
// request (sink.Batch.BeforeWrite), so a kill before that leaves the sink
// Pending and a later TakeOver sends it, and a kill after it never sends it
// twice (the gateway sums). The textfile, idempotent by the entry's id,
// does not wait for the journal. What provably did not arrive is marked
// Sending and spooled, as Send does, so a push is in the spool or Pending in
// the journal, never both. When the results are in, the sinks that are done
// are settled (the record is removed when none is left). With the time left
// it sends the spool and the records of earlier runs that died (journal
// TakeOver) to the sinks that just took the batch. It closes e.
func (s *Sender) SendRun(ctx context.Context, e *journal.Entry, inv record.Invocation) *Report {
	if e == nil {
		return s.Send(ctx, inv)
	}
	defer e.Close()
	runCtx, cancel := context.WithTimeout(ctx, max(s.cfg.Timeout, localBudget))
	defer cancel()
	g := newWriteGate(e, e.Note(inv))
	var healthy, kept []SinkURL
	rep := s.send(runCtx, s.batchOf(inv, e.ID()), sendOpts{sinks: s.cfg.Sinks, flush: true, gate: g, healthy: &healthy, kept: &kept})
	if g.err != nil {
		rep.Warnings = append(rep.Warnings, &Warning{Sink: "journal", Err: g.err})
	}
	if err := e.Settle(urlsOf(without(s.cfg.Sinks, kept))...); err != nil {
		rep.Warnings = append(rep.Warnings, &Warning{Sink: "journal", Err: err})
	}
	if len(healthy) > 0 && runCtx.Err() == nil {
		n, warns, _ := s.sendTakenOver(runCtx, healthy, false)
		rep.Flushed += n
		rep.Warnings = append(rep.Warnings, warns...)
	}
	return rep
}

// without is us less drop.
func without(us, drop []SinkURL) []SinkURL {
	var out []SinkURL
	for _, u := range us {
		if !slicesContains(drop, u) {
			out = append(out, u)
		}
	}
	return out
}

// writeGate holds the network sinks of a journaled batch until the record
// says Sending for them: pass is sink.Batch.BeforeWrite. Once closed (the
// send phase gave up waiting) no sink passes any more, so one that had not
// written yet provably sent nothing and stays Pending.
type writeGate struct {
	e   *journal.Entry
	err error // of completing the record: no sink passes

	mu     sync.Mutex
	closed bool
	passed map[string]bool
}

// newWriteGate is the gate of e, whose record was completed with the
// error err (nil: it was).
func newWriteGate(e *journal.Entry, err error) *writeGate {
	return &writeGate{e: e, err: err, passed: map[string]bool{}}
}

// pass marks sink Sending, durably, and lets it write; an error (the
// journal cannot be written, the gate is closed) keeps it from writing.
func (g *writeGate) pass(sink string) error {
	if g.err != nil {
		return fmt.Errorf("the journal record could not be completed: %w", g.err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return errors.New("--metrics-timeout ran out before the connection was up")
	}
	if err := g.e.Sending(sink); err != nil {
		return err
	}
	g.passed[sink] = true
	return nil
}

// mark marks sink Sending before its push is spooled.
func (g *writeGate) mark(sink string) error {
	if g.err != nil {
		return g.err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.e.Sending(sink)
}

// close lets no sink pass any more and returns those that did.
func (g *writeGate) close() map[string]bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	return maps.Clone(g.passed)
}

// sendTakenOver takes over the journal records whose owner died or left
// sinks unsent, and sends each, oldest first, to those of its sinks that
// are in allowed (with the current credentials): a Pending sink, or a
// textfile marked Sending (it skips an id it holds); a network sink marked
// Sending may have the samples and is only marked Done. Sinks not in
// allowed stay in the record; with explicit they are counted in waiting.
// A provisional record is sent as it stands: result Interrupted, return
// "other", no command duration.
func (s *Sender) sendTakenOver(ctx context.Context, allowed []SinkURL, explicit bool) (int, []*Warning, map[string]int) {
	var warns []*Warning
	j := openJournal(s.cfg, func(err error) { warns = append(warns, &Warning{Sink: "journal", Err: err}) })
	entries, err := j.TakeOver(ctx)
	if err != nil {
		warns = append(warns, &Warning{Sink: "journal", Err: err})
	}
	sent := 0
	waiting := map[string]int{}
	for _, e := range entries {
		if ctx.Err() != nil {
			_ = e.Close()
			continue
		}
		st := e.State()
		var todo []SinkURL
		var done []string
		for _, u := range allowed {
			switch st.Status(u.String()) {
			case journal.Pending:
				todo = append(todo, u)
			case journal.Sending:
				if u.Kind == TextfileSink {
					todo = append(todo, u)
				} else {
					done = append(done, u.String())
				}
			}
		}
		if explicit {
			for _, k := range st.Sinks {
				if k.Status == journal.Pending && !slices.Contains(urlsOf(allowed), k.URL) {
					waiting[k.URL]++
				}
			}
		}
		es, todo, w := s.forEntry(st, todo)
		if w != nil {
			warns = append(warns, w)
		}
		if len(todo)+len(done) == 0 {
			_ = e.Close()
			continue
		}
		// The textfile needs no mark (it skips an id it holds); each
		// network sink is marked Sending by the gate once connected.
		var rep *Report
		var kept []SinkURL
		if len(todo) > 0 {
			rep = es.send(ctx, s.batchOf(st.Invocation, e.ID()), sendOpts{sinks: todo, gate: newWriteGate(e, nil), kept: &kept})
			if len(rep.Sent) > 0 {
				sent++
			}
			for _, w := range rep.Warnings {
				if explicit || !w.Spooled {
					warns = append(warns, w)
				}
			}
		}
		if err := e.Settle(append(done, urlsOf(without(todo, kept))...)...); err != nil {
			warns = append(warns, &Warning{Sink: "journal", Err: err})
		}
		_ = e.Close()
	}
	return sent, warns, waiting
}

// Discard removes a journal entry whose run never happened (the installer
// could not be started).
func (s *Sender) Discard(e *journal.Entry) {
	var urls []string
	for _, k := range e.State().Sinks {
		urls = append(urls, k.URL)
	}
	_ = e.Settle(urls...)
}

// forEntry is the sender for a taken-over record: with --metrics-auth
// pull-secret and no token of our own, the token is re-read from the
// record's asset directory now (never stored). When it cannot be found the
// gateway sinks are left out, the record keeps them, and one warning says
// why and what to do.
func (s *Sender) forEntry(st journal.State, todo []SinkURL) (*Sender, []SinkURL, *Warning) {
	if s.cfg.Auth.Mode != AuthPullSecret || s.cfg.PullSecretToken != "" ||
		!slices.ContainsFunc(todo, func(u SinkURL) bool { return u.Kind == GatewaySink }) {
		return s, todo, nil
	}
	var tok string
	if st.Dir != "" {
		tok, _ = modification.Take(st.Dir, modification.Options{PlatformOnly: true}).PullSecretToken()
	}
	if tok == "" {
		var kept []SinkURL
		var gw []string
		for _, u := range todo {
			if u.Kind == GatewaySink {
				gw = append(gw, u.String())
			} else {
				kept = append(kept, u)
			}
		}
		where := "the record names no asset directory"
		if st.Dir != "" {
			where = "no pull secret in " + filepath.Join(st.Dir, "install-config.yaml") + " (the run's asset directory) any more"
		}
		return s, kept, &Warning{Sink: strings.Join(gw, ","), Err: fmt.Errorf(
			"journal record %s kept for later: --metrics-auth pull-secret: %s; pass --metrics-auth token-file:PATH to send it", st.ID, where)}
	}
	es := *s
	es.cfg.PullSecretToken = tok
	es.newSink = es.defaultSink
	return &es, todo, nil
}
