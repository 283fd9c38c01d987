// Package journal is the write-ahead record of install-metrics (issue 16):
// a durable record of one wrapped run, written before the installer starts,
// held under a lock for the wrapper's whole life, completed when the
// installer ends and marked per sink as each one takes the samples. A record
// whose owner died (its lock is free) is taken over by the next invocation
// or `metrics flush` and sent as it stands.
//
// One run is one entry in <state dir>/journal (0700): a lock file
// <id>.lock (0600), held with flock(LOCK_EX) by the owner, and, once a
// state must be durable on its own, a JSON record <id>.json (0600). The id
// is time-ordered and unique (%020d Unix nanoseconds, a dash, 16 random
// hex digits); sinks use it as an idempotency key.
//
// Begin, Ended and Note write the entry's state into one of two slots of
// the lock file with one pwrite (slots.go), and a finished run leaves its
// lock file as the journal's spare, spare.lock, which the next Begin
// renames to its own (newLock): a run whose only sink is the textfile
// creates no file in the journal and removes none, where every file
// created here cost 0.1-0.9 ms (docs/benchmarks.md). A write that
// must be durable before something else happens (a sink marked Sending
// before its request, a Done that leaves sinks to send) replaces the
// record: a temporary file, fsync, rename, fsync of the directory. A
// reader takes the valid state with the highest write count, from the
// record or either slot; a write to a slot never overwrites the last
// fsynced one, so a write torn by a power loss leaves the state before.
// Begin's fsyncs (lock file and directory) run Config.BeginSyncDelay
// later, in the background, or never for a shorter run. Removing a
// finished entry writes a tombstone (every sink Done) into a slot first,
// so a kill between the two removals never brings an earlier state back.
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
// is still being read) Entry.Ended notes how the installer ended: a record
// taken over then is sent with that exit code, result and wall time. Lock
// files of the format before the slots (an "ended" or "note" line over a
// provisional record) are still read.
package journal
