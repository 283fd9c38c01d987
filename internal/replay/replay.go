package replay

import (
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The environment variables of the replay installer.
const (
	EnvScenario  = "OPENSHIFT_INSTALL_REPLAY_SCENARIO"
	EnvSpeed     = "OPENSHIFT_INSTALL_REPLAY_SPEED"
	EnvVersion   = "OPENSHIFT_INSTALL_REPLAY_VERSION"
	EnvTeardown  = "OPENSHIFT_INSTALL_REPLAY_TEARDOWN"
	EnvSignalLog = "OPENSHIFT_INSTALL_REPLAY_SIGNAL_LOG"
	EnvReady     = "OPENSHIFT_INSTALL_REPLAY_READY"
)

const (
	defaultSpeed    = 1000.0
	defaultTeardown = 250 * time.Millisecond
	// maxPause caps the sleep between two lines, whatever the speed.
	maxPause = time.Second
	// logFile is the installer's log inside --dir.
	logFile = ".openshift_install.log"
)

// signalNames are the signals the replay handles, as they go to the
// signal log.
var signalNames = map[os.Signal]string{
	syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM", syscall.SIGHUP: "SIGHUP", syscall.SIGQUIT: "SIGQUIT",
}

// Main runs the replay installer as a process: argv is os.Args. It returns
// the exit code; when the replay must die by a signal (an installer older
// than 4.16 interrupted, or SIGHUP, SIGQUIT) it does not return.
func Main(argv []string) int {
	sigc := make(chan os.Signal, 8)
	signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	r := &Runner{
		Argv0:          argv[0],
		Args:           argv[1:],
		Getenv:         os.LookupEnv,
		Stdout:         os.Stdout,
		Stderr:         os.Stderr,
		StderrTerminal: isTerminal(os.Stderr),
		Now:            time.Now,
		Signals:        sigc,
	}
	out := r.Run()
	if out.Signal != nil {
		// Die by it, with the default action, as the installer would.
		signal.Reset(out.Signal)
		_ = syscall.Kill(os.Getpid(), out.Signal.(syscall.Signal))
		time.Sleep(time.Second)
	}
	return out.Code
}

// Runner is one replay installer invocation, with its outside world.
type Runner struct {
	Argv0          string
	Args           []string
	Getenv         func(string) (string, bool)
	Stdout, Stderr io.Writer
	// StderrTerminal selects the installer's terminal format on stderr.
	StderrTerminal bool
	Now            func() time.Time
	// Signals delivers the signals the process receives.
	Signals <-chan os.Signal
}

// Outcome is how the replay ends: with an exit code, or by a signal.
type Outcome struct {
	Code   int
	Signal os.Signal
}

// invocation is the installer command line.
type invocation struct {
	words    []string
	dir      string
	logLevel string
	help     bool
}

// Flags the installer knows (root flags and the common subcommand ones).
var (
	valueFlags = map[string]bool{"--dir": true, "--log-level": true, "--bootstrap": true, "--master": true, "--key": true}
	boolFlags  = map[string]bool{"--skip-password-print": true, "--help": true, "-h": true}
)

func parseArgs(args []string) (invocation, error) {
	inv := invocation{dir: ".", logLevel: "info"}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			inv.words = append(inv.words, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			inv.words = append(inv.words, a)
			continue
		}
		name, val, hasVal := strings.Cut(a, "=")
		switch {
		case boolFlags[name]:
			inv.help = inv.help || name == "--help" || name == "-h"
			continue
		case !valueFlags[name]:
			return inv, fmt.Errorf("unknown flag: %s", name)
		case !hasVal:
			if i+1 >= len(args) {
				return inv, fmt.Errorf("flag needs an argument: %s", name)
			}
			i++
			val = args[i]
		}
		switch name {
		case "--dir":
			inv.dir = val
		case "--log-level":
			inv.logLevel = val
		}
	}
	return inv, nil
}

// fatal prints an error the way the installer does before its log hooks
// exist (with a timestamp) and returns exit code 1.
func (r *Runner) fatal(format string, a ...any) Outcome {
	msg := fmt.Sprintf(format, a...)
	fmt.Fprintf(r.Stderr, "time=%q level=fatal msg=%s\n", r.Now().Format(time.RFC3339), quote(msg))
	return Outcome{Code: 1}
}

// Run runs the invocation.
func (r *Runner) Run() Outcome {
	inv, err := parseArgs(r.Args)
	if err != nil {
		return r.fatal("Error executing openshift-install: %v", err)
	}
	if !validLevel(inv.logLevel) {
		fmt.Fprintf(r.Stderr, "level=fatal msg=invalid log-level: not a valid logrus Level: %q\n", inv.logLevel)
		return Outcome{Code: 1}
	}
	if inv.help || len(inv.words) == 0 || inv.words[0] == "help" {
		fmt.Fprint(r.Stdout, usage)
		return Outcome{}
	}
	switch inv.words[0] {
	case "version":
		return r.version()
	case "create", "wait-for", "destroy", "gather", "agent", "image-based":
	default:
		return r.fatal("Error executing openshift-install: unknown command %q for %q", inv.words[0], "openshift-install")
	}
	n := 2
	if inv.words[0] == "agent" || inv.words[0] == "image-based" {
		n = 3 // "agent wait-for install-complete"
	}
	command := strings.Join(inv.words[:min(n, len(inv.words))], " ")
	s, err := r.scenario(command)
	if err != nil {
		return r.fatal("openshift-install-replay: %v", err)
	}
	return r.replay(s, inv)
}

