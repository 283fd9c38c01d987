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
// # The local textfile
//
// Counters with the same labels are summed across invocations. Concurrent
// runs are serialised by an flock on PATH.lock (a blocking lock bounded by
// the deadline); the new file is written beside the old one, fsynced,
// renamed into place and the directory fsynced, so readers see the old or
// the new file and no update is lost. The first line is a comment holding a
// SHA-256 of the rest: when it matches and the file already has the run's
// series, the update adds to those lines in place without parsing (a
// 1,000-series file takes about 2ms, fsync included); otherwise the file is
// parsed with expfmt's text parser and rewritten sorted. A file that does not
// parse, or holds our families with another type or impossible values, is
// moved aside to PATH.corrupt-<UTC time> with one warning and a fresh one is
// started. A path that is a symbolic link, a directory or not writable costs
// one warning and the samples go to the spool.
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
