package record

import "time"

// Result is the closed set of outcomes of one installer command
// (docs/metrics-schema.md, "Result classes").
type Result string

// The result classes. Nothing else may ever become the result label.
const (
	Success            Result = "Success"
	InvalidConfig      Result = "InvalidConfig"
	ProvisioningFailed Result = "ProvisioningFailed"
	APIFailed          Result = "APIFailed"
	BootstrapFailed    Result = "BootstrapFailed"
	OperatorsDegraded  Result = "OperatorsDegraded"
	Interrupted        Result = "Interrupted"
	Failed             Result = "Failed"
)

// Results lists every result class, in the schema's order.
var Results = []Result{Success, InvalidConfig, ProvisioningFailed, APIFailed, BootstrapFailed, OperatorsDegraded, Interrupted, Failed}

// Valid reports whether r is one of the closed set.
func (r Result) Valid() bool {
	for _, v := range Results {
		if r == v {
			return true
		}
	}
	return false
}

// StageName is one of the stages of docs/metrics-schema.md: the five of
// `create cluster` and `wait-for`, and the five of `agent wait-for`
// (which share bootstrap and operators).
type StageName string

// The stages of `create cluster`, in the order the installer reaches them.
const (
	Provisioning   StageName = "provisioning"
	Infrastructure StageName = "infrastructure"
	API            StageName = "api"
	Bootstrap      StageName = "bootstrap"
	Operators      StageName = "operators"
)

// The stages that only `agent wait-for bootstrap-complete|install-complete`
// has (contract v2); it then goes on with Bootstrap and Operators.
const (
	Rendezvous  StageName = "rendezvous"
	Validation  StageName = "validation"
	Preparation StageName = "preparation"
)

// StageNames lists the stages of `create cluster` in order; it is also the
// order of the cluster_installation_duration labels (the seed family keeps
// exactly these five; agent runs fill its bootstrap and operators).
var StageNames = []StageName{Provisioning, Infrastructure, API, Bootstrap, Operators}

// AgentStageNames lists the stages of `agent wait-for` in order.
var AgentStageNames = []StageName{Rendezvous, Validation, Preparation, Bootstrap, Operators}

// AllStageNames is the closed set of the stage label of
// cluster_installation_stage_duration_seconds: every stage above, once.
var AllStageNames = []StageName{Provisioning, Infrastructure, API, Rendezvous, Validation, Preparation, Bootstrap, Operators}

// Valid reports whether n is one of AllStageNames.
func (n StageName) Valid() bool {
	for _, v := range AllStageNames {
		if n == v {
			return true
		}
	}
	return false
}

// Stage is one stage the installer entered.
type Stage struct {
	Name  StageName `json:"name"`
	Start time.Time `json:"start"`
	// End is when the stage finished, or the time of the failure or the last
	// line seen when it did not.
	End time.Time `json:"end"`
	// Finished is true when the installer's own end-of-stage line was seen.
	Finished bool `json:"finished"`
	// Timed is true when Start and End are times the log gave (a log
	// without timestamps, or a stage entered only by a failure's class,
	// gives clock times or guesses: no histogram observation).
	Timed bool `json:"timed,omitempty"`
}

// Duration is End-Start, never negative.
func (s Stage) Duration() time.Duration {
	if d := s.End.Sub(s.Start); d > 0 {
		return d
	}
	return 0
}

// Invocation is what one wrapped installer command did.
type Invocation struct {
	// Command is the first installer word from a closed set ("create",
	// "destroy", "wait-for", ...; "other" for unknown words, "" for none).
	Command string `json:"command"`
	// Target is the second word for commands that take one, from a closed
	// set ("cluster", "manifests", ...; "other" for unknown words), else "".
	Target string `json:"target"`
	// OS is runtime.GOOS.
	OS string `json:"os"`
	// Platform is from the closed set of docs/metrics-schema.md, or "unknown".
	Platform string `json:"platform"`
	// Version is the installer version as the installer printed it
	// (e.g. "4.16.20", "4.5.0-0.okd-2020-07-14-153706-ga",
	// "unreleased-master-3881-g..."), "" when not seen. pkg/push normalises it.
	Version string `json:"version"`
	// Stages is the timeline, in order; only stages that were entered.
	Stages []Stage `json:"stages"`
	// Result is the result class.
	Result Result `json:"result"`
	// Deciding is the (redacted) log line that decided Result, for people;
	// it never becomes a label.
	Deciding string `json:"deciding,omitempty"`
	// ExitCode is the installer's exit code, 0..255 (128+N after death by signal N).
	ExitCode int `json:"exit_code"`
	// Signal is the name of the signal that killed the installer, if any.
	Signal string `json:"signal,omitempty"`
	// Start and Wall are when the installer was started and how long it ran.
	Start time.Time     `json:"start"`
	Wall  time.Duration `json:"wall_ns"`
	// Modified lists the modified-asset label values (generated asset paths
	// relative to --dir, "user-added", "user-removed"), sorted, each once.
	// Nil when the command consumed no assets or did not succeed.
	Modified []string `json:"modified,omitempty"`
	// CI is true when a CI system was detected from the environment.
	CI bool `json:"ci"`
	// Traceparent is the W3C trace context the wrapper ran under (its
	// TRACEPARENT, validated, in the canonical version 00 form), so that a
	// trace sent later from the spool keeps its parent; "" for none.
	Traceparent string `json:"traceparent,omitempty"`
}

// Stage returns the named stage and whether it was entered.
func (inv *Invocation) Stage(name StageName) (Stage, bool) {
	for _, s := range inv.Stages {
		if s.Name == name {
			return s, true
		}
	}
	return Stage{}, false
}
