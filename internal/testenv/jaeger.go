package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// jaegerConfig is Jaeger v2's all-in-one with in-memory storage and every
// listener on loopback (ecosystem.md §11): the OTLP/HTTP receiver and the
// query service's HTTP and gRPC ports; no OTLP/gRPC receiver, no metrics
// endpoint, no other extension.
const jaegerConfig = `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines: {traces: {receivers: [otlp], exporters: [jaeger_storage_exporter]}}
  telemetry: {metrics: {level: none}, logs: {level: warn}}
extensions:
  jaeger_storage: {backends: {mem: {memory: {max_traces: 1000}}}}
  jaeger_query: {storage: {traces: mem}, http: {endpoint: "127.0.0.1:%d"}, grpc: {endpoint: "127.0.0.1:%d"}}
receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:%d"}}}}
exporters: {jaeger_storage_exporter: {trace_storage: mem}}
`

// StartJaeger starts the real Jaeger v2 (bin/jaeger) on 127.0.0.1 with free
// ports and in-memory storage, waits until both its query API and its OTLP
// receiver answer, stops it in t.Cleanup, and returns the OTLP/HTTP base URL
// (http://127.0.0.1:PORT; traces go to /v1/traces) and the query API's base
// URL (/api/traces/{id}, /api/v3/traces). Its own tracing is off
// (OTEL_TRACES_SAMPLER=always_off), so it dials nothing.
func StartJaeger(t testing.TB) (otlpURL, queryURL string) {
	t.Helper()
	Tool(t, "jaeger")
	queryHTTP, queryGRPC, otlpHTTP := FreePort(t), FreePort(t), FreePort(t)
	conf := filepath.Join(t.TempDir(), "jaeger.yaml")
	if err := os.WriteFile(conf, fmt.Appendf(nil, jaegerConfig, queryHTTP, queryGRPC, otlpHTTP), 0o644); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	queryURL = "http://127.0.0.1:" + strconv.Itoa(queryHTTP)
	otlpURL = "http://127.0.0.1:" + strconv.Itoa(otlpHTTP)
	startEnv(t, "jaeger", []string{"--config", "file:" + conf},
		[]string{"OTEL_TRACES_SAMPLER=always_off"},
		queryURL+"/api/services", "tcp://127.0.0.1:"+strconv.Itoa(otlpHTTP))
	return otlpURL, queryURL
}
