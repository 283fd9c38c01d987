package stages

import (
	"io"
	"time"

	"github.com/install-metrics/install-metrics/pkg/record"
)

// Exit is how the installer process ended, as far as it is known.
type Exit struct {
	// Code is the exit code, meaningful when Known.
	Code int
	// Known is false when only the log is there (metrics classify).
	Known bool
	// Signaled is true when a signal killed the process.
	Signaled bool
}

// Basis says what decided a Summary's result.
type Basis string

// The bases, from the strongest evidence to none.
const (
	BasisSignal   Basis = "signal"     // death by a signal (or an exit code 128+N)
	BasisExitCode Basis = "exit-code"  // the installer's exit code
	BasisLogLine  Basis = "log-line"   // a success, failure or interrupt line
	BasisStage    Basis = "stage"      // the stage in progress when the run failed
	BasisEndOfLog Basis = "end-of-log" // the log stops without saying how the run ended
	BasisNothing  Basis = "nothing"    // no installer line and no exit status
)

// Summary is what a Tracker learnt about the last run in its lines.
type Summary struct {
	// Version is the installer version of the run's header, "" if unseen.
	Version string `json:"version"`
	// Stages are the stages entered, in order (never nil).
	Stages []record.Stage `json:"stages"`
	// Result is the result class.
	Result record.Result `json:"result"`
	// Basis is what decided Result.
	Basis Basis `json:"basis"`
	// Deciding is the log line behind Result (a failure, success or
	// interrupt message, redacted), "" if none.
	Deciding string `json:"deciding,omitempty"`
	// Format is how most of the run's lines were written: FormatFile,
	// FormatPipe, FormatTerminal, or "" when no line was recognised.
	Format string `json:"format"`
	// Timed is true when the stage times come from the log (its time= or a
	// CI prefix's timestamp), false when from the clock given to NewTracker
	// (terminal or pipe output: durations then mean little for a whole file).
	Timed bool `json:"timed"`
	// Lines counts every line fed to the Tracker, all runs included.
	Lines int64 `json:"lines"`
	// InstallerTimes is the installer's own "Time elapsed per stage" block
	// (debug, success only, 4.5+), as it printed it: for people, never for
	// a record (its stages are not ours). Nil when the log has none.
	InstallerTimes []InstallerTime `json:"installer_times,omitempty"`
}

// InstallerTime is one line of the installer's own timer block.
type InstallerTime struct {
	// Name is the installer's name for the stage ("Bootstrap Complete").
	Name string `json:"name"`
	// Duration is what the installer printed, rounded to the second.
	Duration time.Duration `json:"duration_ns"`
}

// Classify reads a whole installer log and summarises its last run. On a
// read error it returns the Summary of what it read, and the error.
func Classify(r io.Reader, now func() time.Time, exit Exit) (Summary, error) {
	t := NewTracker(now)
	err := ReadLines(r, DefaultMaxLine, t.Line)
	return t.Summary(exit), err
}

// decision is a result and the line behind it.
type decision struct {
	result record.Result
	basis  Basis
	text   string
	at     stamp
}

// Summary tells what the current run did, given how the installer process
// ended. It may be called more than once; it does not change the Tracker.
func (t *Tracker) Summary(exit Exit) Summary {
	now := t.p.now()
	d := t.decide(exit)
	return Summary{
		Version:  t.run.version,
		Stages:   t.timeline(d, now),
		Result:   d.result,
		Basis:    d.basis,
		Deciding: d.text,
		Format:   t.run.format(),
		Timed:    t.run.last.set,
		Lines:    t.lines,

		InstallerTimes: t.run.timer.list(),
	}
}

func (it *installerTimer) list() []InstallerTime {
	if it.n == 0 {
		return nil
	}
	out := make([]InstallerTime, it.n)
	for i := range it.n {
		st := &it.stages[i]
		out[i] = InstallerTime{Name: clean(string(st.name[:st.n])), Duration: st.d}
	}
	return out
}

func (r *run) format() string {
	best := fmtNone
	for _, f := range []format{fmtFile, fmtPipe, fmtTerminal} {
		if r.formats[f] > r.formats[best] {
			best = f
		}
	}
	return best.String()
}

