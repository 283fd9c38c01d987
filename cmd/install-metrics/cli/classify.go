package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/install-metrics/install-metrics/pkg/record"
	"github.com/install-metrics/install-metrics/pkg/stages"
	"github.com/install-metrics/install-metrics/pkg/timeline"
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
		Use:   "classify [flags] FILE...",
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
	// InstallerTimes is the installer's own "Time elapsed per stage" block
	// (4.5+, debug, success only) as it printed it: its stages are not
	// ours, and they never reach a record.
	InstallerTimes []InstallerTime `json:"installer_times,omitempty"`
	Error          string          `json:"error,omitempty"`
}

// InstallerTime is one line of the installer's own timer.
type InstallerTime struct {
	Name            string  `json:"name"`
	DurationSeconds float64 `json:"duration_seconds"`
}

func (e *Env) classifyRun(w io.Writer, opts *ClassifyOptions) error {
	var failed int
	enc := json.NewEncoder(w)
	for i, name := range opts.Files {
		c := e.classifyFile(name)
		e.classifyJUnit(opts.JUnit, c)
		if c.Error == "" && c.Basis == stages.BasisNothing {
			c.Error = fmt.Sprintf("%s has no openshift-install log line: give the installer's log (<dir>/.openshift_install.log) or its output", name)
		}
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
		return &exitError{code: 1, err: fmt.Errorf("%d of %d files could not be classified", failed, len(opts.Files))}
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
	for _, it := range sum.InstallerTimes {
		c.InstallerTimes = append(c.InstallerTimes, InstallerTime{Name: it.Name, DurationSeconds: it.Duration.Seconds()})
	}
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
	o := timeline.Options{Title: c.File, Basis: string(c.Basis), Untimed: !c.Timed}
	for _, it := range c.InstallerTimes {
		o.InstallerTimes = append(o.InstallerTimes, timeline.Timer{Name: it.Name, Duration: time.Duration(it.DurationSeconds * float64(time.Second))})
	}
	_ = timeline.Write(w, classifiedInvocation(c), o) // a failed write to stdout has nobody to tell
}
