package installer

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want Args
	}{
		{nil, Args{Dir: "."}},
		{[]string{"create", "cluster", "--dir", "c1"}, Args{"create", "cluster", "c1"}},
		{[]string{"--dir=c1", "--log-level", "debug", "create", "manifests"}, Args{"create", "manifests", "c1"}},
		{[]string{"--log-level=debug", "wait-for", "bootstrap-complete"}, Args{"wait-for", "bootstrap-complete", "."}},
		{[]string{"create", "bogus"}, Args{"create", "other", "."}},
		{[]string{"create"}, Args{"create", "", "."}},
		{[]string{"bogus"}, Args{"other", "", "."}},
		{[]string{"version"}, Args{"version", "", "."}},
		{[]string{"version", "extra"}, Args{"version", "", "."}},
		{[]string{"--dir", "", "destroy", "cluster"}, Args{"destroy", "cluster", "."}},
		{[]string{"gather", "bootstrap", "--bootstrap", "1.2.3.4", "--master", "5.6.7.8", "--dir", "d"}, Args{"gather", "bootstrap", "d"}},
		{[]string{"--", "create", "cluster"}, Args{"create", "cluster", "."}},
		{[]string{"create", "cluster", "--dir"}, Args{"create", "cluster", "."}},
		// Closed sets are case-sensitive, as cobra is: the installer runs
		// no "Version" command (it prints its help and fails).
		{[]string{"Version"}, Args{"other", "", "."}},
		{[]string{"CREATE", "cluster"}, Args{"other", "", "."}},
		{[]string{"create", "Cluster"}, Args{"create", "other", "."}},
		{[]string{"Agent", "wait-for", "install-complete"}, Args{"other", "", "."}},
		{[]string{"agent", "Wait-For", "install-complete"}, Args{"agent", "other", "."}},
		{[]string{"agent", "wait-for", "Install-Complete"}, Args{"agent", "wait-for/other", "."}},
		// Commands of more than one word (contract v2): flags interleaved.
		{[]string{"agent", "create", "image"}, Args{"agent", "create/image", "."}},
		{[]string{"agent", "--dir", "c1", "create", "--log-level=debug", "image"}, Args{"agent", "create/image", "c1"}},
		{[]string{"--log-level", "debug", "agent", "wait-for", "--dir=c1", "install-complete"}, Args{"agent", "wait-for/install-complete", "c1"}},
		{[]string{"agent", "create"}, Args{"agent", "create", "."}},
		{[]string{"agent"}, Args{"agent", "", "."}},
		{[]string{"agent", "bogus", "image"}, Args{"agent", "other", "."}},
		{[]string{"agent", "create", "bogus"}, Args{"agent", "create/other", "."}},
		{[]string{"image-based", "wait-for", "install-complete"}, Args{"image-based", "other", "."}},
		{[]string{"image-based", "create", "image", "--dir", "ib"}, Args{"image-based", "create/image", "ib"}},
	} {
		if diff := cmp.Diff(tc.want, ParseArgs(tc.args)); diff != "" {
			t.Errorf("ParseArgs(%q) mismatch (-want +got):\n%s", tc.args, diff)
		}
	}
}

// TestAgentTargets gives every agent and image-based target of
// docs/installer.md section 14 its label and its properties.
func TestAgentTargets(t *testing.T) {
	for _, tc := range []struct {
		words    string
		target   string
		timeline bool
	}{
		{"agent create agent-config-template", "create/agent-config-template", false},
		{"agent create cluster-manifests", "create/cluster-manifests", false},
		{"agent create image", "create/image", false},
		{"agent create pxe-files", "create/pxe-files", false},
		{"agent create config-image", "create/config-image", false},
		{"agent create unconfigured-ignition", "create/unconfigured-ignition", false},
		{"agent wait-for bootstrap-complete", "wait-for/bootstrap-complete", true},
		{"agent wait-for install-complete", "wait-for/install-complete", true},
		{"agent wait-for other-thing", "wait-for/other", false},
		{"agent gather bootstrap", "gather/bootstrap", false},
		{"image-based create image-config-template", "create/image-config-template", false},
		{"image-based create image", "create/image", false},
		{"image-based create config-template", "create/config-template", false},
		{"image-based create config-image", "create/config-image", false},
	} {
		words := strings.Fields(tc.words)
		a := ParseArgs(append(words, "--dir", "d"))
		if a.Command != words[0] || a.Target != tc.target {
			t.Errorf("%s: command %q target %q, want %q %q", tc.words, a.Command, a.Target, words[0], tc.target)
		}
		if a.HasStageTimeline() != tc.timeline || a.AgentWait() != tc.timeline {
			t.Errorf("%s: HasStageTimeline %v AgentWait %v, want %v", tc.words, a.HasStageTimeline(), a.AgentWait(), tc.timeline)
		}
		if !a.WritesLog() || a.ConsumesAssets() {
			t.Errorf("%s: WritesLog %v ConsumesAssets %v", tc.words, a.WritesLog(), a.ConsumesAssets())
		}
	}
}

func TestCommandProperties(t *testing.T) {
	cluster := ParseArgs([]string{"create", "cluster"})
	if !cluster.WritesLog() || !cluster.ConsumesAssets() || !cluster.HasStageTimeline() {
		t.Errorf("create cluster: %+v", cluster)
	}
	ign := ParseArgs([]string{"create", "ignition-configs"})
	if !ign.ConsumesAssets() || ign.HasStageTimeline() {
		t.Errorf("create ignition-configs: %+v", ign)
	}
	v := ParseArgs([]string{"version"})
	if v.WritesLog() || v.ConsumesAssets() {
		t.Errorf("version: %+v", v)
	}
	if !ParseArgs([]string{"wait-for", "install-complete"}).HasStageTimeline() {
		t.Error("wait-for must have a stage timeline")
	}
	if got := ParseArgs([]string{"--dir", "c1"}).LogPath(); got != "c1/.openshift_install.log" {
		t.Errorf("LogPath = %q", got)
	}
	if NormalizePlatform("aws") != "aws" || NormalizePlatform("AWS ") != UnknownPlatform {
		t.Error("NormalizePlatform")
	}
}

func TestKnownTarget(t *testing.T) {
	for _, tc := range []struct {
		command, target string
		want            bool
	}{
		{"create", "cluster", true}, {"create", "bogus", false}, {"create", "other", true},
		{"agent", "wait-for/install-complete", true}, {"agent", "create/image", true},
		{"agent", "create", true}, {"agent", "create/other", true}, {"agent", "create/bogus", false},
		{"agent", "wait-for/bogus", false}, {"agent", "bogus/image", false},
		{"image-based", "create/config-image", true}, {"image-based", "wait-for/install-complete", false},
	} {
		if got := KnownTarget(tc.command, tc.target); got != tc.want {
			t.Errorf("KnownTarget(%q, %q) = %v, want %v", tc.command, tc.target, got, tc.want)
		}
	}
}
