package cli

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/install-metrics/install-metrics/cmd/install-metrics/internal/cmdline"
	"github.com/install-metrics/install-metrics/pkg/metrics"
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
	JUnit        string // --metrics-junit: the JUnit report's path, "" for none
	Debug        bool
}

// Defaults from docs/metrics-schema.md.
const (
	defaultTimeout = 5 * time.Second
	defaultBucket  = 150 * time.Second
)

// UsageError is a malformed metrics flag or variable: exit code 2, and the
// installer is not started.
type UsageError = cmdline.UsageError

func usageErrorf(format string, a ...any) error {
	return cmdline.NewUsageError(fmt.Sprintf(format, a...))
}

// Getenv looks an environment variable up; os.LookupEnv in production.
type Getenv = cmdline.Getenv

// setters give each flag of cmdline.Defs its meaning: they check a value
// (from the flag or from its variable) and store it. A test checks that
// every flag has one.
var setters = map[string]func(o *Options, v string) error{
	cmdline.NoMetrics: func(o *Options, v string) error { return setBool(&o.NoMetrics, v) },
	cmdline.Installer: func(o *Options, v string) error { o.Installer = v; return nil },
	"--metrics-sink": func(o *Options, v string) error {
		if strings.TrimSpace(v) == "" {
			return errors.New("empty sink URL")
		}
		// Validated here, where the flag or variable it came from is known.
		if _, err := push.ParseSink(v); err != nil {
			return err
		}
		o.Sinks = append(o.Sinks, v)
		return nil
	},
	"--metrics-timeout": func(o *Options, v string) error { return setDuration(&o.Timeout, v, true) },
	"--metrics-bucket": func(o *Options, v string) error {
		if err := setDuration(&o.Bucket, v, false); err != nil {
			return err
		}
		return metrics.ValidateBucket(o.Bucket)
	},
	"--metrics-auth":    func(o *Options, v string) error { return setAuth(&o.Auth, v) },
	"--metrics-ca-file": func(o *Options, v string) error { o.CAFile = v; return nil },
	"--metrics-junit":   func(o *Options, v string) error { o.JUnit = v; return nil },
	"--metrics-modification": func(o *Options, v string) error {
		switch v {
		case "per-asset", "joined":
			o.Modification = v
			return nil
		}
		return fmt.Errorf("%q is not per-asset or joined", v)
	},
	cmdline.MetricsDebug: func(o *Options, v string) error { return setBool(&o.Debug, v) },
}

func setBool(dst *bool, v string) error {
	b, err := cmdline.ParseBool(v)
	if err != nil {
		return err
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

// parseOptions resolves the metrics flags in args and the environment:
// defaults, then variables, then flags (flags win). It returns the
// installer's own arguments untouched.
func parseOptions(args []string, getenv Getenv) (Options, []string, error) {
	o := Options{Timeout: defaultTimeout, Bucket: defaultBucket, Auth: "none", Modification: "per-asset"}
	flags, rest, err := cmdline.Split(args)
	if err != nil {
		return o, nil, err
	}
	o.NoMetrics = cmdline.OptedOut(getenv)
	o.InstallerEnv, _ = getenv(cmdline.InstallerEnv)
	for _, d := range cmdline.Defs {
		if d.EnvVar == "" {
			continue
		}
		v, ok := getenv(d.EnvVar)
		if !ok || strings.TrimSpace(v) == "" {
			continue
		}
		vals := []string{v}
		if d.Kind == cmdline.List {
			vals = splitList(v)
		}
		for _, v := range vals {
			if err := setters[d.Name](&o, v); err != nil {
				if o.NoMetrics {
					break // opted out: a stale variable must not block the install
				}
				return o, nil, usageErrorf("invalid value for %s: %v", d.EnvVar, err)
			}
		}
	}
	seenList := map[string]bool{}
	for _, f := range flags {
		if f.Def.Kind == cmdline.List && !seenList[f.Def.Name] {
			seenList[f.Def.Name] = true
			o.Sinks = nil // flags replace the variable's list
		}
		if err := setters[f.Def.Name](&o, f.Val); err != nil {
			return o, nil, usageErrorf("invalid value for %s: %v", f.Def.Name, err)
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
