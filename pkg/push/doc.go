// Package push decides where the samples of one invocation go: it builds a
// [Sender] from a [Config], sends one sink.Batch (metrics.Samples: the three
// counters and the two histograms, plus the invocation for per-invocation
// sinks) to every configured sink at once under one deadline, spools what
// provably did not arrive and flushes the spool later.
//
// The metric model is in pkg/metrics, the sinks in pkg/sink/textfile,
// pkg/sink/gateway and pkg/sink/statsd, the spool in pkg/spool and `metrics
// show` in pkg/show; this package keeps the names it always had for the
// sink URL ([SinkURL], [ParseSink], [ParseSinks]) and the credentials
// ([Auth], [ParseAuth]) as aliases, so its callers change little.
//
// # Sending
//
// A [Sender] is built from a [Config] whose sinks come from [ParseSinks] and
// whose credentials come from [ParseAuth]; both validate without touching the
// network, so a bad flag is reported before the installer starts. [Sender.Send]
// sends the samples of one invocation to every sink at once under one deadline
// (Config.Timeout), then, with the time left, sends what earlier invocations
// spooled to the sinks that just proved healthy. It never returns an error:
// each failure is one warning line in the [Report] and never the exit code.
//
// A push that provably did not arrive (refused, DNS failure, TLS handshake
// failure, no complete request written, 3xx, 4xx other than 400, 502, 503,
// 504; a textfile that could not be written) is kept in the spool under
// <state dir>/spool and sent again later by the next invocation or by
// [Sender.Flush] (install-metrics metrics flush). A push that may have arrived
// (timeout or reset after the request was written, 500) is never resent: the
// gateway sums, and counting twice is worse than a warning. A 400 is reported
// with the gateway's message and dropped. The spool holds only the sink URL and
// the samples, never a credential; credentials come from the current flags at
// flush time, and only for sinks currently configured.
//
// A Timeout of 0 means "do not wait for the network": network sinks are spooled
// at once for a later flush, and only the local textfile is written.
//
// # The journal
//
// [Sender.Begin] writes a run's provisional record to the write-ahead
// journal (pkg/journal, <state dir>/journal) before the installer starts;
// [Sender.SendRun] completes it and marks every sink Sending in one durable
// write before any network request (the textfile, idempotent by the
// entry's id, does not wait for it), and removes the record, without a
// write, once the results are in. What provably did not arrive is spooled
// before the record goes, so a push is in the spool or Pending in the
// journal, never both. A record whose owner died is taken over by the next
// run (for the sinks that just took its own batch) or by [Sender.Flush]
// and sent as it stands: a network sink it says Sending is never resent,
// the textfile skips an id it already holds. With --metrics-auth
// pull-secret the token of a taken-over record is re-read from its asset
// directory.
//
// # The local textfile
//
// The default sink is the textfile DefaultTextfile(StateDir); see
// pkg/sink/textfile for how it sums runs. A textfile that cannot be written
// is spooled like a network sink.
//
// # StatsD and the joined modification list
//
// With Config.Joined the gateway and the textfile get one modification sample
// whose asset label is the sorted, comma-joined list. A DogStatsD tag value
// cannot hold a comma, so StatsD sinks always get one line per asset. All
// lines of one invocation travel in one datagram (split only beyond 1432
// bytes, at line boundaries) or, over TCP, newline-separated on one
// connection.
package push
