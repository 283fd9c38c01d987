package cli

import (
	"os"
	"slices"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/install-metrics/install-metrics/pkg/junit"
	"github.com/install-metrics/install-metrics/pkg/record"
	"github.com/install-metrics/install-metrics/pkg/timeline"
)

// stepSummaryEnv is the file GitHub Actions shows on the run's page.
const stepSummaryEnv = "GITHUB_STEP_SUMMARY"

// classifyJUnitHelp is the help of `metrics classify --junit`.
const classifyJUnitHelp = "also write the JUnit report of each log to `PATH` (several logs: attempts of one job, in order)"

// ciReports writes what CI systems read after a wrapped run, whatever the
// sinks did: the JUnit report (--metrics-junit) and, on GitHub Actions, the
// step summary. Each failure is one warning line; none changes the exit
// code. The wrapper defers it once the record is built.
func (e *Env) ciReports(opts Options, inv record.Invocation, log *logrus.Logger) {
	if opts.NoMetrics {
		return
	}
	if opts.JUnit != "" {
		out := timeline.String(inv, timeline.Options{ExitCode: true})
		e.writeJUnit(opts.JUnit, junit.Build(inv, out), log)
	}
	e.stepSummary(inv, log)
}

// writeJUnit writes (or adds to) the JUnit report at path.
func (e *Env) writeJUnit(path string, s junit.Suite, log *logrus.Logger) {
	res, err := junit.WriteFile(path, s)
	if res.MovedAside != "" {
		log.Warnf("the earlier file at %s was not a JUnit report: moved to %s", path, res.MovedAside)
	}
	if err != nil {
		log.Warnf("no JUnit report written: %v; the install's result is unchanged", err)
	}
}

// stepSummary appends the run's Markdown summary to $GITHUB_STEP_SUMMARY
// when GitHub Actions set it; nothing elsewhere.
func (e *Env) stepSummary(inv record.Invocation, log *logrus.Logger) {
	path, ok := e.Getenv(stepSummaryEnv)
	if !ok || path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err == nil {
		err = junit.Markdown(f, inv)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		log.Warnf("no GitHub step summary written: %v", unwrapPath(err))
	}
}

// classifyJUnit writes the JUnit report of one classified log to path
// ("" for none). A log alone does not say which command wrote it: the
// report is that of a cluster install (agent wait-for when agent stages
// are in the log, else create cluster).
func (e *Env) classifyJUnit(path string, c Classified) {
	if path == "" || c.Error != "" && len(c.Stages) == 0 && c.Lines == 0 {
		return
	}
	inv := classifiedInvocation(c)
	out := timeline.String(inv, timeline.Options{Basis: string(c.Basis), Untimed: !c.Timed})
	e.writeJUnit(path, junit.Build(inv, out), e.logger(false))
}

// classifiedInvocation is the record of a log classified without its run:
// no exit code, no wall time; stage times only when the log had them.
func classifiedInvocation(c Classified) record.Invocation {
	inv := record.Invocation{Command: "create", Target: "cluster", Version: c.Version, Result: c.Result,
		Deciding: c.Deciding, ExitCode: -1, Stages: []record.Stage{}}
	for _, s := range c.Stages {
		st := record.Stage{Name: s.Name, Finished: s.Finished}
		if c.Timed {
			st.Start, st.End = s.Start, s.End
		}
		if slices.Contains([]record.StageName{record.Rendezvous, record.Validation, record.Preparation}, s.Name) {
			inv.Command, inv.Target = "agent", "wait-for"
		}
		inv.Stages = append(inv.Stages, st)
	}
	if c.Timed && len(c.Stages) > 0 {
		inv.Start = c.Stages[0].Start.Truncate(time.Second)
	}
	return inv
}
