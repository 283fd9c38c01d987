package statsd

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/install-metrics/install-metrics/pkg/metrics"
	"github.com/install-metrics/install-metrics/pkg/metrics/metricstest"
	"github.com/install-metrics/install-metrics/pkg/sink"
)

func TestStatsDLines(t *testing.T) {
	inv := metricstest.Invocations()["create-cluster-success"]
	for _, joined := range []bool{false, true} {
		got := Lines(metrics.Samples(inv, metrics.SampleOptions{Joined: joined}), "im")
		want := []string{
			"im.cluster_installation_invocation:1|c|#command:create,target:cluster,os:linux,platform:aws,result:Success,return:0,version:4.16,duration:42.5,ci:false",
			"im.cluster_installation_duration:1|c|#provisioning:2.5,infrastructure:5,api:5,bootstrap:12.5,operators:22.5,success:true",
			"im.cluster_installation_modification:1|c|#asset:install-config.yaml",
			"im.cluster_installation_modification:1|c|#asset:manifests/cluster-config.yaml",
			"im.cluster_installation_modification:1|c|#asset:user-added",
			"im.cluster_installation_stage_duration_seconds:60000|ms|#stage:provisioning,finished:true,version:4.16,platform:aws,ci:false",
			"im.cluster_installation_stage_duration_seconds:300000|ms|#stage:infrastructure,finished:true,version:4.16,platform:aws,ci:false",
			"im.cluster_installation_stage_duration_seconds:180000|ms|#stage:api,finished:true,version:4.16,platform:aws,ci:false",
			"im.cluster_installation_stage_duration_seconds:720000|ms|#stage:bootstrap,finished:true,version:4.16,platform:aws,ci:false",
			"im.cluster_installation_stage_duration_seconds:1320000|ms|#stage:operators,finished:true,version:4.16,platform:aws,ci:false",
			"im.cluster_installation_command_duration_seconds:2463000|ms|#command:create,target:cluster,result:Success,version:4.16,platform:aws,ci:false",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("joined=%v: lines mismatch (-want +got):\n%s", joined, diff)
		}
	}
	// Empty labels are left out; no prefix, no dot.
	got := Lines(metrics.Samples(metricstest.Invocations()["version"], metrics.SampleOptions{}), "")
	want := []string{"cluster_installation_invocation:1|c|#command:version,os:linux,platform:unknown,result:Success,return:0,version:4.16,duration:2.5,ci:false",
		"cluster_installation_command_duration_seconds:1000|ms|#command:version,result:Success,version:4.16,platform:unknown,ci:false"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lines mismatch (-want +got):\n%s", diff)
	}
}

func TestPackDatagrams(t *testing.T) {
	lines := []string{strings.Repeat("a", 600), strings.Repeat("b", 600), strings.Repeat("c", 600), strings.Repeat("d", 2000)}
	got := packDatagrams(lines, maxDatagram)
	if len(got) != 3 || len(got[0]) != 1201 || got[1] != lines[2] || got[2] != lines[3] {
		t.Errorf("packDatagrams gave %d datagrams of sizes %d", len(got), len(got[0]))
	}
}

// BeforeWrite runs after the dial and before the first datagram; when it
// fails nothing is sent and the error is a not-delivered one (the journal
// keeps the push for later).
func TestBeforeWrite(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	u, err := sink.Parse("statsd://" + pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	samples := metrics.Samples(metricstest.Invocations()["version"], metrics.SampleOptions{})
	calls := 0
	err = New(u, nil).Send(t.Context(), sink.Batch{Samples: samples, BeforeWrite: func() error { calls++; return errors.New("journal full") }})
	if calls != 1 || !sink.IsNotDelivered(err) || !strings.Contains(err.Error(), "journal full") {
		t.Errorf("calls %d, err %v; want one call and a not-delivered error", calls, err)
	}
	_ = pc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, _, err := pc.ReadFrom(make([]byte, 2048)); err == nil {
		t.Errorf("a %d-byte datagram was sent after BeforeWrite failed", n)
	}
	if err := New(u, nil).Send(t.Context(), sink.Batch{Samples: samples, BeforeWrite: func() error { calls++; return nil }}); err != nil || calls != 2 {
		t.Errorf("calls %d, err %v", calls, err)
	}
	_ = pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := pc.ReadFrom(make([]byte, 2048)); err != nil {
		t.Errorf("no datagram after BeforeWrite passed: %v", err)
	}
}
