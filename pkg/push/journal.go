package push

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"

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
		SkipBeginSync: true,
		Warn:          warn,
	})
}

// Begin writes the provisional journal record of a run about to start, for
// every configured sink (see pkg/journal: the record survives the death of
// this process as soon as Begin returns; it is not fsynced, so the
// installer's start does not wait behind the file system's journal: a
// power loss during the run loses it, as before the journal). inv needs only what is known before the start: command,
// target, OS, platform, CI, start time. On an error the run goes on
// unjournaled: Send as before.
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
// is completed with inv and every sink marked Sending in one durable write
// before any request goes out (the textfile, idempotent by the entry's id,
// does not wait for it); when the results are in, the record is removed
// (pkg/journal Settle). What provably did not arrive is spooled first, as
// Send does, so a kill at any instant leaves a push in the spool or in the
// journal as Pending, never both: a network sink the record says Sending is
// never resent. With the time left it sends the spool and the records of
// earlier runs that died (journal TakeOver) to the sinks that just took the
// batch. It closes e.
func (s *Sender) SendRun(ctx context.Context, e *journal.Entry, inv record.Invocation) *Report {
	if e == nil {
		return s.Send(ctx, inv)
	}
	defer e.Close()
	runCtx, cancel := context.WithTimeout(ctx, max(s.cfg.Timeout, localBudget))
	defer cancel()
	var (
		once   sync.Once
		jerr   error
		marked = make(chan struct{})
	)
	// Durable only when a network sink waits for it: the textfile skips
	// the provisional record a power loss could bring back (same id).
	durable := slices.ContainsFunc(s.cfg.Sinks, func(u SinkURL) bool { return u.Kind != TextfileSink })
	go func() {
		jerr = e.CompleteSending(inv, durable, urlsOf(s.cfg.Sinks)...)
		close(marked)
	}()
	gate := func() { once.Do(func() { <-marked }) }
	var healthy []SinkURL
	rep := s.send(runCtx, s.batchOf(inv, e.ID()), sendOpts{sinks: s.cfg.Sinks, flush: true, gate: gate, healthy: &healthy})
	<-marked
	if jerr != nil {
		rep.Warnings = append(rep.Warnings, &Warning{Sink: "journal", Err: jerr})
	}
	if err := e.Settle(urlsOf(s.cfg.Sinks)...); err != nil {
		rep.Warnings = append(rep.Warnings, &Warning{Sink: "journal", Err: err})
	}
	if len(healthy) > 0 && runCtx.Err() == nil {
		n, warns, _ := s.sendTakenOver(runCtx, healthy, false)
		rep.Flushed += n
		rep.Warnings = append(rep.Warnings, warns...)
	}
	return rep
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
		if err := e.Sending(urlsOf(todo)...); err != nil {
			warns = append(warns, &Warning{Sink: "journal", Err: err})
			_ = e.Close()
			continue // unsent: it may be sent while the journal can be written
		}
		var rep *Report
		if len(todo) > 0 {
			rep = es.send(ctx, s.batchOf(st.Invocation, e.ID()), sendOpts{sinks: todo})
			if len(rep.Sent) > 0 {
				sent++
			}
			for _, w := range rep.Warnings {
				if explicit || !w.Spooled {
					warns = append(warns, w)
				}
			}
		}
		if err := e.Settle(append(done, urlsOf(todo)...)...); err != nil {
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
