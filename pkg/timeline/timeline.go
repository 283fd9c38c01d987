// Package timeline renders the stage timeline of one invocation as the few
// aligned lines `install-metrics metrics classify` prints: installer version,
// result (and what decided it), the redacted deciding line, and each stage
// entered with its duration, state and clock times.
//
// The same text is the system-out of the JUnit report (pkg/junit). It holds
// only what the record holds: label values from closed sets, times, and the
// deciding line, which pkg/stages has already redacted.
package timeline

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/install-metrics/install-metrics/pkg/record"
)

// MaxDeciding is how many characters of the deciding line are shown.
const MaxDeciding = 160

// Options say what the record does not.
type Options struct {
	// Title is the first line (classify: the file name); "" omits it.
	Title string
	// Basis is what decided the result (stages.Basis); "" omits it.
	Basis string
	// Untimed is true when the stage times are not the log's own (terminal
	// or pipe output without timestamps): stages are shown without times.
	Untimed bool
	// ExitCode adds the installer's exit code (a wrapped run knows it).
	ExitCode bool
	// InstallerTimes is the installer's own "Time elapsed per stage" block,
	// shown after the stages and marked as the installer's: for people only.
	InstallerTimes []Timer
}

// Timer is one line of the installer's own timer block.
type Timer struct {
	Name     string
	Duration time.Duration
}

// Write prints inv's timeline to w.
func Write(w io.Writer, inv record.Invocation, o Options) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	if o.Title != "" {
		fmt.Fprintf(tw, "%s\n", o.Title)
	}
	version := inv.Version
	if version == "" {
		version = "(no header in the log)"
	}
	fmt.Fprintf(tw, "  installer\t%s\n", version)
	if o.Basis != "" {
		fmt.Fprintf(tw, "  result\t%s\t(decided by: %s)\n", inv.Result, o.Basis)
	} else {
		fmt.Fprintf(tw, "  result\t%s\n", inv.Result)
	}
	if o.ExitCode {
		fmt.Fprintf(tw, "  exit code\t%d\n", inv.ExitCode)
	}
	if inv.Deciding != "" {
		fmt.Fprintf(tw, "  deciding line\t%s\n", OneLine(inv.Deciding, MaxDeciding))
	}
	if len(inv.Stages) == 0 {
		fmt.Fprintf(tw, "  stages\tnone reached\n")
	}
	for i, s := range inv.Stages {
		label := ""
		if i == 0 {
			label = "stages"
		}
		state := "done"
		if !s.Finished {
			state = "not finished"
		}
		if o.Untimed {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", label, s.Name, state)
			continue
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s → %s\n", label, s.Name, s.Duration().Round(time.Second), state,
			s.Start.UTC().Format("15:04:05"), s.End.UTC().Format("15:04:05"))
	}
	for i, it := range o.InstallerTimes {
		label := ""
		if i == 0 {
			label = "installer's own timer"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", label, it.Name, it.Duration)
	}
	return tw.Flush()
}

// String is Write to a string.
func String(inv record.Invocation, o Options) string {
	var b strings.Builder
	_ = Write(&b, inv, o) // a strings.Builder does not fail
	return b.String()
}

// OneLine folds s's white space (new lines included) into single spaces
// and cuts it after max characters, marking the cut with "…".
func OneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + "…"
	}
	return s
}
