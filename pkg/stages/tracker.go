package stages

import (
	"bytes"
	"time"

	"github.com/install-metrics/install-metrics/pkg/record"
)

// maxFailText bounds the text of one failure line that is kept and matched
// (with hard-wrapped continuation lines appended).
const maxFailText = 4 << 10

// maxContinuation is how many unrecognised lines after a failure line are
// taken as its hard-wrapped continuation.
const maxContinuation = 4

// A Tracker learns what one installer run did from its log lines. Feed it
// every line with Line, in order, then ask for a Summary. Lines of earlier
// runs in an appended log are forgotten when a new run's header arrives.
// A Tracker is not safe for concurrent use; its memory does not grow with
// the number or length of lines.
type Tracker struct {
	p     parser
	e     entry
	lines int64
	lower []byte // lower-cased failure text
	cont  int    // continuation lines still accepted after the last failure line
	agent bool   // the command is `agent wait-for ...` (AgentWait)
	run   run
	// onStage is OnStage's function.
	onStage func()
}

// stamp is when a line was written: the raw RFC 3339 text of the file format
// (parsed only when needed), or a time.
type stamp struct {
	set bool
	// clock is true when the time is the clock's, not the log's: a stage
	// timed with it is not Timed (no histogram observation).
	clock bool
	n     uint8
	raw   [40]byte
	t     time.Time
}

func rawStamp(b []byte) (stamp, bool) {
	var s stamp
	return s, s.setRaw(b)
}

// setRaw keeps b if it looks like an RFC 3339 time (2006-01-02T15:04:05Z at
// least); a garbled value is no time and leaves s alone.
func (s *stamp) setRaw(b []byte) bool {
	if len(b) < 20 || len(b) > len(s.raw) || b[4] != '-' || b[10] != 'T' {
		return false
	}
	s.set, s.n = true, uint8(copy(s.raw[:], b))
	return true
}

func timeStamp(t time.Time) stamp { return stamp{set: true, t: t} }

func clockStamp(t time.Time) stamp { return stamp{set: true, clock: true, t: t} }

// fromLog reports whether the stamp is a time the log gave.
func (s *stamp) fromLog() bool {
	return s.set && !s.clock && !s.time(time.Time{}).IsZero()
}

// time resolves the stamp; fallback is used for an unset or unreadable one.
func (s *stamp) time(fallback time.Time) time.Time {
	if !s.set {
		return fallback
	}
	if s.n == 0 {
		return s.t
	}
	t, err := time.Parse(time.RFC3339Nano, string(s.raw[:s.n]))
	if err != nil {
		return fallback
	}
	return t
}

// failure is one error or fatal line the result may depend on.
type failure struct {
	set    bool
	result record.Result // for kindNamed
	kind   failKind
	fatal  bool
	stage  int // the stage in progress when it was logged
	apiUp  bool
	at     stamp
	text   []byte // redacted, at most maxFailText bytes
}

func (f *failure) copyFrom(g *failure) {
	text := append(f.text[:0], g.text...)
	*f = *g
	f.text = text
}

// stageState is one stage of the current run.
type stageState struct {
	entered, ended bool
	start, end     stamp
}

// run is what the tracker knows about the current (last) run in the log.
type run struct {
	version  string
	formats  [4]int
	entries  int   // recognised lines, the header pair aside
	first    stamp // first recognised line
	last     stamp // last recognised line that carried a time
	stages   [numStages]stageState
	maxStage int
	apiUp    bool
	terminal bool // a success, failure or interrupt line ended the run

	success     bool
	successAt   stamp
	successText string

	interrupted   bool
	interruptedAt stamp

	named   failure // most recent failure line that names its class
	staged  failure // most recent fatal, post-failure or asset failure line
	lastErr failure // most recent error or fatal line of any kind

	// agent is true for an `agent wait-for` run: said by the caller or
	// seen in the log (its cluster status and bootstrap lines).
	agent bool
	// provisional marks a success that a later stage takes back: `cluster
	// bootstrap is complete` ends `agent wait-for bootstrap-complete`, but
	// `install-complete` goes on after it.
	provisional bool

	timer installerTimer
}

