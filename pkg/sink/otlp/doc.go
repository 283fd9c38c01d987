// Package otlp is the OTLP trace sink of contract v2 (docs/metrics-schema.md,
// "Sink URLs"): each invocation becomes one trace, sent over OTLP/HTTP in
// protobuf to an OpenTelemetry Collector, Jaeger or any OTLP backend.
//
// # The trace
//
// The root span "openshift-install <command> <target>" runs from the
// installer's start to its exit, with status error when the run did not
// succeed, and the attributes process.exit.code,
// cicd.pipeline.task.run.result, the closed-set labels result, version,
// platform, ci and os (the values the counters carry), and modified_assets
// (the number of modified assets, when the command consumed assets). Each
// stage the installer entered is a child span with the log's own start and
// end, the attribute finished and the same closed-set labels (so that a
// spanmetrics connector can cut stage durations by version or platform); an
// unfinished stage of a failed run has status error. The deciding line (already redacted by pkg/stages) is a span
// event on the root. Nothing else: no file name, host name or cluster name.
//
// # IDs
//
// Trace and span IDs are derived from the record (a SHA-256 of its fields),
// not drawn at random: a batch sent again from the spool is the same trace
// with the same span IDs, so a backend can never show one install as two
// traces. The parent is the run's TRACEPARENT, which the wrapper reads when
// the installer ends and keeps in the invocation record
// (record.Invocation.Traceparent, see RecordTraceparent): a trace sent later
// from the spool, by a job with another TRACEPARENT, keeps the run's parent.
// With a parent the trace ID is the parent's and the root span its child; a
// parent whose sampled flag is off sends nothing, as the SDKs' default
// parent-based sampler does. A malformed TRACEPARENT is ignored with a debug
// line and the run gets a trace of its own.
//
// # The environment
//
// As the OpenTelemetry specification says: plain "otlp" sends to
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, else to
// OTEL_EXPORTER_OTLP_ENDPOINT with v1/traces appended, else to
// http://localhost:4318/v1/traces. OTEL_EXPORTER_OTLP_TRACES_HEADERS, else
// OTEL_EXPORTER_OTLP_HEADERS, are key=value pairs with percent-encoded values;
// they are credentials: never printed, never stored (the spool holds the
// canonical URL, and the headers come from the environment at send time),
// redacted from any error body echoed back, and sent over plain http only to
// a loopback address. OTEL_SERVICE_NAME (default install-metrics) and
// OTEL_RESOURCE_ATTRIBUTES make the resource.
//
// # Failures
//
// As for the gateway: refused, DNS, TLS, no complete request written, 3xx,
// 4xx other than 400, 502, 503 and 504 mean not delivered (a
// *sink.NotDeliveredError: spooled and sent later); 500 and a timeout after
// the request was written may have stored the trace and are never resent; 400
// is reported and dropped. A 200 with partial_success.rejected_spans > 0 is
// an error that is not resent (the OTLP specification forbids the retry); a
// partial_success message with nothing rejected is a debug line.
//
// # Encoding
//
// The generated OTLP types (go.opentelemetry.io/proto/otlp) and protobuf's
// own encoder, not the SDK: the SDK with its OTLP/HTTP exporter links gRPC
// and costs every run of the wrapper far more start-up time
// (docs/benchmarks.md).
package otlp
