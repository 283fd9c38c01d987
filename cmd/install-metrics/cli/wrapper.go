package cli

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/install-metrics/install-metrics/cmd/install-metrics/internal/cmdline"
	"github.com/install-metrics/install-metrics/pkg/installer"
	"github.com/install-metrics/install-metrics/pkg/journal"
	"github.com/install-metrics/install-metrics/pkg/modification"
	"github.com/install-metrics/install-metrics/pkg/push"
	"github.com/install-metrics/install-metrics/pkg/record"
	"github.com/install-metrics/install-metrics/pkg/sink/otlp"
	"github.com/install-metrics/install-metrics/pkg/stages"
	"github.com/install-metrics/install-metrics/pkg/wrap"
)

// followPoll is how often the log follower looks for new lines.
const followPoll = 200 * time.Millisecond

// wrap runs the installer with args and records the invocation. It returns
// the installer's exit code; an error only when the installer could not be
// started (or a metrics flag is malformed, before it is started).
func (e *Env) wrap(opts Options, args []string) (int, error) {
	path, err := cmdline.Find(opts.Installer, opts.InstallerEnv)
	if err != nil {
		return 0, err
	}
	cmd := wrap.Command{Path: path, Name: cmdline.InstallerName(opts.Installer, opts.InstallerEnv, path), Args: args,
		Stdin: e.Stdin, Stdout: e.Stdout, Stderr: e.Stderr}
	if opts.NoMetrics {
		// Opt-out: exec only. Nothing read beyond exec, nothing written.
		return 0, wrap.Exec(cmd)
	}
	// A reader of our stderr that went away (`... 2>&1 | head`) must cost
	// us EPIPE on our own writes, not our life and the installer's exit code.
	// Notify rather than Ignore: the installer, which inherits ignored
	// signals but not handlers, keeps the default.
	if !signal.Ignored(syscall.SIGPIPE) {
		signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	}
	log := e.logger(opts.Debug)

	ia := installer.ParseArgs(args)
	var snap *modification.Snapshot
	if ia.WritesLog() {
		snap = modification.Take(ia.Dir, modification.Options{PlatformOnly: !ia.ConsumesAssets()})
	}

	// Everything that can be wrong with the metrics flags is found before
	// the installer starts: a usage error, exit 2.
	sender, err := e.newSender(opts, snap, log)
	var ue *UsageError
	if errors.As(err, &ue) {
		return 0, err
	}
	if err != nil {
		log.Warnf("metrics are off for this run: %v", err)
	}
	// What would make every push fail (an unreadable token file, a textfile
	// path that is a directory): said now, not after a 40-minute install,
	// and only now: the same failure after the run is not said again.
	// None of it stops the installer.
	var said preflightSaid
	if sender != nil {
		said = warnPreflight(log, sender.Preflight())
	}

	// The signals of the send phase are ours; during the run pkg/wrap
	// forwards them. Registering now keeps a signal that arrives as the
	// installer ends from killing us before the record is kept.
	// Signals the user ignored (nohup) stay ignored: Notify would undo that
	// for the installer too.
	sigs := make(chan os.Signal, 16) // as deep as pkg/wrap's: both see the same signals
	for _, s := range []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT} {
		if !signal.Ignored(s) {
			signal.Notify(sigs, s)
		}
	}
	defer signal.Stop(sigs)
	late := watchSignals(sigs)
	defer late.stop()

	// The write-ahead record: a kill from now on leaves the run in the
	// journal for the next invocation or `metrics flush` (pkg/journal).
	// Its fsyncs run while the installer starts.
	var entry *journal.Entry
	if sender != nil {
		var err error
		entry, err = sender.Begin(e.provisional(ia, snap), ia.Dir)
		if err != nil {
			log.Warn(err.Error())
		}
	}

	tracker := stages.NewTracker(e.Now)
	if ia.AgentWait() {
		tracker.AgentWait()
	}
	followCtx, stopFollow := context.WithCancel(context.Background())
	if entry != nil && ia.HasStageTimeline() {
		// Each stage entered or ended goes into the journal: a run killed
		// outright (the CI's SIGKILL, a dead laptop) is sent by the next
		// invocation or flush with the stages it reached, as Interrupted,
		// so its last stage counts among where runs stopped (one durable
		// write per stage, in the follower's goroutine, never in front of
		// the installer).
		tracker.OnStage(func() {
			if followCtx.Err() != nil {
				return // the installer ended: Ended and Complete say more
			}
			sum := tracker.Summary(stages.Exit{})
			inv := entry.State().Invocation
			inv.Version, inv.Stages = sum.Version, sum.Stages
			if err := entry.Progress(inv); err != nil {
				log.Debugf("journal: %v", err)
			}
			if testHookProgress != nil {
				testHookProgress()
			}
		})
	}
	followed := make(chan error, 1)
	if ia.WritesLog() {
		offset := stages.Offset(ia.LogPath())
		go func() { followed <- stages.Follow(followCtx, ia.LogPath(), offset, tracker, followPoll) }()
	} else {
		followed <- nil
	}

	status, runErr := wrap.Run(context.Background(), cmd)
	stopFollow() // it reads the log's last lines meanwhile
	// How the installer ended goes into the journal at once, with one
	// small write (pkg/journal Ended): a kill from here on leaves the run
	// with its exit code and the result that code alone gives, not
	// Interrupted, while the follower reads the log's last lines.
	if entry != nil && runErr == nil {
		if err := entry.Ended(e.ending(ia, status)); err != nil {
			log.Debugf("journal: %v", err)
		}
		if testHookReaped != nil {
			testHookReaped()
		}
	}
	followErr := <-followed
	if runErr != nil {
		if entry != nil {
			sender.Discard(entry) // no run: nothing to record
		}
		return 0, runErr
	}
	// The signals that came during the run were the installer's (pkg/wrap
	// forwarded them); one that comes after its exit is ours and stops the
	// send phase, at once if it is already here.
	stopSend := late.after(status.Forwarded)
	if followErr != nil {
		log.Debugf("reading the installer log: %v", followErr)
	}

	inv := e.invocation(ia, status, tracker, snap)
	var tpErr error
	if inv.Traceparent, tpErr = otlp.RecordTraceparent(e.Getenv); tpErr != nil {
		log.Debug(tpErr)
	}
	defer e.ciReports(opts, inv, log) // after the send phase, whatever the sinks did (junit.go)
	if log.IsLevelEnabled(logrus.DebugLevel) {
		if snap != nil {
			for _, w := range snap.Warnings() {
				log.Debug(w)
			}
		}
		b, _ := json.MarshalIndent(inv, "", "  ")
		log.Debugf("invocation record:\n%s", b)
	}
	if sender == nil {
		return status.ExitCode, nil
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case s := <-stopSend:
			log.Warnf("%v during the send phase: stopping it; what was not sent is kept for `install-metrics metrics flush`", s)
			cancel()
		case <-ctx.Done():
		}
	}()
	if ctx.Err() == nil {
		select {
		case s := <-stopSend: // before the send phase: nothing is sent now
			log.Warnf("%v after the installer ended: not sending; the run is kept for `install-metrics metrics flush`", s)
			if entry != nil {
				if err := entry.Complete(inv); err != nil {
					log.Debugf("journal: %v", err)
				}
				_ = entry.Close()
				return status.ExitCode, nil
			}
			cancel()
		default:
		}
	}
	rep := sender.SendRun(ctx, entry, inv)
	for _, w := range rep.Warnings {
		if said.covers(w) {
			log.Debug(w.Error())
			continue
		}
		log.Warn(w.Error())
	}
	return status.ExitCode, nil
}

