package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/install-metrics/install-metrics/pkg/push"
	"github.com/install-metrics/install-metrics/pkg/record"
	"github.com/install-metrics/install-metrics/pkg/stages"
)

// ClassifyOptions are the flags of `metrics classify`.
type ClassifyOptions struct {
	JSON  bool
	Files []string
	JUnit string // --junit (junit.go)
}

func (e *Env) newClassifyCmd() *cobra.Command {
	opts := &ClassifyOptions{}
	cmd := &cobra.Command{
		Use:   "classify [--json] FILE...",
		Short: "Say what an installer log tells: version, stages with durations, result",
		Long: `Classify reads installer logs of runs that were not wrapped (a support case, a CI
job that already ran the installer): the log file (<dir>/.openshift_install.log)
or what the terminal or a CI log showed. For each it prints the installer
version, the stages entered with their durations (from the log's timestamps),
the result class and the line that decided it. "-" reads standard input.

Without the installer's exit code a log that simply stops is never called a
success: it is Interrupted (the run ended without saying how).`,
		Example: `  install-metrics metrics classify c1/.openshift_install.log
  oc logs job/install | install-metrics metrics classify --json -`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			return e.classifyRun(cmd.OutOrStdout(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print one JSON object per file (a stable format for machines)")
	cmd.Flags().StringVar(&opts.JUnit, "junit", "", classifyJUnitHelp)
	return cmd
}

// ClassifiedStage is one stage in `metrics classify --json`.
type ClassifiedStage struct {
	Name            record.StageName `json:"name"`
	Start           time.Time        `json:"start"`
	End             time.Time        `json:"end"`
	DurationSeconds float64          `json:"duration_seconds"`
	Finished        bool             `json:"finished"`
}

// Classified is the stable JSON form of one classified file.
type Classified struct {
	File     string        `json:"file"`
	Version  string        `json:"version"`
	Result   record.Result `json:"result"`
	Basis    stages.Basis  `json:"basis"`
	Deciding string        `json:"deciding"`
	Format   string        `json:"format"`
	Lines    int64         `json:"lines"`
	// Timed is true when the stage times come from the log's timestamps.
	Timed  bool              `json:"timed"`
	Stages []ClassifiedStage `json:"stages"`
	Error  string            `json:"error,omitempty"`
}

func (e *Env) classifyRun(w io.Writer, opts *ClassifyOptions) error {
	var failed int
	enc := json.NewEncoder(w)
	for i, name := range opts.Files {
		c := e.classifyFile(name)
		e.classifyJUnit(opts.JUnit, c)
		if c.Error != "" {
			failed++
			fmt.Fprintf(e.Stderr, "install-metrics: %s\n", c.Error)
			if !opts.JSON {
				continue
			}
		}
		if opts.JSON {
			if err := enc.Encode(c); err != nil {
				return err
			}
			continue
		}
		if i > 0 {
			fmt.Fprintln(w)
		}
		printClassified(w, c)
	}
	if failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d of %d files could not be read", failed, len(opts.Files))}
	}
	return nil
}

func (e *Env) classifyFile(name string) Classified {
	c := Classified{File: name, Stages: []ClassifiedStage{}}
	var r io.Reader = e.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			c.Error = fmt.Sprintf("cannot classify %s: %v", name, unwrapPath(err))
			return c
		}
		defer f.Close()
		r = f
	}
	sum, err := stages.Classify(r, e.Now, stages.Exit{})
	if err != nil {
		c.Error = fmt.Sprintf("reading %s: %v (classified what was read)", name, unwrapPath(err))
	}
	c.Version, c.Result, c.Basis, c.Deciding, c.Format, c.Lines, c.Timed = sum.Version, sum.Result, sum.Basis, sum.Deciding, sum.Format, sum.Lines, sum.Timed
	for _, s := range sum.Stages {
		c.Stages = append(c.Stages, ClassifiedStage{Name: s.Name, Start: s.Start, End: s.End,
			DurationSeconds: s.Duration().Seconds(), Finished: s.Finished})
	}
	return c
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func printClassified(w io.Writer, c Classified) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	version := c.Version
	if version == "" {
		version = "(no header in the log)"
	}
	fmt.Fprintf(tw, "%s\n", c.File)
	fmt.Fprintf(tw, "  installer\t%s\n", version)
	fmt.Fprintf(tw, "  result\t%s\t(decided by: %s)\n", c.Result, c.Basis)
	if c.Deciding != "" {
		fmt.Fprintf(tw, "  deciding line\t%s\n", oneLine(c.Deciding, 160))
	}
	if len(c.Stages) == 0 {
		fmt.Fprintf(tw, "  stages\tnone reached\n")
	}
	for i, s := range c.Stages {
		label := ""
		if i == 0 {
			label = "stages"
		}
		state := "done"
		if !s.Finished {
			state = "not finished"
		}
		if !c.Timed {
			// Terminal and pipe output without timestamps: no durations.
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", label, s.Name, state)
			continue
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s → %s\n", label, s.Name,
			time.Duration(s.DurationSeconds*float64(time.Second)).Round(time.Second), state,
			s.Start.UTC().Format("15:04:05"), s.End.UTC().Format("15:04:05"))
	}
	tw.Flush()
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// ShowOptions are the flags of `metrics show`.
type ShowOptions struct {
	Format string
	File   string
}

func (e *Env) newShowCmd(opts Options) *cobra.Command {
	so := &ShowOptions{}
	cmd := &cobra.Command{
		Use:   "show [--format table|prom|json] [--file PATH]",
		Short: "Print what was recorded on this machine",
		Long: `Show prints the local textfile: invocations by command and result, stage
duration buckets and modified assets. --format prom prints the file as
Prometheus reads it; --format json is for machines.`,
		Example: `  install-metrics metrics show
  install-metrics metrics show --format prom`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := so.File
			if path == "" {
				dir, err := push.StateDir(e.Getenv)
				if err != nil {
					return err
				}
				path = push.DefaultTextfile(dir)
			}
			return push.Show(cmd.OutOrStdout(), path, so.Format)
		},
	}
	cmd.Flags().StringVar(&so.Format, "format", "table", "table, prom or json")
	cmd.Flags().StringVar(&so.File, "file", "", "textfile to show (default: the local textfile)")
	return cmd
}

func (e *Env) newFlushCmd(opts Options) *cobra.Command {
	return &cobra.Command{
		Use:   "flush",
		Short: "Send again the pushes that could not be delivered earlier",
		Long: `Flush sends the spooled pushes (kept when a gateway or StatsD sink provably did
not receive them) to the sinks given by --metrics-sink or INSTALL_METRICS_SINKS,
within --metrics-timeout. Credentials come from the current --metrics-auth: the
spool never holds one.`,
		Example: `  install-metrics --metrics-sink https://gw.example.com --metrics-auth token-file:/run/token metrics flush`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := e.logger(opts.Debug)
			sender, err := e.newSender(opts, nil, log)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			rep := sender.Flush(ctx)
			for _, w := range rep.Warnings {
				log.Warn(w.Error())
			}
			fmt.Fprintf(cmd.OutOrStdout(), "flushed %d spooled push(es)\n", rep.Flushed)
			return nil
		},
	}
}
