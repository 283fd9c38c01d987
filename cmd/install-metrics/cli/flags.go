package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/install-metrics/install-metrics/pkg/push"
)

// Options are the metrics flags and their environment variables, resolved.
type Options struct {
	NoMetrics bool
	// Installer is --installer; InstallerEnv is $INSTALL_METRICS_INSTALLER.
	// They stay apart so that "not found" can say which one was tried.
	Installer    string
	InstallerEnv string
	Sinks        []string
	Timeout      time.Duration
	Bucket       time.Duration
	Auth         string
	CAFile       string
	Modification string // "per-asset" (default) or "joined"
	Debug        bool
}

// Defaults from docs/metrics-schema.md.
const (
	defaultTimeout = 5 * time.Second
	defaultBucket  = 150 * time.Second
)

// UsageError is a malformed metrics flag or variable: exit code 2, and the
// installer is not started.
type UsageError struct{ msg string }

func (e *UsageError) Error() string { return e.msg }

func usageErrorf(format string, a ...any) error {
	return &UsageError{msg: fmt.Sprintf(format, a...)}
}

type flagKind int

const (
	boolFlag flagKind = iota
	stringFlag
	listFlag
	durationFlag
)

type flagDef struct {
	name string
	// envVar is the variable parsed for this flag ("" when none);
	// env, when set, is how help shows the variables instead.
	envVar string
	env    string
	kind   flagKind
	set    func(o *Options, v string) error
	help   string
	arg    string
}

// flagDefs is the one table of metrics flags: parsing, environment and help
// all come from it.
var flagDefs = []flagDef{
	{name: "--no-metrics", env: "INSTALL_METRICS=off, DO_NOT_TRACK=1", kind: boolFlag,
		help: "record and send nothing; run the installer only",
		set:  func(o *Options, v string) error { return setBool(&o.NoMetrics, v) }},
	{name: "--installer", env: "INSTALL_METRICS_INSTALLER", kind: stringFlag, arg: "PATH",
		help: "installer binary (default: openshift-install on $PATH)",
		set:  func(o *Options, v string) error { o.Installer = v; return nil }},
	{name: "--metrics-sink", envVar: "INSTALL_METRICS_SINKS", kind: listFlag, arg: "URL",
		help: "where samples go, repeatable: https://gateway[/prefix], statsd://host:port, statsd+tcp://host:port, file:///path.prom (default: the local textfile)",
		set: func(o *Options, v string) error {
			if strings.TrimSpace(v) == "" {
				return errors.New("empty sink URL")
			}
			// Validated here, where the flag or variable it came from is known.
			if _, err := push.ParseSink(v); err != nil {
				return err
			}
			o.Sinks = append(o.Sinks, v)
			return nil
		}},
	{name: "--metrics-timeout", envVar: "INSTALL_METRICS_TIMEOUT", kind: durationFlag, arg: "D",
		help: "bound on all sending after the installer exits (default 5s)",
		set:  func(o *Options, v string) error { return setDuration(&o.Timeout, v, true) }},
	{name: "--metrics-bucket", envVar: "INSTALL_METRICS_BUCKET", kind: durationFlag, arg: "D",
		help: "duration bucket step (default 2m30s)",
		set: func(o *Options, v string) error {
			if err := setDuration(&o.Bucket, v, false); err != nil {
				return err
			}
			return push.ValidateBucket(o.Bucket)
		}},
	{name: "--metrics-auth", envVar: "INSTALL_METRICS_AUTH", kind: stringFlag, arg: "MODE",
		help: "gateway credentials: none, token-file:PATH, basic-file:PATH, pull-secret",
		set:  func(o *Options, v string) error { return setAuth(&o.Auth, v) }},
	{name: "--metrics-ca-file", envVar: "INSTALL_METRICS_CA_FILE", kind: stringFlag, arg: "PATH",
		help: "extra CA certificates (PEM) to trust for https:// sinks",
		set:  func(o *Options, v string) error { o.CAFile = v; return nil }},
	{name: "--metrics-modification", envVar: "INSTALL_METRICS_MODIFICATION", kind: stringFlag, arg: "MODE",
		help: "modified assets as one sample each (per-asset, default) or one joined sample (joined)",
		set: func(o *Options, v string) error {
			switch v {
			case "per-asset", "joined":
				o.Modification = v
				return nil
			}
			return fmt.Errorf("%q is not per-asset or joined", v)
		}},
	{name: "--metrics-debug", envVar: "INSTALL_METRICS_DEBUG", env: "INSTALL_METRICS_DEBUG=1", kind: boolFlag,
		help: "print what was recorded and why (never secrets)",
		set:  func(o *Options, v string) error { return setBool(&o.Debug, v) }},
}

