package push

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/install-metrics/install-metrics/pkg/metrics"
	"github.com/install-metrics/install-metrics/pkg/sink/statsd"
)

func TestStatsDUDPOneDatagram(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	s := newSender(t, Config{}, "statsd://"+pc.LocalAddr().String()+"?prefix=im")
	rep := s.Send(t.Context(), testInv())
	if len(rep.Warnings) != 0 {
		t.Fatalf("warnings %q", warnings(rep))
	}
	buf := make([]byte, 65535)
	_ = pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(string(buf[:n]), "\n")
	want := statsd.Lines(metrics.Samples(testInv(), metrics.SampleOptions{}), "im")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("datagram mismatch (-want +got):\n%s", diff)
	}
}

func TestStatsDTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var (
		wg  sync.WaitGroup
		got []string
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		sc := bufio.NewScanner(c)
		for sc.Scan() {
			got = append(got, sc.Text())
		}
	}()
	s := newSender(t, Config{Joined: true}, "statsd+tcp://"+ln.Addr().String())
	rep := s.Send(t.Context(), testInv())
	wg.Wait()
	if len(rep.Warnings) != 0 {
		t.Fatalf("warnings %q", warnings(rep))
	}
	// Joined mode: StatsD still gets one line per asset.
	want := statsd.Lines(metrics.Samples(testInv(), metrics.SampleOptions{}), "")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lines mismatch (-want +got):\n%s", diff)
	}
}

func TestStatsDTCPRefusedIsSpooled(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := newSender(t, Config{}, "statsd+tcp://"+addr)
	rep := s.Send(t.Context(), testInv())
	want := []string{"statsd+tcp://" + addr + ": dial tcp " + addr + ": connect: connection refused; kept in the spool for the next run or \"install-metrics metrics flush\""}
	if diff := cmp.Diff(want, warnings(rep)); diff != "" {
		t.Errorf("warnings mismatch (-want +got):\n%s", diff)
	}
	if n := len(spoolEntries(t, s)); n != 1 {
		t.Errorf("%d spool entries", n)
	}
}

func TestStatsDUnresolvableHostIsSpooled(t *testing.T) {
	s := newSender(t, Config{}, "statsd://statsd.invalid:9125")
	s.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: "statsd.invalid", IsNotFound: true}}
	}
	rep := s.Send(t.Context(), testInv())
	want := []string{`statsd://statsd.invalid:9125: dial udp: lookup statsd.invalid: no such host; kept in the spool for the next run or "install-metrics metrics flush"`}
	if diff := cmp.Diff(want, warnings(rep)); diff != "" {
		t.Errorf("warnings mismatch (-want +got):\n%s", diff)
	}
}

// A TCP StatsD server that accepts but never reads cannot hold the send past
// the deadline (the payload is small, so it fits the socket buffer anyway).
func TestStatsDTCPDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const timeout = 200 * time.Millisecond
	s := newSender(t, Config{Timeout: timeout}, "statsd+tcp://"+ln.Addr().String())
	if d := timed(func() { s.Send(t.Context(), testInv()) }); d > timeout+slack {
		t.Errorf("Send took %v", d)
	}
}
