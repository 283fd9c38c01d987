package stages

import (
	"bytes"

	"github.com/install-metrics/install-metrics/pkg/record"
)

// The installer's messages this package acts on. Each comes from
// openshift/installer (file at the version noted, see also docs/installer.md
// sections 3 to 5). Matching is on prefixes and substrings, never on the
// variable parts (durations, "(until 3:04PM UTC)", URLs).

// stage indexes record.AllStageNames: the three stages only `create cluster`
// has, the three only `agent wait-for` has, then the two both have. Stages
// only move forward, and an IPI run goes from api straight to bootstrap
// (next); none is before any stage.
const (
	stNone = iota - 1
	stProvisioning
	stInfrastructure
	stAPI
	stRendezvous
	stValidation
	stPreparation
	stBootstrap
	stOperators
	numStages
)

// next is the stage after s.
func next(s int) int {
	if s == stAPI {
		return stBootstrap
	}
	return s + 1
}

// agentOnly reports whether s is a stage only `agent wait-for` has.
func agentOnly(s int) bool { return s >= stRendezvous && s <= stPreparation }

// agentStatus maps the cluster status lines of `agent wait-for`
// (pkg/agent/cluster.go humanFriendlyClusterInstallStatus, printed once per
// change of the Agent Rest API's cluster status, info) to the stage they
// start (contract v2 table, docs/installer.md section 14). stNone: a status
// that is the validation stage's, which the first status line opens.
var agentStatus = []struct {
	text  string
	stage int
}{
	{"Cluster is not ready for install", stValidation},     // insufficient
	{"Cluster has hosts requiring user input", stNone},     // installing-pending-user-action
	{"User input is required to continue cluster", stNone}, // pending-for-input
	{"Cluster is ready for install", stValidation},         // ready: ends validation, see Tracker.agent
	{"Preparing cluster for installation", stPreparation},  // preparing-for-installation
	{"Cluster installation in progress", stBootstrap},      // installing
	{"Finalizing cluster installation", stOperators},       // finalizing
	{"Cluster is adding hosts", stNone},                    // adding-hosts (day 2)
	{"Cluster has hosts in error", stNone},                 // error
	{"Cluster installation cancelled", stNone},             // cancelled
}

// agentRendezvous lists the lines `agent wait-for` logs while node0's Agent
// Rest API does not answer yet (pkg/agent/cluster.go IsBootstrapComplete).
var agentRendezvous = []string{
	"Waiting for cluster install to initialize",
	"Cannot access Rendezvous Host",
}

// agentBootstrapEnd lists the lines that end the agent bootstrap stage
// (pkg/agent/cluster.go IsBootstrapComplete; pkg/agent/waitfor.go
// WaitForBootstrapComplete logs the last one, the success of `agent wait-for
// bootstrap-complete`, and `install-complete` goes on after it).
var agentBootstrapEnd = []string{
	"Bootstrap configMap status is complete",
	"Bootstrap is complete",
	"cluster bootstrap is complete",
}

// waitFor maps the object of "Waiting up to <d> [(until ...)] for <object>"
// (cmd/openshift-install/create.go, command/waitfor.go,
// pkg/infrastructure/clusterapi/clusterapi.go) to the stage it starts or
// proves, and whether it starts it.
var waitFor = []struct {
	text  string
	stage int
	opens bool
}{
	{"for the Kubernetes API", stAPI, true},                      // all versions
	{"for bootstrapping to complete", stBootstrap, true},         // 4.2+
	{"for the bootstrap-complete event", stBootstrap, true},      // 4.1
	{"for the cluster at ", stOperators, true},                   // 4.2+
	{"for the cluster to initialize", stOperators, true},         // 4.1
	{"for network infrastructure", stInfrastructure, true},       // CAPI, 4.16+
	{"for machines ", stInfrastructure, true},                    // CAPI, 4.16+
	{"for the openshift-console route", stOperators, false},      // 4.2 to 4.11
	{"to ensure each cluster operator", stOperators, false},      // 4.15+
	{"for the bootstrap etcd member", stBootstrap, false},        // 4.16+
	{"to ensure worker nodes are available", stOperators, false}, // CCM, 4.19+
}

// infraStart lists info messages that mean infrastructure creation began:
// pkg/asset/cluster/cluster.go (and its v0.x "Creating cluster...", shown
// in openshift/installer PR #1199), the Cluster API provisioning of
// pkg/infrastructure/clusterapi/clusterapi.go and pkg/clusterapi/system.go.
var infraStart = []string{
	"Creating infrastructure resources",
	"Creating cluster...", // before 4.1 (v0.x)
	"Started local control plane with envtest",
	"Creating infra manifests",
	"Created manifest ",
	"Network infrastructure is ready",
	"Control-plane machines are ready",
	"Cluster API resources have been created",
}