const usage = `Creates OpenShift clusters (replay: plays back a recorded openshift-install run)

Usage:
  openshift-install [command]

Available Commands:
  create      Create part of an OpenShift cluster
  destroy     Destroy part of an OpenShift cluster
  version     Print version information
  wait-for    Wait for install-time events

Flags:
      --dir string         assets directory (default ".")
  -h, --help               help for openshift-install
      --log-level string   log level (e.g. "debug | info | warn | error") (default "info")
`

// scenario picks the scenario for command: the one named by
// OPENSHIFT_INSTALL_REPLAY_SCENARIO if it records that command, else the
// command's default. The version can be overridden.
func (r *Runner) scenario(command string) (*Scenario, error) {
	var s *Scenario
	if name, ok := r.Getenv(EnvScenario); ok && name != "" {
		chosen, err := LoadScenario(name)
		if err != nil {
			return nil, err
		}
		if command == "" || chosen.Command == command {
			s = chosen
		}
	}
	if s == nil {
		if command == "" {
			command = "create cluster"
		}
		var err error
		if s, err = defaultFor(command); err != nil {
			return nil, err
		}
	}
	if v, ok := r.Getenv(EnvVersion); ok && v != "" {
		s.Version = v
	}
	return s, nil
}

// version prints what `openshift-install version` prints.
func (r *Runner) version() Outcome {
	s, err := r.scenario("")
	if err != nil {
		return r.fatal("openshift-install-replay: %v", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", r.Argv0, s.Version)
	if s.Commit != "" {
		fmt.Fprintf(&b, "built from commit %s\n", s.Commit)
	}
	fmt.Fprintf(&b, "release image %s\n", s.ReleaseImage)
	arch := s.ReleaseArchitecture
	if arch == "" {
		arch = "amd64"
	}
	fmt.Fprintf(&b, "release architecture %s\n", arch)
	if s.DefaultArchitecture != "" {
		fmt.Fprintf(&b, "default architecture %s\n", s.DefaultArchitecture)
	}
	if arch == "unknown" {
		fmt.Fprintln(r.Stderr, "level=warning msg=Release Image Architecture not detected. Release Image Architecture is unknown")
	}
	fmt.Fprint(r.Stdout, b.String())
	return Outcome{}
}

// settings are the replay's knobs from the environment.
type settings struct {
	speed     float64
	teardown  time.Duration
	signalLog string
	ready     string
}

func (r *Runner) settings() (settings, error) {
	st := settings{speed: defaultSpeed, teardown: defaultTeardown}
	if v, ok := r.Getenv(EnvSpeed); ok && v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f > 0) {
			return st, fmt.Errorf("%s=%q: want a number greater than 0 (or inf)", EnvSpeed, v)
		}
		st.speed = f
	}
	if v, ok := r.Getenv(EnvTeardown); ok && v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return st, fmt.Errorf("%s=%q: want a duration such as 250ms", EnvTeardown, v)
		}
		st.teardown = d
	}
	st.signalLog, _ = r.Getenv(EnvSignalLog)
	st.ready, _ = r.Getenv(EnvReady)
	return st, nil
}

// player is one replay in progress.
type player struct {
	r        *Runner
	s        *Scenario
	set      settings
	level    int
	log      *os.File
	last     time.Time // time of the last line written
	modern   bool      // 4.16+: handles SIGINT/SIGTERM
	absDir   string
	dir      string
	entries  []entry
	triggers map[int][]AssetAction // after line i; -1: at the end
	state    *state
}

