// Package spool keeps pushes that provably did not arrive (a
// sink.NotDeliveredError), so that a later run or `install-metrics metrics
// flush` sends them exactly once: one 0600 JSON file per push in a 0700
// directory, named by creation time and sink, claimed by an atomic rename
// before sending so that two runs flushing at once never send the same entry
// twice.
//
// An entry holds the canonical sink URL and a sink.Batch (counter samples,
// histogram observations and, when present, the invocation), never a
// credential. Entries are written with version 2; version 1 entries (counter
// samples only, from earlier releases) still read and flush. Whatever is read
// back must pass metrics.ValidSample and sink.Parse, or it is moved aside as
// corrupt and never retried. The spool is bounded in entries, bytes and age;
// beyond the bounds the oldest go, with a warning.
package spool
