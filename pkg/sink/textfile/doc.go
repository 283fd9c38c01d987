// Package textfile is the local aggregated textfile sink: counters and
// histograms summed across invocations in Prometheus text files that
// node_exporter's textfile collector can read.
//
// While PATH is smaller than Textfile.ShardAt (DefaultShardAt, 256 KiB)
// and has no shard, it holds everything: a run writes one file with one
// fsync. The update that finds it larger moves the histograms into shards,
// where they stay: the counter families live in PATH itself; the histogram
// families, whose series all carry a version label, live in one shard file
// per version beside it: for dir/metrics.prom the histograms of 4.16 are in
// dir/metrics.histograms-4.16.prom (ShardPath; for a PATH not ending in
// .prom, PATH.histograms-4.16.prom). A run so rewrites two small files, not
// the histograms of every version ever installed. node_exporter reads every
// *.prom file of its directory and merges same-named families whose HELP
// and TYPE agree (ours do); a series is in exactly one file. Only values of
// the version label's closed set name a shard (4.16, 4.17-pre, 4.5-okd, dev,
// unknown): nothing else is ever written. Read and ReadFamilies return PATH
// merged with its shards, and Files lists them.
//
// Concurrent runs are serialised by an flock on PATH.lock (a blocking lock
// bounded by the deadline), which covers PATH and all its shards. Each new
// file is written beside the old one, and its fsync starts at once in its
// own goroutine while the next one (a run writes at most two) is rendered;
// then the files are renamed into place, shards first and PATH last, and
// the directory fsynced once, so readers see the old or the new file and no
// update is lost.
//
// Every file works on its own. Its first line is a comment holding a
// CRC-32C of the rest: when it matches and the file already has every
// series of the run, the update adds to those lines in place without
// parsing (counters and every line of a histogram: its _bucket lines, _sum
// and _count); otherwise the file is parsed with expfmt's text parser and
// rewritten sorted, histograms summed bucket by bucket. Comment lines after
// it name the journal batches the file holds, so a batch sent again after
// a kill between two renames is added only to the file that lacks it. A
// file that does not parse, or holds our families with another type,
// impossible values or histogram buckets that are not cumulative (a shard:
// anything but its version's histograms), is moved aside to
// FILE.corrupt-<UTC time> with one warning and a fresh one is started; the
// other files are kept. A path that is a symbolic link, a directory or not
// writable is a sink.NotDeliveredError (the sender spools the batch).
//
// A PATH that holds the histograms of every version (below ShardAt, or
// written before the shards) has them moved by the first update that finds
// it at ShardAt or beyond: it writes each version's shard with them and
// a comment line naming PATH's content (its CRC-32C and size), then PATH
// without them. After a kill in between, PATH still has that content: the
// next update does not add them again, and Read counts them once.
// (node_exporter, which knows nothing of that line, finds those series in
// two files until then and reports them as duplicates.)
//
// Deleting PATH resets its counters only: to start afresh, delete PATH and
// its shards (Files).
package textfile
