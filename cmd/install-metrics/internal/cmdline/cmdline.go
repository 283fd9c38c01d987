// Package cmdline is the metrics part of install-metrics' command line: the
// one table of metrics flags and their environment variables, how they are
// split from the installer's own arguments, the opt-out decision, and which
// installer to run (Find).
//
// The values' meaning and validation belong to the cli package.
//
// It imports only errors, io/fs, os and syscall, on purpose, so that the
// opt-out path can run it before the rest of the program initialises (see
// package optout): Go initialises packages in import-path order once their
// imports are, and even strings or strconv sort after, and so wait for,
// client_golang and protobuf. Hence the few string helpers at the end.
package cmdline

import "errors"

// Kind is how a flag takes its value.
type Kind int

// The kinds of metrics flags.
const (
	Bool     Kind = iota // --flag, --flag=true|false
	String               // --flag V, --flag=V
	List                 // repeatable; its variable is comma-separated
	Duration             // a Go duration: 5s, 2m30s
)

// Def is one metrics flag.
type Def struct {
	Name string
	// EnvVar is the variable parsed for this flag ("" when none); Env,
	// when set, is how help shows the variables instead.
	EnvVar string
	Env    string
	Kind   Kind
	Arg    string // the value's name in help
	Help   string
}

// EnvHelp is what --help shows in the environment column.
func (d Def) EnvHelp() string {
	if d.Env != "" {
		return d.Env
	}
	return d.EnvVar
}

// The flags the opt-out path needs by name.
const (
	NoMetrics    = "--no-metrics"
	Installer    = "--installer"
	MetricsDebug = "--metrics-debug"
)

// InstallerEnv names the installer when --installer is not given.
const InstallerEnv = "INSTALL_METRICS_INSTALLER"

// Defs is the one table of metrics flags: parsing, environment and help all
// come from it.
var Defs = []Def{
	{Name: NoMetrics, Env: "INSTALL_METRICS=off, DO_NOT_TRACK=1", Kind: Bool,
		Help: "record and send nothing; run the installer only"},
	{Name: Installer, Env: InstallerEnv, Kind: String, Arg: "PATH",
		Help: "installer binary (default: openshift-install on $PATH)"},
	{Name: "--metrics-sink", EnvVar: "INSTALL_METRICS_SINKS", Kind: List, Arg: "URL",
		Help: "where samples go, repeatable: https://gateway[/prefix], statsd://host:port, statsd+tcp://host:port, file:///path.prom, otlp+http[s]://collector:4318 or otlp (traces; $OTEL_EXPORTER_OTLP_*) (default: the local textfile)"},
	{Name: "--metrics-timeout", EnvVar: "INSTALL_METRICS_TIMEOUT", Kind: Duration, Arg: "D",
		Help: "bound on all sending after the installer exits (default 5s)"},
	{Name: "--metrics-bucket", EnvVar: "INSTALL_METRICS_BUCKET", Kind: Duration, Arg: "D",
		Help: "duration bucket step (default 2m30s)"},
	{Name: "--metrics-junit", EnvVar: "INSTALL_METRICS_JUNIT", Kind: String, Arg: "PATH",
		Help: "after the run, write a JUnit XML report of it there (CI systems render it; a retry adds to it)"},
	{Name: "--metrics-auth", EnvVar: "INSTALL_METRICS_AUTH", Kind: String, Arg: "MODE",
		Help: "gateway credentials: none, token-file:PATH, basic-file:PATH, pull-secret"},
	{Name: "--metrics-ca-file", EnvVar: "INSTALL_METRICS_CA_FILE", Kind: String, Arg: "PATH",
		Help: "extra CA certificates (PEM) to trust for https:// sinks"},
	{Name: "--metrics-modification", EnvVar: "INSTALL_METRICS_MODIFICATION", Kind: String, Arg: "MODE",
		Help: "modified assets as one sample each (per-asset, default) or one joined sample (joined)"},
	{Name: MetricsDebug, EnvVar: "INSTALL_METRICS_DEBUG", Env: "INSTALL_METRICS_DEBUG=1", Kind: Bool,
		Help: "print what was recorded and why (never secrets)"},
}

// lookup finds the flag called name.
func lookup(name string) (Def, bool) {
	for _, d := range Defs {
		if d.Name == name {
			return d, true
		}
	}
	return Def{}, false
}