// maxTimerStages and maxTimerName bound the installer's own timer block
// that is kept (pkg/metrics/timer has about ten stages).
const (
	maxTimerStages = 16
	maxTimerName   = 40
)

// installerTimer is the debug block pkg/metrics/timer LogSummary prints on
// success (4.5+): "Time elapsed per stage:", then "<right-aligned name>:
// <duration>" lines, then the info line "Time elapsed: <total>". For people
// only (metrics classify): its stages are not ours and never reach a record.
type installerTimer struct {
	open   bool // the block is being read
	n      int
	stages [maxTimerStages]struct {
		name [maxTimerName]byte
		n    uint8
		d    time.Duration
	}
}

// line reads one line of the block; false ends the block.
func (it *installerTimer) line(msg []byte) bool {
	if i := bytes.IndexByte(msg, '"'); i >= 0 {
		msg = msg[:i] // a raw debug message of the file format
	}
	msg = bytes.TrimSpace(msg)
	i := bytes.LastIndex(msg, []byte(": "))
	if i <= 0 || it.n == maxTimerStages {
		return false
	}
	d, err := time.ParseDuration(string(bytes.TrimSpace(msg[i+2:])))
	name := bytes.TrimSpace(msg[:i])
	if err != nil || d < 0 || len(name) == 0 {
		return false
	}
	st := &it.stages[it.n]
	st.n, st.d = uint8(copy(st.name[:], name)), d
	it.n++
	return true
}

func (r *run) reset() {
	named, staged, lastErr := r.named.text[:0], r.staged.text[:0], r.lastErr.text[:0]
	*r = run{maxStage: stNone}
	r.named.text, r.staged.text, r.lastErr.text = named, staged, lastErr
}

// clearFailures forgets failure lines once the run made progress: they did
// not end it.
func (r *run) clearFailures() {
	r.named.set, r.staged.set, r.lastErr.set = false, false, false
}

// inProgress is the stage a failure logged now belongs to: the highest stage
// entered, or the next one when that stage already finished.
func (r *run) inProgress() int {
	s := r.maxStage
	if s >= 0 && r.stages[s].ended && s < stOperators {
		return next(s)
	}
	return s
}

// NewTracker returns a Tracker that uses now for lines that carry no time
// of their own.
func NewTracker(now func() time.Time) *Tracker {
	if now == nil {
		now = time.Now
	}
	t := &Tracker{p: parser{now: now}}
	t.run.reset()
	return t
}

// AgentWait says that the lines are those of `agent wait-for
// bootstrap-complete|install-complete` (the caller knows the command): the
// stages are the agent ones from the first line, and exit code 5 is a
// bootstrap failure. Without it a Tracker still learns it from the log.
func (t *Tracker) AgentWait() {
	t.agent = true
	t.run.agent = true
}

// OnStage makes every Line that enters or ends a stage call fn, after the
// line, in Line's goroutine (so fn may call Summary): a caller following a
// log records what it knows as the run goes on.
func (t *Tracker) OnStage(fn func()) { t.onStage = fn }

// progress is a fingerprint of the stages entered and ended.
func (r *run) progress() uint32 {
	p := uint32(r.maxStage + 1)
	for i := range r.stages {
		if r.stages[i].ended {
			p |= 1 << (8 + i)
		}
	}
	return p
}

// Line feeds one raw line, in any format, with or without its line ending.
// Only the first DefaultMaxLine bytes are looked at. It never panics.
func (t *Tracker) Line(line []byte) {
	if t.onStage == nil {
		t.line(line)
		return
	}
	before := t.run.progress()
	t.line(line)
	if t.run.progress() != before {
		t.onStage()
	}
}

func (t *Tracker) line(line []byte) {
	t.lines++
	if len(line) > DefaultMaxLine {
		line = line[:DefaultMaxLine]
	}
	e := &t.e
	t.p.parse(line, e)
	if e.level == lvNone {
		t.continuation(e.msg)
		return
	}
	t.cont = 0
	r := &t.run
	if e.level > lvDebug {
		r.timer.open = false
	}
	if e.level <= lvDebug {
		t.debug(e)
		return
	}
	msg := bytes.TrimSpace(e.msg)
	if len(msg) == 0 && len(e.extra) == 0 {
		t.note(e)
		return
	}
	t.note(e)
	r.entries++
	if e.level >= lvError || (e.bare && t.failureText(msg)) {
		t.failure(e, msg)
		return
	}
	t.info(e, msg)
}

