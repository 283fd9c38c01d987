package junit

import (
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	"github.com/install-metrics/install-metrics/pkg/record"
)

// Suites is the document: <testsuites>.
type Suites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Time     string   `xml:"time,attr"`
	Suites   []Suite  `xml:"testsuite"`
}

// Suite is one <testsuite>.
type Suite struct {
	XMLName   xml.Name `xml:"testsuite"`
	Name      string   `xml:"name,attr"`
	Tests     int      `xml:"tests,attr"`
	Failures  int      `xml:"failures,attr"`
	Errors    int      `xml:"errors,attr"`
	Skipped   int      `xml:"skipped,attr"`
	Time      string   `xml:"time,attr"`
	Timestamp string   `xml:"timestamp,attr,omitempty"`
	Cases     []Case   `xml:"testcase"`
	SystemOut *Output  `xml:"system-out"`
}

// Output is a <system-out>, written as CDATA so that the timeline reads as
// it prints.
type Output struct {
	Text string `xml:",cdata"`
}

// Out returns the suite's system-out text.
func (s Suite) Out() string {
	if s.SystemOut == nil {
		return ""
	}
	return s.SystemOut.Text
}

// Case is one <testcase>.
type Case struct {
	Name      string   `xml:"name,attr"`
	Classname string   `xml:"classname,attr"`
	Time      string   `xml:"time,attr"`
	Failure   *Failure `xml:"failure"`
	Error     *Failure `xml:"error"`
	Skipped   *Skipped `xml:"skipped"`
}

// Failure is a <failure> (or <error>): message attribute and text.
type Failure struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// Skipped is a <skipped>.
type Skipped struct {
	Message string `xml:"message,attr,omitempty"`
}

// ClusterSuite is the suite name of cluster installs.
const ClusterSuite = "cluster install"

// The case names of OpenShift CI's junit_install.xml, in its order.
const (
	CaseOther         = "install should succeed: other"
	CaseConfiguration = "install should succeed: configuration"
	CaseInfra         = "install should succeed: infrastructure"
	CaseBootstrap     = "install should succeed: cluster bootstrap"
	CaseCreation      = "install should succeed: cluster creation"
	CaseStability     = "install should succeed: cluster operator stability"
	CaseOverall       = "install should succeed: overall"
)

// clusterCases are CI's cases between other and overall, with the stages
// each covers (see the package documentation).
var clusterCases = []struct {
	name   string
	stages []record.StageName
}{
	{CaseConfiguration, []record.StageName{record.Provisioning, record.Rendezvous, record.Validation}},
	{CaseInfra, []record.StageName{record.Infrastructure, record.Preparation}},
	{CaseBootstrap, []record.StageName{record.API, record.Bootstrap}},
	{CaseCreation, []record.StageName{record.Operators}},
	{CaseStability, nil},
}

// Index of the failed case: -1 none (success), 0 other, 1.. clusterCases[i-1].
const (
	failedNone  = -1
	failedOther = 0
)

// notStable is how the installer says the operators were available but did
// not settle (exit code 7 from 4.15; the message on every version).
const notStable = "cluster operators were not stable"

// exitOperatorStability is the installer's exit code 7.
const exitOperatorStability = 7

// IsCluster reports whether command and target (record.Invocation's) are a
// cluster install: create cluster, wait-for …, agent wait-for ….
func IsCluster(command, target string) bool {
	switch {
	case command == "create" && target == "cluster":
		return true
	case command == "wait-for":
		return true
	case command == "agent" && target == "wait-for":
		return true
	}
	return false
}

// Build returns the suite of inv, with out as its system-out (the
// timeline, pkg/timeline).
func Build(inv record.Invocation, out string) Suite {
	var s Suite
	if IsCluster(inv.Command, inv.Target) {
		s = buildCluster(inv)
	} else {
		s = buildCommand(inv)
	}
	if !inv.Start.IsZero() {
		s.Timestamp = inv.Start.UTC().Format(time.RFC3339)
	}
	if out != "" {
		s.SystemOut = &Output{Text: out}
	}
	s.count()
	return s
}

// commandWords is the command as the user typed it, from closed sets.
func commandWords(inv record.Invocation) string {
	return strings.TrimSpace(inv.Command + " " + inv.Target)
}

func classname(inv record.Invocation) string {
	return strings.TrimSpace("openshift-install " + commandWords(inv))
}

func buildCommand(inv record.Invocation) Suite {
	name := commandWords(inv)
	if name == "" {
		name = "openshift-install"
	}
	c := Case{Name: name + " should succeed", Classname: classname(inv), Time: seconds(inv.Wall)}
	if inv.Result != record.Success {
		c.Failure = failure(inv)
	}
	return Suite{Name: name, Time: c.Time, Cases: []Case{c}}
}

