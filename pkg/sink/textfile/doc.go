// Package textfile is the local aggregated textfile sink: counters and
// histograms summed across invocations in a Prometheus text file that
// node_exporter's textfile collector can read.
//
// Concurrent runs are serialised by an flock on PATH.lock (a blocking lock
// bounded by the deadline); the new file is written beside the old one,
// fsynced, renamed into place and the directory fsynced, so readers see the
// old or the new file and no update is lost. The first line is a comment
// holding a SHA-256 of the rest: when it matches and the file already has
// every series of the run, the update adds to those lines in place without
// parsing (counters and every line of a histogram: its _bucket lines, _sum
// and _count); otherwise the file is parsed with expfmt's text parser and
// rewritten sorted, histograms summed bucket by bucket. A file that does not
// parse, or holds our families with another type, impossible values or
// histogram buckets that are not cumulative, is moved aside to
// PATH.corrupt-<UTC time> with one warning and a fresh one is started. A
// path that is a symbolic link, a directory or not writable is a
// sink.NotDeliveredError (the sender spools the batch).
package textfile
