package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/install-metrics/install-metrics/cmd/install-metrics/internal/cmdline"
	"github.com/install-metrics/install-metrics/internal/buildinfo"
)

// Version is install-metrics' own version: the linker's, the module's, or
// the VCS revision of the build (internal/buildinfo).
func Version() string { return buildinfo.Version() }

const rootLong = `install-metrics runs openshift-install exactly as if you had called it directly
(same arguments, terminal, prompts, exit code and signals) and records how the
install went: the installer version, the stages reached and how long each took,
why it failed, and which generated assets you modified. It writes these as
Prometheus counters to a local textfile (default) or sends them to an
aggregation push gateway or a StatsD daemon, and each run as a trace over
OTLP. A metrics failure never changes
the installer's result: it costs at most one warning line and a bounded delay.

Replace "openshift-install" by "install-metrics" in any command line. Every
argument that is not a metrics flag goes to the installer unchanged.`

const rootExamples = `  # an install, recorded in the local textfile
  install-metrics create cluster --dir c1

  # the same from CI, also pushed to an aggregation gateway
  install-metrics --metrics-sink https://metrics.example.com --metrics-auth token-file:/var/run/secrets/token \
      create cluster --dir c1 --log-level debug

  # each run as a trace (a span per stage) to an OpenTelemetry Collector or Jaeger;
  # headers from OTEL_EXPORTER_OTLP_HEADERS, the parent span from TRACEPARENT
  install-metrics --metrics-sink otlp+http://127.0.0.1:4318 create cluster --dir c1

  # in CI: a JUnit report with a case per stage (also INSTALL_METRICS_JUNIT)
  install-metrics --metrics-junit "$ARTIFACT_DIR/junit_install.xml" create cluster --dir c1

  # no metrics at all (also INSTALL_METRICS=off or DO_NOT_TRACK=1)
  install-metrics --no-metrics create manifests --dir c1

  # what was recorded here, and what an old log says
  install-metrics metrics show
  install-metrics metrics classify c1/.openshift_install.log

  # the installer's own help
  install-metrics help
  install-metrics create --help`

// rootHelpTemplate replaces cobra's usage block: the root command's "flags"
// are the installer's, and ours are listed by metricsFlagsHelp.
const rootHelpTemplate = `{{.Long}}

Usage:
  install-metrics [metrics flags] <openshift-install command and flags>
  install-metrics metrics <show|classify|flush|version> [flags]

{{if .HasExample}}Examples:
{{.Example}}
{{end}}`

// subHelpTemplate is the help of `metrics` and of its commands: their own
// usage line, commands, flags and examples (flush adds the metrics flags it
// reads).
const subHelpTemplate = `{{with or .Long .Short}}{{.}}

{{end}}Usage:
  {{.UseLine}}
{{if .HasAvailableSubCommands}}
Commands:
{{range .Commands}}{{if .IsAvailableCommand}}  {{rpad .Name .NamePadding}} {{.Short}}
{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}
Flags:
{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}
{{end}}{{if .HasExample}}
Examples:
{{.Example}}
{{end}}`

// newRootCmd is the cobra tree for our own namespace. The wrapped installer
// command line never goes through cobra: it is passed on verbatim.
func (e *Env) newRootCmd(opts Options) *cobra.Command {
	root := &cobra.Command{
		Use:           "install-metrics [metrics flags] <openshift-install command and flags>",
		Short:         "Run openshift-install and record how the install went",
		Long:          rootLong,
		Example:       rootExamples,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.NoArgs,
		RunE:          func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.SetIn(e.Stdin)
	root.SetOut(e.Stdout)
	root.SetErr(e.Stderr)
	root.SetHelpTemplate(rootHelpTemplate + metricsFlagsHelp())
	root.SetHelpCommand(&cobra.Command{Hidden: true})
	root.CompletionOptions.DisableDefaultCmd = true

	metrics := &cobra.Command{
		Use:   "metrics <command>",
		Short: "Look at and manage what install-metrics recorded",
		Long: `install-metrics' own commands (openshift-install has no "metrics" command).
Only flush sends anything: the metrics flags it reads are in its help.`,
		Example: `  install-metrics metrics show
  install-metrics metrics classify c1/.openshift_install.log
  install-metrics metrics version`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	metrics.AddCommand(
		e.newVersionCmd(),
		e.newClassifyCmd(),
		e.newShowCmd(opts),
		e.newFlushCmd(opts),
	)
	metrics.SetHelpTemplate(subHelpTemplate) // its commands inherit it
	root.AddCommand(metrics)
	return root
}

// runMetrics runs the cobra tree on args: `metrics ...`, or `--help` for
// the root's help.
func (e *Env) runMetrics(opts Options, args []string) error {
	root := e.newRootCmd(opts)
	root.SetArgs(args)
	err := root.Execute()
	if isCobraUsage(err) {
		return usageErrorf("%v: see install-metrics metrics --help", err)
	}
	return err
}

// isCobraUsage reports whether err is cobra's complaint about the command
// line (cobra has no typed errors for these).
func isCobraUsage(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	for _, p := range []string{"unknown ", "accepts ", "requires ", "invalid argument", "flag needs an argument"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// metricsFlagsHelp renders the metrics flags table for --help.
func metricsFlagsHelp() string {
	return metricsFlagsTable("Metrics flags (anywhere on the line; removed before the installer sees it):") + `
Installer: --installer, else $INSTALL_METRICS_INSTALLER, else openshift-install on $PATH.
Exit code: always the installer's (128+N if a signal N killed it); 2 for a bad
metrics flag (the installer is not started), 126/127 when the installer cannot
be run or found.
`
}

// flushUses are the metrics flags `metrics flush` reads.
var flushUses = []string{"--metrics-sink", "--metrics-timeout", "--metrics-auth", "--metrics-ca-file", cmdline.MetricsDebug}

// metricsFlagsTable renders the named metrics flags (all when none is
// named) under title.
func metricsFlagsTable(title string, only ...string) string {
	var b strings.Builder
	b.WriteString("\n" + title + "\n")
	for _, d := range cmdline.Defs {
		if len(only) > 0 && !slices.Contains(only, d.Name) {
			continue
		}
		name := d.Name
		if d.Arg != "" {
			name += " " + d.Arg
		}
		fmt.Fprintf(&b, "  %-30s %s\n  %-30s %s\n", name, "$"+strings.ReplaceAll(d.EnvHelp(), ", ", ", $"), "", d.Help)
	}
	return b.String()
}

func (e *Env) newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print install-metrics' own version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "install-metrics %s\n", Version())
			return nil
		},
	}
}