func failure(inv record.Invocation) *Failure {
	text := inv.Deciding
	switch {
	case text != "":
	case inv.ExitCode < 0:
		text = "no deciding line in the log"
	default:
		text = fmt.Sprintf("no deciding line; the installer exited %d", inv.ExitCode)
	}
	return &Failure{Message: string(inv.Result), Text: text}
}

// failedCase picks the failed case from the result class.
func failedCase(inv record.Invocation) int {
	switch inv.Result {
	case record.Success:
		return failedNone
	case record.InvalidConfig:
		return 1
	case record.ProvisioningFailed:
		return 2
	case record.APIFailed, record.BootstrapFailed:
		return 3
	case record.OperatorsDegraded:
		if inv.ExitCode == exitOperatorStability || strings.Contains(inv.Deciding, notStable) {
			return 5
		}
		return 4
	}
	return failedOther // Interrupted, Failed, anything unknown
}

func buildCluster(inv record.Invocation) Suite {
	cn := classname(inv)
	failed := failedCase(inv)
	cases := make([]Case, 0, len(clusterCases)+2)

	other := Case{Name: CaseOther, Classname: cn, Time: seconds(0)}
	if failed == failedOther {
		other.Failure = failure(inv)
	}
	cases = append(cases, other)

	// When "other" failed, the stage cases follow the timeline: the last
	// case with a stage entered is where the run ended.
	last := 0
	for i, cc := range clusterCases {
		if _, ok := entered(inv, cc.stages); ok {
			last = i + 1
		}
	}
	for i, cc := range clusterCases {
		idx := i + 1
		d, _ := entered(inv, cc.stages)
		c := Case{Name: cc.name, Classname: cn, Time: seconds(d)}
		switch {
		case failed == failedNone:
		case failed == failedOther:
			switch {
			case idx > last:
				c.Skipped = &Skipped{Message: "not reached"}
			case idx == last && !finished(inv, cc.stages):
				c.Skipped = &Skipped{Message: "not finished: the run ended " + string(inv.Result)}
			}
		case idx == failed:
			c.Failure = failure(inv)
		case idx > failed:
			c.Skipped = &Skipped{Message: "not reached"}
		}
		cases = append(cases, c)
	}

	overall := Case{Name: CaseOverall, Classname: cn, Time: seconds(wall(inv))}
	if failed != failedNone {
		overall.Failure = failure(inv)
	}
	cases = append(cases, overall)
	return Suite{Name: ClusterSuite, Time: overall.Time, Cases: cases}
}

// entered returns the summed duration of the named stages that inv entered,
// and whether it entered any.
func entered(inv record.Invocation, names []record.StageName) (time.Duration, bool) {
	var d time.Duration
	var any bool
	for _, n := range names {
		if s, ok := inv.Stage(n); ok {
			d += s.Duration()
			any = true
		}
	}
	return d, any
}

// finished reports whether every named stage that inv entered finished.
func finished(inv record.Invocation, names []record.StageName) bool {
	for _, n := range names {
		if s, ok := inv.Stage(n); ok && !s.Finished {
			return false
		}
	}
	return true
}

// wall is the run's wall time, else the span of its stages (a log alone).
func wall(inv record.Invocation) time.Duration {
	if inv.Wall > 0 {
		return inv.Wall
	}
	if len(inv.Stages) == 0 {
		return 0
	}
	if d := inv.Stages[len(inv.Stages)-1].End.Sub(inv.Stages[0].Start); d > 0 {
		return d
	}
	return 0
}

// seconds is JUnit's time: decimal seconds, milliseconds kept.
func seconds(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return fmt.Sprintf("%.3f", d.Seconds())
}

// count sets the suite's totals from its cases.
func (s *Suite) count() {
	s.Tests, s.Failures, s.Errors, s.Skipped = len(s.Cases), 0, 0, 0
	for _, c := range s.Cases {
		switch {
		case c.Failure != nil:
			s.Failures++
		case c.Error != nil:
			s.Errors++
		case c.Skipped != nil:
			s.Skipped++
		}
	}
}

// Document wraps suites in <testsuites> with their totals.
func Document(suites ...Suite) Suites {
	d := Suites{Suites: suites}
	var t float64
	for i := range d.Suites {
		s := &d.Suites[i]
		s.count()
		d.Tests += s.Tests
		d.Failures += s.Failures
		d.Errors += s.Errors
		d.Skipped += s.Skipped
		var f float64
		if _, err := fmt.Sscanf(s.Time, "%g", &f); err == nil && f > 0 {
			t += f
		}
	}
	d.Time = fmt.Sprintf("%.3f", t)
	return d
}

// Marshal renders the document with its XML header, indented, ending in a
// new line.
func (d Suites) Marshal() ([]byte, error) {
	b, err := xml.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(append([]byte(xml.Header), b...), '\n'), nil
}