// decide applies the precedence of the package documentation.
func (t *Tracker) decide(exit Exit) decision {
	r := &t.run
	fromLog, ok := t.fromLog()
	switch {
	case exit.Signaled || (exit.Known && exit.Code > 128 && exit.Code < 160):
		if r.interrupted {
			return decision{record.Interrupted, BasisSignal, "Received interrupt signal", r.interruptedAt}
		}
		text, at := r.failText()
		return decision{record.Interrupted, BasisSignal, text, at}
	case exit.Known && exit.Code == 0:
		return decision{record.Success, BasisExitCode, r.successText, r.successAt}
	case exit.Known:
		if res, specific := codeSpecific(exit.Code, r.version); specific {
			if res == record.APIFailed {
				res = r.apiOrBootstrap()
			}
			if res == record.Interrupted && r.interrupted {
				return decision{res, BasisExitCode, "Received interrupt signal", r.interruptedAt}
			}
			text, at := r.failText()
			return decision{res, BasisExitCode, text, at}
		}
		if ok {
			return fromLog
		}
		res := record.Failed
		if s := r.inProgress(); s > stProvisioning {
			res = stageResult(s)
		}
		text, at := r.failText()
		return decision{res, BasisStage, text, at}
	}
	switch {
	case ok:
		return fromLog
	case r.success:
		return decision{record.Success, BasisLogLine, r.successText, r.successAt}
	case r.entries > 0 || r.version != "":
		// The log stops: the run was killed, or it is still going.
		return decision{record.Interrupted, BasisEndOfLog, "", stamp{}}
	}
	return decision{record.Failed, BasisNothing, "", stamp{}}
}

// fromLog is the result the failure lines give, if any.
func (t *Tracker) fromLog() (decision, bool) {
	r := &t.run
	switch {
	case r.interrupted:
		return decision{record.Interrupted, BasisLogLine, "Received interrupt signal", r.interruptedAt}, true
	case r.named.set:
		return decision{r.named.result, BasisLogLine, string(r.named.text), r.named.at}, true
	case r.staged.set:
		f := &r.staged
		res := stageResult(f.stage)
		switch {
		case f.kind == kindAsset && f.stage < stInfrastructure:
			res = record.InvalidConfig
		case f.kind == kindStage && (f.stage < stAPI || agentOnly(f.stage)):
			res = record.Failed
			if containsFold(f.text, "bootstrap failed to complete") {
				res = record.BootstrapFailed
			}
		}
		basis := BasisLogLine
		if f.kind != kindAsset {
			basis = BasisStage
		}
		return decision{res, basis, string(f.text), f.at}, true
	}
	return decision{}, false
}

// failText is the most telling failure line, for people.
func (r *run) failText() (string, stamp) {
	for _, f := range []*failure{&r.named, &r.staged, &r.lastErr} {
		if f.set {
			return string(f.text), f.at
		}
	}
	return "", stamp{}
}

// apiOrBootstrap splits exit code 5: BootstrapFailed once the API was up.
func (r *run) apiOrBootstrap() record.Result {
	if r.agent {
		// agent wait-for: exit 5 is its exitCodeBootstrapFailed
		// (cmd/openshift-install/agent/waitfor.go), whatever the stage.
		return record.BootstrapFailed
	}
	if r.named.set && (r.named.result == record.APIFailed || r.named.result == record.BootstrapFailed) {
		return r.named.result
	}
	if r.apiUp || r.maxStage >= stBootstrap {
		return record.BootstrapFailed
	}
	return record.APIFailed
}

// timeline builds the stages of the run; a failure class proves its stage
// was entered even when the line that starts it is not in the log.
func (t *Tracker) timeline(d decision, now time.Time) []record.Stage {
	c := t.run // a copy: Summary does not change the Tracker
	endOfLog := now
	if c.last.set {
		endOfLog = c.last.time(now)
	}
	failAt := endOfLog
	guessed := -1 // a stage whose start the log does not give
	if d.at.set {
		failAt = d.at.time(endOfLog)
	}
	if s := resultStage(d.result); s > c.maxStage && !c.stages[s].entered && d.basis != BasisEndOfLog {
		start := d.at
		if c.maxStage == stNone && c.first.set {
			start = c.first
		}
		if !start.set {
			start = timeStamp(endOfLog)
		}
		if c.open(s, start) && c.stages[s].start == start {
			guessed = s // else open took a start the log gave (agent operators)
		}
	}
	stages := make([]record.Stage, 0, numStages)
	for i, st := range c.stages {
		if !st.entered {
			continue
		}
		rs := record.Stage{Name: record.AllStageNames[i], Start: st.start.time(endOfLog)}
		end := c.last // endOfLog
		switch {
		case st.ended:
			rs.End, rs.Finished, end = st.end.time(endOfLog), true, st.end
		case d.result == record.Success && c.successAt.set:
			rs.End, end = c.successAt.time(endOfLog), c.successAt
		case d.result == record.Success:
			rs.End = endOfLog
		default:
			rs.End = failAt
			if d.at.set && d.basis != BasisEndOfLog {
				end = d.at
			}
		}
		rs.Timed = st.start.fromLog() && end.fromLog() && i != guessed
		if rs.End.Before(rs.Start) {
			rs.End = rs.Start
		}
		stages = append(stages, rs)
	}
	return stages
}

// containsFold reports whether s contains the lower-case ASCII needle,
// ignoring case.
func containsFold(s []byte, needle string) bool {
	return indexFold(string(s), needle) >= 0
}