// successPrefix lists the lines the installer logs when a command succeeded.
var successPrefix = []string{
	"Install complete!",        // create cluster, wait-for install-complete
	"It is now safe to remove", // wait-for bootstrap-complete
	"Uninstallation complete!", // destroy cluster, 4.13+
	"Time elapsed: ",           // pkg/metrics/timer LogSummary, only on success, 4.5+
	// pkg/agent/waitfor.go WaitForInstallComplete (2025; then Install
	// complete!), and IsInstallComplete once the wait is over.
	"Cluster is installed",
	"Cluster installation is complete",
	// agent create image (pkg/asset/agent/image/agentimage.go PersistToFile,
	// "." and an expiry added in later versions).
	"Generated ISO at ",
	"Generated minimal ISO at ",
}

// failKind says how a failure line decides the result.
type failKind uint8

const (
	kindGeneric failKind = iota // any other error: the stage in progress decides if it is fatal
	kindNamed                   // the text names the class
	kindStage                   // logged only after a failed wait: the stage decides
	kindAsset                   // asset generation failed: InvalidConfig before infrastructure
)

// failRule maps a lower-cased substring of an error or fatal message to a
// class. Order matters: the first rule that matches wins, and like the
// installer's exit code (create.go runTargetCmd) an install-config error is
// checked before a cluster-creation error.
type failRule struct {
	text   string
	result record.Result
	kind   failKind
}

var failRules = []failRule{
	// cmd/openshift-install/main.go handleInterrupt (4.16+).
	{"received interrupt signal", record.Interrupted, kindNamed},
	// pkg/asset InstallConfigError (exit 3 from 4.11), invalid install-config.
	{"failed to create install config", record.InvalidConfig, kindNamed},
	{`invalid "install-config.yaml" file`, record.InvalidConfig, kindNamed},
	{"invalid install config", record.InvalidConfig, kindNamed},
	// pkg/asset ClusterCreationError (exit 4 from 4.11), terraform and CAPI causes.
	{"failed to create cluster", record.ProvisioningFailed, kindNamed},
	{"failed to apply terraform", record.ProvisioningFailed, kindNamed},
	{"failed to apply using terraform", record.ProvisioningFailed, kindNamed},
	{"failure applying terraform", record.ProvisioningFailed, kindNamed},
	{"failed to create control-plane", record.ProvisioningFailed, kindNamed},
	{"infrastructure was not ready within", record.ProvisioningFailed, kindNamed},
	{"control-plane machines were not provisioned", record.ProvisioningFailed, kindNamed},
	{"failed during pre-provisioning", record.ProvisioningFailed, kindNamed},
	{"failed to run cluster api system", record.ProvisioningFailed, kindNamed},
	// create.go waitForBootstrapComplete: "waiting for Kubernetes API" (4.1),
	// "failed waiting for Kubernetes API" (4.2+), newAPIError (4.6+).
	{"waiting for kubernetes api", record.APIFailed, kindNamed},
	// pkg/agent/waitfor.go WaitForInstallComplete (agent wait-for, exit 6).
	{"cluster installation timed out", record.OperatorsDegraded, kindNamed},
	// create.go waitForBootstrapConfigMap, newBootstrapError, wait-for bootstrap-complete.
	{"failed to wait for bootstrapping to complete", record.BootstrapFailed, kindNamed},
	{"waiting for bootstrap-complete", record.BootstrapFailed, kindNamed},
	{"bootstrap etcd member", record.BootstrapFailed, kindNamed},
	// waitForInitializedCluster, logTroubleshootingLink, waitForStableOperators.
	{"failed to initialize the cluster", record.OperatorsDegraded, kindNamed},
	{"cluster initialization failed", record.OperatorsDegraded, kindNamed},
	{"cluster operators were not stable", record.OperatorsDegraded, kindNamed},
	{"error checking cluster operator progressing", record.OperatorsDegraded, kindNamed},
	{"error checking final cluster operator", record.OperatorsDegraded, kindNamed},
	// Failures outside the stages: wait-for without kubeconfig, destroy,
	// bootstrap destroy, gather, argument errors, disk.
	{"loading kubeconfig", record.Failed, kindNamed},
	{"no cluster installation directory found", record.Failed, kindNamed}, // agent wait-for
	{"preparing to destroy cluster", record.Failed, kindNamed},
	{"failed to destroy cluster", record.Failed, kindNamed},
	{"destroying bootstrap resources", record.Failed, kindNamed},
	{"failed to destroy bootstrap", record.Failed, kindNamed},
	{"failed to gather bootstrap", record.Failed, kindNamed},
	{"error executing openshift-install", record.Failed, kindNamed},
	{"invalid log-level", record.Failed, kindNamed},
	{"failed to write asset", record.Failed, kindNamed},
	{"failed to create asset store", record.Failed, kindNamed},
	// Logged after a failed wait (create.go, waitfor.go): the stage decides.
	{"bootstrap failed to complete", "", kindStage},
	{"attempted to gather clusteroperator status after", "", kindStage},
	{"attempted to gather debug logs after", "", kindStage},
	{"use the following commands to gather logs", "", kindStage},
	// Asset generation (pkg/asset/store): before infrastructure it is the
	// install-config, an asset or a pre-flight check.
	{"failed to fetch dependency of", "", kindAsset},
	{"failed to generate asset", "", kindAsset},
	{"failed to load asset", "", kindAsset},
	{"failed to fetch ", "", kindAsset},
}