// failureText reports whether msg, a line whose level was lost, is one of
// the failure messages.
func (t *Tracker) failureText(msg []byte) bool {
	t.lower = appendLower(t.lower[:0], msg[:min(len(msg), maxFailText)])
	_, kind := classifyFailure(t.lower)
	return kind != kindGeneric
}

// note records the format and the time of a recognised line.
func (t *Tracker) note(e *entry) {
	r := &t.run
	r.formats[e.format]++
	switch {
	case e.ts != nil && r.last.setRaw(e.ts):
	case e.timed:
		r.last = timeStamp(e.when)
	default:
		if !r.first.set && !r.last.set {
			r.first = clockStamp(t.p.now())
		}
		return
	}
	if !r.first.set {
		r.first = r.last
	}
}

// at is when the current line was written: its own time, else the last time
// the log gave, else the clock.
func (t *Tracker) at(e *entry) stamp {
	switch {
	case e.ts != nil:
		if s, ok := rawStamp(e.ts); ok {
			return s
		}
	case e.timed:
		return timeStamp(e.when)
	}
	if t.run.last.set {
		return t.run.last
	}
	return clockStamp(t.p.now())
}

const headerPrefix = "OpenShift Installer "

// debug handles a debug or trace line: most bytes of a log are these
// (terraform, Cluster API), so only a few prefixes are looked at.
func (t *Tracker) debug(e *entry) {
	r := &t.run
	msg := e.msg // the prefixes below are never indented
	switch {
	case hasPrefix(msg, headerPrefix):
		t.header(e, msg[len(headerPrefix):])
		return
	case hasPrefix(msg, "Built from commit "):
		t.note(e)
		return
	}
	t.note(e)
	r.entries++
	if r.timer.open && !r.timer.line(msg) {
		r.timer.open = false
	}
	if hasPrefix(msg, "Time elapsed per stage:") {
		r.timer.open, r.timer.n = true, 0
		return
	}
	if hasPrefix(msg, "asset directory: ") {
		// The first line of `agent wait-for` (cmd/openshift-install/agent/waitfor.go).
		r.agent = true
		t.evidence(stRendezvous, e)
		return
	}
	if hasPrefix(msg, "Still waiting for the ") {
		switch rest := msg[len("Still waiting for the "):]; {
		case hasPrefix(rest, "Kubernetes API"):
			t.evidence(stAPI, e)
		case hasPrefix(rest, "cluster to initialize"):
			t.evidence(stOperators, e)
		}
	}
}

// header starts a new run, unless it is the header `create cluster` logs
// again before its wait phase (clusterCreatePostRun in create.go): same
// version, infrastructure being created, nothing ended the run.
func (t *Tracker) header(e *entry, version []byte) {
	r := &t.run
	v := version
	// A debug message is raw: the closing quote or an escape ends it too.
	if i := bytes.IndexAny(v, " \t\"\\"); i >= 0 {
		v = v[:i]
	}
	if len(v) > 128 {
		v = v[:128]
	}
	again := r.entries > 0 && !r.terminal && r.maxStage == stInfrastructure &&
		(r.version == "" || r.version == string(v))
	if !again {
		r.reset()
		r.version = clean(string(v))
		r.agent = t.agent
	}
	t.note(e)
}

