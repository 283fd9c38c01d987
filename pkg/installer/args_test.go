package installer

import (
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
		{[]string{"agent", "create", "image"}, Args{"agent", "create", "."}},
	} {
		if diff := cmp.Diff(tc.want, ParseArgs(tc.args)); diff != "" {
			t.Errorf("ParseArgs(%q) mismatch (-want +got):\n%s", tc.args, diff)
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