// envHelp is what --help shows in the environment column.
func (d flagDef) envHelp() string {
	if d.env != "" {
		return d.env
	}
	return d.envVar
}

func lookupFlag(name string) (flagDef, bool) {
	for _, d := range flagDefs {
		if d.name == name {
			return d, true
		}
	}
	return flagDef{}, false
}

func setBool(dst *bool, v string) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("%q is not true or false", v)
	}
	*dst = b
	return nil
}

func setDuration(dst *time.Duration, v string, zeroOK bool) error {
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 5s or 2m30s", v)
	}
	if d < 0 || (d == 0 && !zeroOK) {
		return fmt.Errorf("%q must be greater than zero", v)
	}
	*dst = d
	return nil
}

// setAuth validates with pkg/push, which owns the syntax (and never echoes
// what follows the mode: it may be a token typed inline).
func setAuth(dst *string, v string) error {
	if _, err := push.ParseAuth(v); err != nil {
		return err
	}
	*dst = v
	return nil
}

// flagValue is one metrics flag as it stood on the command line.
type flagValue struct {
	def flagDef
	val string
}

// splitArgs removes the metrics flags from args, wherever they stand, and
// returns the rest verbatim and in order. Any other word starting with
// --metrics- is an error: the installer has no such flag, so it can only be
// a typo of ours.
func splitArgs(args []string) ([]flagValue, []string, error) {
	var flags []flagValue
	rest := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		w := args[i]
		name, val, hasVal := strings.Cut(w, "=")
		def, ok := lookupFlag(name)
		if !ok {
			if strings.HasPrefix(name, "--metrics-") {
				return nil, nil, usageErrorf("unknown flag %s: see install-metrics --help for the metrics flags", name)
			}
			rest = append(rest, w)
			continue
		}
		switch {
		case def.kind == boolFlag && !hasVal:
			val = "true"
		case !hasVal:
			if i+1 >= len(args) {
				return nil, nil, usageErrorf("flag %s needs a value: %s %s", name, name, def.arg)
			}
			i++
			val = args[i]
		}
		flags = append(flags, flagValue{def: def, val: val})
	}
	return flags, rest, nil
}

// Getenv looks an environment variable up; os.LookupEnv in production.
type Getenv func(string) (string, bool)

// optedOut reports whether the environment asks for no metrics at all
// (INSTALL_METRICS=off, DO_NOT_TRACK=1: https://consoledonottrack.com).
func optedOut(getenv Getenv) bool {
	if v, ok := getenv("INSTALL_METRICS"); ok {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "off", "0", "false", "no", "disabled":
			return true
		}
	}
	if v, ok := getenv("DO_NOT_TRACK"); ok {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "", "0", "false", "no":
		default:
			return true
		}
	}
	return false
}

// parseOptions resolves the metrics flags in args and the environment:
// defaults, then variables, then flags (flags win). It returns the
// installer's own arguments untouched.
func parseOptions(args []string, getenv Getenv) (Options, []string, error) {
	o := Options{Timeout: defaultTimeout, Bucket: defaultBucket, Auth: "none", Modification: "per-asset"}
	flags, rest, err := splitArgs(args)
	if err != nil {
		return o, nil, err
	}
	o.NoMetrics = optedOut(getenv)
	o.InstallerEnv, _ = getenv("INSTALL_METRICS_INSTALLER")
	for _, d := range flagDefs {
		if d.envVar == "" {
			continue
		}
		v, ok := getenv(d.envVar)
		if !ok || strings.TrimSpace(v) == "" {
			continue
		}
		vals := []string{v}
		if d.kind == listFlag {
			vals = splitList(v)
		}
		for _, v := range vals {
			if err := d.set(&o, v); err != nil {
				if o.NoMetrics {
					break // opted out: a stale variable must not block the install
				}
				return o, nil, usageErrorf("invalid value for %s: %v", d.envVar, err)
			}
		}
	}
	seenList := map[string]bool{}
	for _, f := range flags {
		if f.def.kind == listFlag && !seenList[f.def.name] {
			seenList[f.def.name] = true
			o.Sinks = nil // flags replace the variable's list
		}
		if err := f.def.set(&o, f.val); err != nil {
			return o, nil, usageErrorf("invalid value for %s: %v", f.def.name, err)
		}
	}
	return o, rest, nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
