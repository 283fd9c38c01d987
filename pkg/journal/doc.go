// Package journal is the write-ahead record of install-metrics (issue 16):
// a durable record of one wrapped run, written before the installer starts,
// held under a lock for the wrapper's whole life, completed when the
// installer ends and marked per sink as each one takes the samples. A record
// whose owner died (its lock is free) is taken over by the next invocation
// or `metrics flush` and sent as it stands.
//
// One run is one entry in <state dir>/journal (0700): a JSON record
// <id>.json (0600) and a lock file <id>.lock held with flock(LOCK_EX) by the
// owner. The lock is a separate file because the record is replaced by
// rename, and an flock lives on the inode. The id is time-ordered and unique
// (%020d Unix nanoseconds, a dash, 16 random hex digits); sinks use it as an
// idempotency key.
//
// Every state change is one small atomic replace: write a temporary file,
// fsync it, rename it over the record, fsync the directory. Begin is one
// such write and nothing else, so the installer's start waits for one file
// fsync and one directory fsync (docs/reliability.md has the figure). With
// Config.DeferBeginSync those two fsyncs run in the background while the
// installer starts: the record survives the wrapper's death (SIGKILL) as
// soon as Begin returns, and a power loss once Entry.Synced returns.
//
// Each sink of an entry is in one of three states: Pending (not yet tried,
// or provably not delivered: send it), Sending (the request may have been
// written: never resend, except to a sink that is idempotent by id, like the
// textfile) and Done. Records are validated when read: a truncated, foreign
// or oversized record is moved aside with one warning and never sent.
//
// A provisional record (Begin, before Complete) has Result Interrupted and
// ExitCode -1, since no exit code is known; the metrics layer maps it to
// return="other". Between the installer's exit and Complete (the log's tail
// is still being read) Entry.Ended notes how the installer ended in the
// entry's lock file with one pwrite, no rename: a record taken over while
// still provisional is sent with that exit code, result and wall time.
package journal