// info handles info and warning lines: the stage boundaries and success.
func (t *Tracker) info(e *entry, msg []byte) {
	r := &t.run
	switch {
	case hasPrefix(msg, "Waiting up to "):
		for _, w := range waitFor {
			if !bytes.Contains(msg, []byte(w.text)) {
				continue
			}
			if w.opens {
				t.open(w.stage, t.at(e))
			} else {
				t.evidence(w.stage, e)
			}
			return
		}
	case hasPrefix(msg, "API ") && bytes.HasSuffix(msg, []byte(" up")):
		t.evidence(stAPI, e)
		at := t.at(e)
		if st := &r.stages[stAPI]; r.maxStage == stAPI && !st.ended {
			st.ended, st.end = true, at
		}
		r.apiUp = true
		r.clearFailures()
	case hasPrefix(msg, "Destroying the bootstrap resources"),
		hasPrefix(msg, "OPENSHIFT_INSTALL_PRESERVE_BOOTSTRAP is set"):
		t.end(stBootstrap, e)
	case hasPrefix(msg, "Received interrupt signal"):
		r.interrupted, r.interruptedAt, r.terminal = true, t.at(e), true
	case hasPrefix(msg, "Consuming ") && bytes.Contains(msg, []byte(" from target directory")):
		t.evidence(stProvisioning, e)
	case bytes.Contains(msg, []byte(" created in: ")) && msg[0] >= 'A' && msg[0] <= 'Z':
		// logging.LogCreatedFiles: "Manifests created in: ...", 4.14+.
		t.evidence(stProvisioning, e)
		t.success(e, msg)
	default:
		if t.agentLine(e, msg) {
			return
		}
		for _, p := range infraStart {
			if hasPrefix(msg, p) {
				if r.maxStage == stNone && r.entries > 1 {
					// Lines before infrastructure creation: the command
					// started with asset generation.
					t.open(stProvisioning, r.first)
				}
				t.open(stInfrastructure, t.at(e))
				return
			}
		}
		for _, p := range successPrefix {
			if hasPrefix(msg, p) {
				switch p {
				case "Install complete!", "Cluster is installed", "Cluster installation is complete":
					t.end(stOperators, e)
				case "It is now safe to remove":
					t.end(stBootstrap, e)
				}
				t.success(e, msg)
				return
			}
		}
		switch {
		case hasPrefix(msg, "Use the following commands to gather logs"):
			t.failure(e, msg)
		case hasPrefix(msg, "Bootstrap gather logs captured here"):
			// The end of `gather bootstrap`, but also of the gathering
			// `create cluster` does after a failure: a success only when no
			// failure line decides.
			if !r.success {
				r.success, r.successAt = true, t.at(e)
				r.successText = redact(string(msg))
			}
		}
	}
}

// agentLine handles the lines of `agent wait-for` (pkg/agent/cluster.go,
// waitfor.go; see rules.go) and reports whether msg was one.
func (t *Tracker) agentLine(e *entry, msg []byte) bool {
	r := &t.run
	switch msg[0] {
	case 'C', 'W', 'P', 'F', 'U', 'B', 'c', 'H':
	default:
		return false
	}
	for _, p := range agentRendezvous {
		if hasPrefix(msg, p) {
			r.agent = true
			t.evidence(stRendezvous, e)
			return true
		}
	}
	for _, st := range agentStatus {
		if !hasPrefix(msg, st.text) {
			continue
		}
		r.agent = true
		if r.maxStage == stNone && t.agent && r.entries > 1 {
			// The command started before node0's API answered. (In a log
			// alone, Host lines before the first status come from that API.)
			t.open(stRendezvous, r.first)
		}
		switch st.stage {
		case stNone, stValidation:
			t.open(stValidation, t.at(e))
			if st.text == "Cluster is ready for install" {
				t.end(stValidation, e)
			}
		default:
			t.open(st.stage, t.at(e))
		}
		return true
	}
	if hasPrefix(msg, "Bootstrap Kube API Initialized") {
		r.agent, r.apiUp = true, true
		t.evidence(stBootstrap, e)
		r.clearFailures()
		return true
	}
	if hasPrefix(msg, "Host: ") && bytes.Contains(msg, []byte(", reached installation stage ")) {
		// Hosts install only once the cluster does.
		r.agent = true
		t.evidence(stBootstrap, e)
		return true
	}
	for _, p := range agentBootstrapEnd {
		if hasPrefix(msg, p) {
			r.agent = true
			t.end(stBootstrap, e)
			if p == "cluster bootstrap is complete" && !r.success {
				t.success(e, msg)
				r.provisional = true
			}
			return true
		}
	}
	return false
}

// open enters stage s at at. Stages only move forward: a line of an earlier
// stage (the Cluster API is started again to destroy the bootstrap machine)
// changes nothing. Earlier stages still open are finished.
func (t *Tracker) open(s int, at stamp) bool { return t.run.open(s, at) }

