package otlp

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
)

// BenchmarkTrace builds and encodes the trace of a create cluster.
func BenchmarkTrace(b *testing.B) {
	inv := invocations()["create-cluster-success"]
	labels := closedLabels(*inv)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := proto.Marshal(Trace(inv, labels, [][2]string{{"service.name", "install-metrics"}}, nil, "")); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSendHealthy is one Send to a healthy local collector (issue 15:
// at most 5 ms): a new connection each time, as in the wrapper.
func BenchmarkSendHealthy(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer srv.Close()
	u, err := ParseURL("otlp+" + srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(u, Options{Getenv: env()})
	if err != nil {
		b.Fatal(err)
	}
	bt := batch()
	b.ReportAllocs()
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := s.Send(ctx, bt); err != nil {
			b.Fatal(err)
		}
		cancel()
	}
}