// interruptSuffix ends the error of a survey the user left with Ctrl-C
// (AlecAivazis/survey's terminal.InterruptErr, "interrupt", wrapped by the
// asset store: `failed to fetch Install Config: failed to fetch dependency
// of "Install Config": failed to generate asset "Platform": interrupt`,
// exit 1): the user interrupted, it is no invalid config.
const interruptSuffix = ": interrupt"

// classifyFailure finds the rule for a lower-cased failure text.
func classifyFailure(lower []byte) (record.Result, failKind) {
	if bytes.HasSuffix(bytes.TrimRight(lower, " ."), []byte(interruptSuffix)) {
		return record.Interrupted, kindNamed
	}
	for _, r := range failRules {
		if bytes.Contains(lower, []byte(r.text)) {
			return r.result, r.kind
		}
	}
	// 4.2-4.5 dump the conditions of each cluster operator after a failed
	// wait (logClusterOperatorConditions).
	if hasPrefix(lower, "cluster operator ") &&
		(bytes.Contains(lower, []byte(" degraded is true")) || bytes.Contains(lower, []byte(" available is false"))) {
		return "", kindStage
	}
	return "", kindGeneric
}

// stageResult is the class of a failure while stage s was in progress.
func stageResult(s int) record.Result {
	switch s {
	case stProvisioning:
		return record.InvalidConfig
	case stInfrastructure:
		return record.ProvisioningFailed
	case stAPI:
		return record.APIFailed
	case stRendezvous, stValidation, stPreparation:
		// Only `Bootstrap failed to complete` (Summary) or the exit code
		// make these a bootstrap failure; other fatals are Failed.
		return record.Failed
	case stBootstrap:
		return record.BootstrapFailed
	case stOperators:
		return record.OperatorsDegraded
	}
	return record.Failed
}

// resultStage is the stage a failure class proves was entered, or stNone.
func resultStage(r record.Result) int {
	switch r {
	case record.InvalidConfig:
		return stProvisioning
	case record.ProvisioningFailed:
		return stInfrastructure
	case record.APIFailed:
		return stAPI
	case record.BootstrapFailed:
		return stBootstrap
	case record.OperatorsDegraded:
		return stOperators
	}
	return stNone
}

// Exit codes of cmd/openshift-install/create.go (iota + 3) and the minor
// version of 4.x that introduced each (docs/installer.md section 5).
var exitCodes = map[int]struct {
	result record.Result
	since  int
}{
	3: {record.InvalidConfig, 11},
	4: {record.ProvisioningFailed, 11},
	5: {record.APIFailed, 11}, // or BootstrapFailed, see Summary
	6: {record.OperatorsDegraded, 11},
	7: {record.OperatorsDegraded, 15},
	8: {record.Interrupted, 16},
}

// minorOf reads the minor version of a 4.x installer version string
// ("4.16.20", "v4.3.1", "4.5.0-0.okd-2020-07-14-153706-ga"). ok is false for
// versions it cannot read (dev builds, commit hashes); major is 0 for the
// pre-4.1 v0.x releases, which come before every exit code.
func minorOf(v string) (major, minor int, ok bool) {
	if len(v) > 0 && v[0] == 'v' {
		v = v[1:]
	}
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		major = major*10 + int(v[i]-'0')
		i++
	}
	if i == 0 || i > 3 || i >= len(v) || v[i] != '.' {
		return 0, 0, false
	}
	j := i + 1
	for j < len(v) && v[j] >= '0' && v[j] <= '9' {
		minor = minor*10 + int(v[j]-'0')
		j++
	}
	if j == i+1 || j-i > 4 || (j < len(v) && v[j] != '.' && v[j] != '-') {
		return 0, 0, false
	}
	return major, minor, true
}

// codeSpecific reports whether exit code c means what create.go says for an
// installer of version v; when v cannot be read, the code is trusted.
func codeSpecific(c int, v string) (record.Result, bool) {
	ec, ok := exitCodes[c]
	if !ok {
		return "", false
	}
	major, minor, known := minorOf(v)
	if known && (major < 4 || (major == 4 && minor < ec.since)) {
		return "", false
	}
	return ec.result, true
}
