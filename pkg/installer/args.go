package installer

import (
	"path/filepath"
	"strings"
)

// LogFileName is the installer's log file inside --dir.
const LogFileName = ".openshift_install.log"

// StateFileName is the installer's state file inside --dir.
const StateFileName = ".openshift_install_state.json"

// Other is the label value for words outside the closed sets.
const Other = "other"

// commands maps each known top-level command to the targets it takes; nil
// means the command takes no target. Matching is exact and case-sensitive,
// as cobra's is: "Version" is no command of the installer.
var commands = map[string][]string{
	"create": {"install-config", "manifests", "ignition-configs", "cluster",
		"single-node-ignition-config", "cluster-api", "image", "pxe-files",
		"config-image", "unconfigured-ignition", "certificates"},
	"wait-for":   {"bootstrap-complete", "install-complete"},
	"destroy":    {"cluster", "bootstrap"},
	"gather":     {"bootstrap"},
	"version":    nil,
	"graph":      nil,
	"completion": nil,
	"coreos":     {"print-stream-json"},
	"explain":    nil,
	"analyze":    nil,
	"migrate":    nil,
	"help":       nil,
}

// subcommands maps the commands that take a subcommand and then a target
// (contract v2, "Commands with more than one word") to them; the target
// label is "<subcommand>/<target>" (docs/installer.md section 14).
var subcommands = map[string]map[string][]string{
	// cmd/openshift-install/agent.go (newAgentCreateCmd's agentTargets, the
	// hidden unconfigured-ignition included), agent/waitfor.go, agent/gather.go.
	"agent": {
		"create": {"agent-config-template", "cluster-manifests", "image", "pxe-files",
			"config-image", "unconfigured-ignition"},
		"wait-for": {"bootstrap-complete", "install-complete"},
		"gather":   {"bootstrap"},
	},
	// cmd/openshift-install/imagebased.go imageBasedTargets: no wait-for,
	// that install completes on the host.
	"image-based": {
		"create": {"image-config-template", "image", "config-template", "config-image"},
	},
}

// valueFlags are the installer flags that take their value as the next word
// when written without "=".
var valueFlags = map[string]bool{
	"--dir": true, "--log-level": true,
	"--bootstrap": true, "--master": true, "--key": true,
}

// Args is what install-metrics needs to know about one installer command line.
type Args struct {
	// Command and Target are label values from closed sets (see Invocation).
	Command, Target string
	// Dir is the asset directory (--dir), "." by default.
	Dir string
}

// ParseArgs reads the installer's own arguments (metrics flags already
// removed). It never fails: unknown words become "other".
func ParseArgs(args []string) Args {
	a := Args{Dir: "."}
	var words []string
	for i := 0; i < len(args); i++ {
		w := args[i]
		if w == "--" {
			words = append(words, args[i+1:]...)
			break
		}
		if strings.HasPrefix(w, "-") && w != "-" {
			name, val, hasVal := strings.Cut(w, "=")
			if strings.HasPrefix(name, "--") || len(name) == 2 {
				if name == "--dir" {
					switch {
					case hasVal:
						a.Dir = val
					case i+1 < len(args):
						a.Dir = args[i+1]
					}
				}
				if !hasVal && valueFlags[name] {
					i++
				}
			}
			continue
		}
		words = append(words, w)
	}
	if a.Dir == "" {
		a.Dir = "."
	}
	if len(words) == 0 {
		return a
	}
	if subs, ok := subcommands[words[0]]; ok {
		a.Command = words[0]
		if len(words) < 2 {
			return a
		}
		targets, ok := subs[words[1]]
		if !ok {
			a.Target = Other
			return a
		}
		a.Target = words[1]
		if len(words) > 2 {
			a.Target += "/" + closed(words[2], targets)
		}
		return a
	}
	targets, ok := commands[words[0]]
	if !ok {
		a.Command = Other
		return a
	}
	a.Command = words[0]
	if targets == nil || len(words) < 2 {
		return a
	}
	a.Target = closed(words[1], targets)
	return a
}

// closed is w if it is one of set, else Other.
func closed(w string, set []string) string {
	for _, v := range set {
		if w == v {
			return v
		}
	}
	return Other
}

// LogPath is the log file the installer appends to for these arguments.
func (a Args) LogPath() string { return filepath.Join(a.Dir, LogFileName) }

// StatePath is the installer's state file for these arguments.
func (a Args) StatePath() string { return filepath.Join(a.Dir, StateFileName) }

// WritesLog reports whether the command appends to the log file
// (docs/installer.md section 1).
func (a Args) WritesLog() bool {
	switch a.Command {
	case "create", "wait-for", "destroy", "gather", "agent", "image-based":
		return true
	}
	return false
}

// ConsumesAssets reports whether the command reads and then deletes generated
// assets the user may have modified (docs/metrics-schema.md,
// cluster_installation_modification).
func (a Args) ConsumesAssets() bool {
	return a.Command == "create" && (a.Target == "cluster" || a.Target == "ignition-configs")
}

// HasStageTimeline reports whether cluster_installation_duration is emitted
// for this command: `create cluster`, `wait-for ...` and `agent wait-for ...`.
func (a Args) HasStageTimeline() bool {
	return (a.Command == "create" && a.Target == "cluster") || a.Command == "wait-for" || a.AgentWait()
}

// AgentWait reports whether the command is `agent wait-for bootstrap-complete`
// or `agent wait-for install-complete`, whose stages are the agent stages
// (rendezvous, validation, preparation, bootstrap, operators).
func (a Args) AgentWait() bool {
	return a.Command == "agent" && strings.HasPrefix(a.Target, "wait-for/") && a.Target != "wait-for/"+Other
}

// KnownTarget reports whether target is a target label that ParseArgs gives
// for command: "cluster" for "create", "wait-for/install-complete" for
// "agent". For checking a label that was recorded earlier.
func KnownTarget(command, target string) bool {
	if subs, ok := subcommands[command]; ok {
		sub, t, hasT := strings.Cut(target, "/")
		targets, ok := subs[sub]
		return ok && (!hasT || t == Other || closed(t, targets) == t)
	}
	targets := commands[command]
	return target == Other || closed(target, targets) == target
}
