// Package push turns one record.Invocation into the three counter families of
// docs/metrics-schema.md and sends them to sinks: an aggregation push gateway
// (zapier/prom-aggregation-gateway contract) over HTTP(S), a StatsD daemon over
// UDP or TCP with DogStatsD tags, and a local textfile that sums counters across
// invocations and that node_exporter's textfile collector can read.
//
// # Samples
//
// [Samples] builds the samples; every label value comes from a closed set and
// anything outside it becomes "other" or "unknown", never free text. Stage and
// command durations are bucketed by [Bucket]; installer versions are
// normalised by [NormalizeVersion]. The families keep the schema's names even
// though counters conventionally end in _total (promlint says so; the schema is
// the agreed interface).
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
// # StatsD and the joined modification list
//
// With Config.Joined the gateway and the textfile get one modification sample
// whose asset label is the sorted, comma-joined list. A DogStatsD tag value
// cannot hold a comma, so StatsD sinks always get one line per asset.
package push
