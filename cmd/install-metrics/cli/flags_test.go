package cli

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/install-metrics/install-metrics/cmd/install-metrics/internal/cmdline"
)

func envOf(m map[string]string) Getenv {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestParseOptionsPassesInstallerArgsVerbatim(t *testing.T) {
	args := []string{"create", "--metrics-timeout", "3s", "cluster", "", "a b", "--dir=x", "--",
		"--no-metrics", "ünïcødé\n", "--log-level", "debug", "--metrics-sink=statsd://127.0.0.1:9125"}
	o, rest, err := parseOptions(args, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"create", "cluster", "", "a b", "--dir=x", "--", "ünïcødé\n", "--log-level", "debug"}
	if diff := cmp.Diff(want, rest); diff != "" {
		t.Errorf("installer args mismatch (-want +got):\n%s", diff)
	}
	if !o.NoMetrics || o.Timeout != 3*time.Second || len(o.Sinks) != 1 {
		t.Errorf("options = %+v", o)
	}
}

func TestParseOptionsDefaultsEnvAndPrecedence(t *testing.T) {
	o, _, err := parseOptions([]string{"version"}, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Options{Timeout: 5 * time.Second, Bucket: 150 * time.Second, Auth: "none", Modification: "per-asset"}
	if diff := cmp.Diff(want, o); diff != "" {
		t.Errorf("defaults mismatch (-want +got):\n%s", diff)
	}

	env := envOf(map[string]string{
		"INSTALL_METRICS_SINKS":     "statsd://127.0.0.1:1, file:///tmp/x.prom",
		"INSTALL_METRICS_TIMEOUT":   "0s",
		"INSTALL_METRICS_INSTALLER": "/env/openshift-install",
		"INSTALL_METRICS_DEBUG":     "1",
	})
	o, _, err = parseOptions([]string{"--installer=/flag/oi", "version"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if o.Installer != "/flag/oi" || o.InstallerEnv != "/env/openshift-install" || o.Timeout != 0 || !o.Debug || len(o.Sinks) != 2 {
		t.Errorf("env+flags = %+v", o)
	}
	o, _, err = parseOptions([]string{"--metrics-sink", "file:///a.prom", "version"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"file:///a.prom"}, o.Sinks); diff != "" {
		t.Errorf("flags must replace the variable's sinks (-want +got):\n%s", diff)
	}
}

func TestOptOut(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{"INSTALL_METRICS": "off"}, true},
		{map[string]string{"INSTALL_METRICS": "OFF"}, true},
		{map[string]string{"INSTALL_METRICS": "on"}, false},
		{map[string]string{"DO_NOT_TRACK": "1"}, true},
		{map[string]string{"DO_NOT_TRACK": "true"}, true},
		{map[string]string{"DO_NOT_TRACK": "0"}, false},
		{map[string]string{}, false},
		// opted out: a broken variable must not stop the install
		{map[string]string{"DO_NOT_TRACK": "1", "INSTALL_METRICS_TIMEOUT": "soon"}, true},
	} {
		o, _, err := parseOptions([]string{"version"}, envOf(tc.env))
		if err != nil {
			t.Errorf("%v: %v", tc.env, err)
		}
		if o.NoMetrics != tc.want {
			t.Errorf("%v: NoMetrics = %v, want %v", tc.env, o.NoMetrics, tc.want)
		}
	}
}

func TestParseOptionsErrorsNameTheFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--metrics-timeout"}, nil, "flag --metrics-timeout needs a value: --metrics-timeout D"},
		{[]string{"--metrics-timeout", "soon", "create"}, nil, `invalid value for --metrics-timeout: "soon" is not a duration such as 5s or 2m30s`},
		{[]string{"--metrics-bucket=0s"}, nil, `invalid value for --metrics-bucket: "0s" must be greater than zero`},
		{[]string{"--metrics-timeot=1s"}, nil, "unknown flag --metrics-timeot: see install-metrics --help for the metrics flags"},
		{[]string{"--metrics-auth", "token-file:"}, nil, `invalid value for --metrics-auth: "token-file:…" is not none, token-file:PATH, basic-file:PATH or pull-secret`},
		{[]string{"--metrics-auth", "bearer:s3cr3t-token"}, nil, `invalid value for --metrics-auth: "bearer:…" is not none, token-file:PATH, basic-file:PATH or pull-secret`},
		{[]string{"create"}, map[string]string{"INSTALL_METRICS_SINKS": "statsd://127.0.0.1"}, `invalid value for INSTALL_METRICS_SINKS: "statsd://127.0.0.1": no port: StatsD has no default port here, use host:port (statsd_exporter listens on 9125)`},
		{[]string{"--metrics-bucket=7s"}, nil, `invalid value for --metrics-bucket: 7s is too small: the bucket step must be at least 30s`},
		{[]string{"--metrics-modification=all"}, nil, `invalid value for --metrics-modification: "all" is not per-asset or joined`},
		{[]string{"--no-metrics=maybe"}, nil, `invalid value for --no-metrics: "maybe" is not true or false`},
		{[]string{"create"}, map[string]string{"INSTALL_METRICS_BUCKET": "-1m"}, `invalid value for INSTALL_METRICS_BUCKET: "-1m" must be greater than zero`},
	} {
		_, _, err := parseOptions(tc.args, envOf(tc.env))
		var ue *UsageError
		if !errors.As(err, &ue) {
			t.Errorf("%q: err = %v, want a UsageError", tc.args, err)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.args, err, tc.want)
		}
	}
}

func TestDetectCI(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, false},
		{map[string]string{"CI": "true"}, true},
		{map[string]string{"CI": "false"}, false},
		{map[string]string{"PROW_JOB_ID": "abc"}, true},
		{map[string]string{"JENKINS_URL": "https://jenkins.example.com/"}, true},
		{map[string]string{"GITHUB_ACTIONS": "true"}, true},
		{map[string]string{"BUILD_ID": "42"}, false},
		{map[string]string{"BUILD_ID": "42", "JOB_NAME": "install"}, true},
	} {
		if got := detectCI(envOf(tc.env)); got != tc.want {
			t.Errorf("%v: detectCI = %v, want %v", tc.env, got, tc.want)
		}
	}
}

// Every flag of the table has its meaning here, and nothing else does.
func TestEveryFlagHasASetter(t *testing.T) {
	names := map[string]bool{}
	for _, d := range cmdline.Defs {
		names[d.Name] = true
		if setters[d.Name] == nil {
			t.Errorf("flag %s has no setter", d.Name)
		}
	}
	for name := range setters {
		if !names[name] {
			t.Errorf("setter for %s, which is not in cmdline.Defs", name)
		}
	}
}
