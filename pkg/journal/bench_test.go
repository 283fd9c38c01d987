package journal

import (
	"os"
	"testing"
	"time"
)

// benchJournal is a journal on the test's temporary directory (the same
// file system as the state directory on most machines; /tmp is ext4 on the
// benchmark machine, see docs/benchmarks.md).
func benchJournal(b *testing.B) *Journal {
	b.Helper()
	dir := os.Getenv("IM_JOURNAL_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	} else {
		dir, _ = os.MkdirTemp(dir, "bench-")
		b.Cleanup(func() { _ = os.RemoveAll(dir) })
	}
	return Open(dir+"/journal", Config{})
}

// BenchmarkBegin is what the installer's start waits for: one fsynced
// write of the record and an fsync of the directory.
func BenchmarkBegin(b *testing.B) {
	benchBegin(b, Config{})
}

// BenchmarkBeginDeferredSync is Begin with Config.DeferBeginSync: the
// start waits for the rename only.
func BenchmarkBeginDeferredSync(b *testing.B) {
	benchBegin(b, Config{DeferBeginSync: true})
}

func benchBegin(b *testing.B, cfg Config) {
	j := benchJournal(b)
	j.cfg.DeferBeginSync, j.cfg.BeginSyncDelay = cfg.DeferBeginSync, cfg.BeginSyncDelay
	for b.Loop() {
		e, err := j.Begin(startInv(), testSinks)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		e.st.Sinks = nil // every sink done: Close removes it
		_ = e.discard()
		b.StartTimer()
	}
}

// BenchmarkStateChange is one of the send phase's writes (Sending or Done
// for any number of sinks, Complete).
func BenchmarkStateChange(b *testing.B) {
	j := benchJournal(b)
	e, err := j.Begin(startInv(), testSinks)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			err = e.Sending(sinkFile, sinkGateway)
		} else {
			err = e.Pending(sinkFile, sinkGateway)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRun is the whole journal work of one run with two sinks the
// Sender batches: Begin, Complete, Sending(both), Done(both), Close.
func BenchmarkRun(b *testing.B) {
	j := benchJournal(b)
	for b.Loop() {
		e, err := j.Begin(startInv(), testSinks)
		if err == nil {
			err = e.Complete(endInv())
		}
		if err == nil {
			err = e.Sending(testSinks...)
		}
		if err == nil {
			err = e.Done(testSinks...)
		}
		if err == nil {
			err = e.Close()
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTakeOverEmpty is what every invocation pays to look for dead
// owners' records when there are none.
func BenchmarkTakeOverEmpty(b *testing.B) {
	j := benchJournal(b)
	e, err := j.Begin(startInv(), testSinks)
	if err != nil {
		b.Fatal(err)
	}
	e.st.Sinks = nil
	_ = e.discard()
	for b.Loop() {
		if _, err := j.TakeOver(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBeginDelayedSync is Begin as the wrapper runs it
// (Config.BeginSyncDelay: the fsyncs come later, or never for a short
// run): what the installer's start waits for.
func BenchmarkBeginDelayedSync(b *testing.B) {
	benchBegin(b, Config{BeginSyncDelay: time.Hour})
}