func (r *Runner) replay(s *Scenario, inv invocation) Outcome {
	set, err := r.settings()
	if err != nil {
		return r.fatal("openshift-install-replay: %v", err)
	}
	p := &player{r: r, s: s, set: set, level: severity(inv.logLevel), dir: inv.dir, modern: handlesInterrupt(s.Version)}
	if p.entries, err = s.entries(); err != nil {
		return r.fatal("openshift-install-replay: %v", err)
	}
	if p.triggers, err = s.triggers(p.entries); err != nil {
		return r.fatal("openshift-install-replay: %v", err)
	}
	if p.state, err = s.loadState(); err != nil {
		return r.fatal("openshift-install-replay: %v", err)
	}
	if p.absDir, err = filepath.Abs(inv.dir); err != nil {
		return r.fatal("openshift-install-replay: %v", err)
	}
	if set.ready != "" {
		if err := os.WriteFile(set.ready, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			return r.fatal("openshift-install-replay: writing the ready file: %v", err)
		}
	}
	// Like SetupFileHook: create --dir, append to the log, never truncate.
	if err := os.MkdirAll(inv.dir, 0o777); err != nil {
		return r.fatal("%v", err)
	}
	p.log, err = os.OpenFile(filepath.Join(inv.dir, logFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
	if err != nil {
		return r.fatal("%v", err)
	}
	defer p.log.Close()
	return p.play()
}

// triggers maps each asset action to the index of the line it follows.
func (s *Scenario) triggers(entries []entry) (map[int][]AssetAction, error) {
	t := map[int][]AssetAction{}
	for _, a := range s.Assets {
		i := -1
		if a.After != "" {
			for j, e := range entries {
				if strings.HasPrefix(e.msg, a.After) {
					i = j
					break
				}
			}
			if i < 0 {
				return nil, fmt.Errorf("scenario %s: no log line starts with %q", s.Name, a.After)
			}
		}
		t[i] = append(t[i], a)
	}
	return t, nil
}

var releaseVersion = regexp.MustCompile(`^(\d+)\.(\d+)`)

// handlesInterrupt reports whether the installer version logs SIGINT and
// SIGTERM and exits 8 (4.16+, PR #8063); builds without a release version
// are development builds of the current code.
func handlesInterrupt(version string) bool {
	m := releaseVersion.FindStringSubmatch(version)
	if m == nil {
		return true
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return major > 4 || major == 4 && minor >= 16
}

func (p *player) play() Outcome {
	now := p.r.Now().Truncate(time.Second)
	offset := now.Sub(p.entries[0].time)
	loc := now.Location()
	for i, e := range p.entries {
		if i > 0 {
			if sig := p.pause(e.time.Sub(p.entries[i-1].time)); sig != nil {
				return p.interrupted(sig)
			}
		}
		e.time = e.time.Add(offset).In(loc)
		e.msg = p.rewrite(e.msg)
		if err := p.write(e); err != nil {
			return p.r.fatal("%v", err)
		}
		for _, a := range p.triggers[i] {
			if err := a.apply(p.dir, p.state); err != nil {
				return p.r.fatal("%v", err)
			}
		}
	}
	for _, a := range p.triggers[-1] {
		if err := a.apply(p.dir, p.state); err != nil {
			return p.r.fatal("%v", err)
		}
	}
	// A signal that arrived with the last line still counts.
	if sig := p.pause(0); sig != nil {
		return p.interrupted(sig)
	}
	return Outcome{Code: p.s.ExitCode}
}

// pause sleeps for the recorded gap d, compressed, unless a signal comes.
func (p *player) pause(d time.Duration) os.Signal {
	d = time.Duration(float64(d) / p.set.speed)
	if d > maxPause {
		d = maxPause
	}
	if d <= 0 || math.IsInf(p.set.speed, 1) {
		select {
		case s := <-p.r.Signals:
			return s
		default:
			return nil
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case s := <-p.r.Signals:
		return s
	}
}

// rewrite adapts a recorded message to this run: version and directory.
func (p *player) rewrite(msg string) string {
	if v, ok := strings.CutPrefix(msg, "OpenShift Installer "); ok && v != p.s.Version {
		return "OpenShift Installer " + p.s.Version
	}
	if p.s.RecordedAbsDir != "" {
		msg = strings.ReplaceAll(msg, p.s.RecordedAbsDir, p.absDir)
	}
	if p.s.RecordedDir != "" {
		msg = strings.ReplaceAll(msg, p.s.RecordedDir, p.dir)
	}
	return msg
}

// write appends the entry to the log (one write, so a reader never sees
// half a line) and prints it on stderr when its level is shown.
func (p *player) write(e entry) error {
	p.last = e.time
	if _, err := p.log.WriteString(e.render() + "\n"); err != nil {
		return err
	}
	if e.hasMsg && severity(e.level) <= p.level {
		_, _ = io.WriteString(p.r.Stderr, e.stderrLines(p.r.StderrTerminal))
	}
	return nil
}

// noteSignal appends the signal's name to the signal log, if any.
func (p *player) noteSignal(sig os.Signal) {
	if p.set.signalLog == "" {
		return
	}
	f, err := os.OpenFile(p.set.signalLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintln(f, signalNames[sig])
}

// interrupted handles a signal that stopped the replay.
func (p *player) interrupted(sig os.Signal) Outcome {
	p.noteSignal(sig)
	if !p.modern || (sig != syscall.SIGINT && sig != syscall.SIGTERM) {
		return Outcome{Signal: sig}
	}
	_ = p.write(entry{time: p.last, level: "warning", msg: "Received interrupt signal", hasMsg: true})
	// The teardown of the local control plane; a second signal abandons it.
	t := time.NewTimer(p.set.teardown)
	defer t.Stop()
	select {
	case <-t.C:
		return Outcome{Code: 8}
	case s := <-p.r.Signals:
		p.noteSignal(s)
		if s == syscall.SIGINT || s == syscall.SIGTERM {
			return Outcome{Code: 1}
		}
		return Outcome{Signal: s}
	}
}