// UsageError is a malformed metrics flag or variable: exit code 2, and the
// installer is not started.
type UsageError struct{ msg string }

func (e *UsageError) Error() string { return e.msg }

// NewUsageError returns a UsageError saying msg.
func NewUsageError(msg string) error { return &UsageError{msg: msg} }

// Value is one metrics flag as it stood on the command line.
type Value struct {
	Def Def
	Val string
}

// Split removes the metrics flags from args, wherever they stand, and
// returns the rest verbatim and in order. Any other word starting with
// --metrics- is a UsageError: the installer has no such flag, so it can
// only be a typo of ours.
func Split(args []string) ([]Value, []string, error) {
	var flags []Value
	rest := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		w := args[i]
		name, val, hasVal := cut(w, '=')
		def, ok := lookup(name)
		if !ok {
			if hasPrefix(name, "--metrics-") {
				return nil, nil, NewUsageError("unknown flag " + name + ": see install-metrics --help for the metrics flags")
			}
			rest = append(rest, w)
			continue
		}
		switch {
		case def.Kind == Bool && !hasVal:
			val = "true"
		case !hasVal:
			if i+1 >= len(args) {
				return nil, nil, NewUsageError("flag " + name + " needs a value: " + name + " " + def.Arg)
			}
			i++
			val = args[i]
		}
		flags = append(flags, Value{Def: def, Val: val})
	}
	return flags, rest, nil
}

// ParseBool is the syntax of a Bool flag's value: strconv.ParseBool's.
func ParseBool(v string) (bool, error) {
	switch v {
	case "1", "t", "T", "TRUE", "true", "True":
		return true, nil
	case "0", "f", "F", "FALSE", "false", "False":
		return false, nil
	}
	return false, errors.New(quote(v) + " is not true or false")
}

// Getenv looks an environment variable up; os.LookupEnv in production.
type Getenv func(string) (string, bool)

// OptedOut reports whether the environment asks for no metrics at all
// (INSTALL_METRICS=off, DO_NOT_TRACK=1: https://consoledonottrack.com).
func OptedOut(getenv Getenv) bool {
	if v, ok := getenv("INSTALL_METRICS"); ok {
		switch lowerTrim(v) {
		case "off", "0", "false", "no", "disabled":
			return true
		}
	}
	if v, ok := getenv("DO_NOT_TRACK"); ok {
		switch lowerTrim(v) {
		case "", "0", "false", "no":
		default:
			return true
		}
	}
	return false
}

// Ours reports whether the words left after Split are install-metrics' own
// command (`metrics ...`, help, or nothing at all) rather than the
// installer's.
func Ours(rest []string) bool {
	switch {
	case len(rest) == 0:
		return true
	case rest[0] == "metrics":
		return true
	case len(rest) == 1 && (rest[0] == "--help" || rest[0] == "-h"):
		return true
	}
	return false
}

// InstallerName is argv[0] for the installer: what the user would have
// typed (the flag's or the variable's value, else the base name of path).
func InstallerName(flag, env, path string) string {
	switch {
	case flag != "":
		return flag
	case env != "":
		return env
	}
	return base(path)
}

// String helpers, so as not to import strings (see the package comment).

// cut is strings.Cut for a one-byte separator.
func cut(s string, sep byte) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func hasPrefix(s, prefix string) bool { return len(s) >= len(prefix) && s[:len(prefix)] == prefix }

func contains(s string, b byte) bool {
	_, _, found := cut(s, b)
	return found
}

// lowerTrim is strings.ToLower(strings.TrimSpace(s)) for the ASCII words
// it is compared with.
func lowerTrim(s string) string {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' }
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// base is filepath.Base for the slash-separated paths of Linux and macOS.
func base(p string) string {
	for len(p) > 1 && p[len(p)-1] == '/' {
		p = p[:len(p)-1]
	}
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' && i < len(p)-1 {
			return p[i+1:]
		}
	}
	if p == "" {
		return "."
	}
	return p
}

// quote is strconv.Quote for what a user typed: printable ASCII as it is,
// everything else escaped.
func quote(s string) string {
	const hex = "0123456789abcdef"
	b := []byte{'"'}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c >= 0x20 && c < 0x7f:
			b = append(b, c)
		default:
			b = append(b, '\\', 'x', hex[c>>4], hex[c&0xf])
		}
	}
	return string(append(b, '"'))
}
