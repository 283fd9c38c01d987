package junit

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/install-metrics/install-metrics/pkg/record"
	"github.com/install-metrics/install-metrics/pkg/timeline"
)

// Markdown writes the short summary of inv that GitHub Actions shows on the
// run's page ($GITHUB_STEP_SUMMARY): command and result, each stage with
// its duration, and the redacted deciding line. Nothing else: no file
// name, no argument beyond the command's closed-set words.
func Markdown(w io.Writer, inv record.Invocation) error {
	var b strings.Builder
	icon := "✅"
	if inv.Result != record.Success {
		icon = "❌"
	}
	name := commandWords(inv)
	if name == "" {
		name = "openshift-install"
	} else {
		name = "openshift-install " + name
	}
	fmt.Fprintf(&b, "### %s `%s`: %s\n\n", icon, name, inv.Result)
	version := inv.Version
	if version == "" {
		version = "unknown"
	}
	fmt.Fprintf(&b, "Installer %s, exit code %d, %s.\n\n", mdCode(version), inv.ExitCode, wall(inv).Round(time.Second))
	if len(inv.Stages) > 0 {
		b.WriteString("| stage | duration | state |\n| --- | ---: | --- |\n")
		for _, s := range inv.Stages {
			state := "done"
			if !s.Finished {
				state = "not finished"
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", s.Name, s.Duration().Round(time.Second), state)
		}
		b.WriteString("\n")
	}
	if inv.Deciding != "" {
		fmt.Fprintf(&b, "Deciding line: %s\n\n", mdCode(timeline.OneLine(inv.Deciding, timeline.MaxDeciding)))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdCode quotes s as inline code, so that Markdown in it stays text.
func mdCode(s string) string {
	s = strings.ReplaceAll(s, "`", "'")
	return "`" + s + "`"
}