// invocation builds the record of the run.
func (e *Env) invocation(ia installer.Args, st wrap.Status, tr *stages.Tracker, snap *modification.Snapshot) record.Invocation {
	sum := tr.Summary(stages.Exit{Code: st.ExitCode, Known: true, Signaled: st.Signal != 0})
	inv := record.Invocation{
		Command:  ia.Command,
		Target:   ia.Target,
		OS:       e.GOOS,
		Platform: installer.UnknownPlatform,
		Version:  sum.Version,
		Stages:   sum.Stages,
		Result:   sum.Result,
		Deciding: sum.Deciding,
		ExitCode: st.ExitCode,
		Start:    st.Start,
		Wall:     st.End.Sub(st.Start),
		CI:       detectCI(e.Getenv),
	}
	if st.Signal != 0 {
		inv.Signal = st.Signal.String()
	}
	if snap != nil {
		inv.Platform = snap.Platform()
		if inv.Result == record.Success && ia.ConsumesAssets() {
			inv.Modified = snap.Modified()
		}
	}
	return inv
}

// testHookReaped, when set by a test, runs right after the installer's
// end is noted in the journal; testHookProgress after each stage recorded.
var testHookReaped, testHookProgress func()

// ending is how the installer ended as known the moment it is reaped,
// before its log's last lines are read: the exit code, the wall time and
// the result the exit code alone gives (as for a log without an installer
// line).
func (e *Env) ending(ia installer.Args, st wrap.Status) journal.Ending {
	tr := stages.NewTracker(e.Now)
	if ia.AgentWait() {
		tr.AgentWait()
	}
	sum := tr.Summary(stages.Exit{Code: st.ExitCode, Known: true, Signaled: st.Signal != 0})
	end := journal.Ending{ExitCode: st.ExitCode, Result: sum.Result, Wall: st.End.Sub(st.Start)}
	if st.Signal != 0 {
		end.Signal = st.Signal.String()
	}
	return end
}