func (r *run) open(s int, at stamp) bool {
	if s <= r.maxStage {
		return false
	}
	if b := &r.stages[stBootstrap]; s == stOperators && r.agent && b.ended {
		// The agent operators stage starts when bootstrap completed.
		at = b.end
	}
	if r.provisional && s > stBootstrap {
		r.success, r.provisional, r.terminal = false, false, false
		r.successText = ""
	}
	for i := range s {
		if st := &r.stages[i]; st.entered && !st.ended {
			st.ended, st.end = true, at
		}
	}
	r.stages[s] = stageState{entered: true, start: at}
	r.maxStage = s
	r.clearFailures()
	return true
}

// evidence enters stage s when a line proves it is in progress though the
// line that starts it was not seen (a log that starts mid-way): from the
// first line of the run, or from this line after an earlier stage.
func (t *Tracker) evidence(s int, e *entry) {
	r := &t.run
	if s <= r.maxStage {
		return
	}
	at := t.at(e)
	if r.maxStage == stNone && r.first.set {
		at = r.first
	}
	t.open(s, at)
}

// end finishes stage s, entering it first if needed.
func (t *Tracker) end(s int, e *entry) {
	r := &t.run
	t.evidence(s, e)
	if r.maxStage != s {
		return
	}
	if st := &r.stages[s]; !st.ended {
		st.ended, st.end = true, t.at(e)
		r.clearFailures()
	}
}

func (t *Tracker) success(e *entry, msg []byte) {
	r := &t.run
	if !r.success {
		r.success, r.successAt = true, t.at(e)
		r.successText = redact(string(msg))
	}
	r.terminal = true
	r.clearFailures()
}

// failure records an error or fatal line.
func (t *Tracker) failure(e *entry, msg []byte) {
	r := &t.run
	f := &r.lastErr
	f.set, f.fatal, f.at = true, e.level == lvFatal, t.at(e)
	f.stage, f.apiUp = r.inProgress(), r.apiUp
	f.text = append(f.text[:0], msg...)
	if len(e.extra) > 0 {
		f.text = append(append(f.text, ' '), e.extra...)
	}
	if len(f.text) > maxFailText {
		f.text = f.text[:maxFailText]
	}
	t.classify()
	t.cont = maxContinuation
}

// classify sorts r.lastErr into r.named or r.staged after its text changed.
func (t *Tracker) classify() {
	r := &t.run
	f := &r.lastErr
	t.lower = appendLower(t.lower[:0], f.text)
	f.result, f.kind = classifyFailure(t.lower)
	f.text = append(f.text[:0], redact(string(f.text))...)
	switch {
	case f.kind == kindNamed && f.result == record.Interrupted:
		r.interrupted, r.interruptedAt, r.terminal = true, f.at, true
	case f.kind == kindNamed:
		r.named.copyFrom(f)
		r.terminal = true
	case f.kind != kindGeneric || f.fatal:
		r.staged.copyFrom(f)
		r.terminal = r.terminal || f.fatal
	}
}

// continuation appends an unrecognised line that follows a failure line to
// it: the line was hard-wrapped by a terminal or a paste.
func (t *Tracker) continuation(line []byte) {
	if t.cont == 0 {
		return
	}
	t.cont--
	line = bytes.TrimSpace(line)
	r := &t.run
	if len(line) == 0 || isKlog(line) || !r.lastErr.set || len(r.lastErr.text)+1+len(line) > maxFailText {
		t.cont = 0
		return
	}
	r.lastErr.text = append(append(r.lastErr.text, ' '), line...)
	t.classify()
}

// isKlog reports whether line is a client-go (klog) line such as
// "W1108 11:42:12.564054   14770 reflector.go:436] ...", which the
// installer lets through to stderr: its own output, never a continuation.
func isKlog(line []byte) bool {
	if len(line) < 14 || !bytes.ContainsRune([]byte("IWEF"), rune(line[0])) || line[5] != ' ' {
		return false
	}
	_, ok := digits(line[1:5])
	_, _, _, ok2 := clock(line[6:])
	return ok && ok2
}

func appendLower(dst, s []byte) []byte {
	for _, c := range s {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
