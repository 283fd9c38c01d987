// Package sink is what every sink shares: the [Sink] interface and its
// [Batch] (the samples of one invocation and, for per-invocation sinks such
// as traces, the invocation itself), [NotDeliveredError] (the batch provably
// did not arrive and may be spooled and resent), [CorruptError], the sink
// [URL] and its [Parse] (kept here, small, so that pkg/spool can validate
// what it reads back without importing the sender), and the message helpers
// that keep every failure one line without a secret ([OneLine], [Redact]).
//
// Each sink lives in its own package below: textfile (the local aggregated
// file), gateway (the aggregation push gateway, with its test fake in
// gateway/gatewaytest) and statsd. pkg/push decides which batch goes where.
package sink