// newSender validates the metrics flags into a push.Sender.
func (e *Env) newSender(opts Options, snap *modification.Snapshot, log *logrus.Logger) (*push.Sender, error) {
	stateDir, err := push.StateDir(e.Getenv)
	if err != nil {
		return nil, err
	}
	sinks, err := push.ParseSinks(opts.Sinks, stateDir)
	if err != nil {
		return nil, usageErrorf("invalid sink: %v", err)
	}
	auth, err := push.ParseAuth(opts.Auth)
	if err != nil {
		return nil, usageErrorf("invalid --metrics-auth: %v", err)
	}
	cfg := push.Config{
		Sinks:    sinks,
		Bucket:   opts.Bucket,
		Joined:   opts.Modification == "joined",
		Timeout:  opts.Timeout,
		Auth:     auth,
		CAFile:   opts.CAFile,
		StateDir: stateDir,
		Getenv:   e.Getenv,
		Now:      e.Now,
		Debugf:   log.Debugf,
	}
	if auth.Mode == push.AuthPullSecret && snap != nil {
		cfg.PullSecretToken, _ = snap.PullSecretToken()
	}
	s, err := push.New(cfg)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	return s, nil
}

// preflightSaid maps a sink to the failure its preflight warning named.
type preflightSaid map[string]string

// warnPreflight prints each preflight failure as one warning line that also
// says what becomes of the run's samples if it is not fixed in time.
func warnPreflight(log *logrus.Logger, ws []*push.Warning) preflightSaid {
	said := preflightSaid{}
	for _, w := range ws {
		log.Warn(w.Error() + `; unless fixed before the installer ends, this run's samples wait in the spool for "install-metrics metrics flush"`)
		said[w.Sink] = w.Err.Error()
	}
	return said
}

// covers reports whether w, a failure after the run, is one the preflight
// warning already said, with its promised outcome: same sink, same error,
// samples kept in the spool. A different failure, or samples lost, is
// news and gets its own line (a metrics failure costs one line, not two).
func (s preflightSaid) covers(w *push.Warning) bool {
	msg, ok := s[w.Sink]
	return ok && w.Spooled && msg == w.Err.Error()
}

// provisional is what is known of the run before the installer starts: the
// journal's first record, sent as it stands (result Interrupted) if the
// wrapper dies before the installer's end is recorded.
func (e *Env) provisional(ia installer.Args, snap *modification.Snapshot) record.Invocation {
	inv := record.Invocation{Command: ia.Command, Target: ia.Target, OS: e.GOOS, Platform: installer.UnknownPlatform,
		Start: e.Now(), CI: detectCI(e.Getenv)}
	if snap != nil {
		inv.Platform = snap.Platform()
	}
	// A run killed mid-install is still a child of the CI pipeline's trace
	// when its record is taken over (a malformed TRACEPARENT is said later).
	inv.Traceparent, _ = otlp.RecordTraceparent(e.Getenv)
	return inv
}

// signalWatch counts the signals of our channel, so that those that came
// after the installer's exit can be told from those pkg/wrap forwarded to
// it: both channels see every signal in the same order, so the first
// wrap.Status.Forwarded ones were the installer's.
type signalWatch struct {
	mu    sync.Mutex
	skip  int  // signals still to be passed over as the installer's
	armed bool // skip is known
	early []os.Signal
	late  chan os.Signal
	done  chan struct{}
}

// maxEarly bounds the signals kept during the run; os/signal's own
// buffering drops beyond that anyway.
const maxEarly = 64

func watchSignals(c <-chan os.Signal) *signalWatch {
	w := &signalWatch{late: make(chan os.Signal, 1), done: make(chan struct{})}
	go func() {
		for {
			select {
			case s := <-c:
				w.note(s)
			case <-w.done:
				return
			}
		}
	}()
	return w
}

func (w *signalWatch) note(s os.Signal) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case !w.armed:
		if len(w.early) < maxEarly {
			w.early = append(w.early, s)
		}
	case w.skip > 0:
		w.skip-- // forwarded to the installer; we saw it late
	default:
		w.deliver(s)
	}
}

func (w *signalWatch) deliver(s os.Signal) {
	select {
	case w.late <- s:
	default:
	}
}

// after returns a channel that delivers the first signal that came after
// the installer's end, whether it already came or comes later, given how
// many pkg/wrap forwarded to the installer.
func (w *signalWatch) after(forwarded int) <-chan os.Signal {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.armed, w.skip = true, forwarded
	for _, s := range w.early {
		if w.skip > 0 {
			w.skip--
			continue
		}
		w.deliver(s)
	}
	w.early = nil
	return w.late
}

func (w *signalWatch) stop() { close(w.done) }
