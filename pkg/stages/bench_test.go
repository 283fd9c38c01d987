package stages

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/install-metrics/install-metrics/pkg/stages/internal/benchlog"
)

// benchLog is a 64 MiB create-cluster log: real lines repeated, with long
// terraform and Cluster API debug lines among them (one every longEvery
// lines; none if 0).
func benchLog(b *testing.B, longEvery int) []byte {
	b.Helper()
	var buf bytes.Buffer
	if err := benchlog.Write(&buf, 64<<20, longEvery, 1); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkClassify measures the whole path, reader and tracker, in MB/s.
func BenchmarkClassify(b *testing.B) {
	b.Run("long-lines", func(b *testing.B) { benchClassify(b, benchLog(b, benchlog.LongEvery)) })
	b.Run("short-lines", func(b *testing.B) { benchClassify(b, benchLog(b, 0)) })
}

func benchClassify(b *testing.B, data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		s, err := Classify(bytes.NewReader(data), time.Now, Exit{})
		if err != nil || s.Result != "Success" {
			b.Fatalf("%v %v", s.Result, err)
		}
	}
}

// BenchmarkReadLines measures the line splitter alone.
func BenchmarkReadLines(b *testing.B) {
	data := benchLog(b, benchlog.LongEvery)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		n := 0
		if err := ReadLines(bytes.NewReader(data), DefaultMaxLine, func([]byte) { n++ }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTrackerShortLines measures the tracker on the real lines of a
// whole file-format log, without long lines.
func BenchmarkTrackerShortLines(b *testing.B) {
	data, err := os.ReadFile(realLogs + "/real-03-create-ignition-configs-unmodified-log.log")
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(data, []byte("\n"))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		t := NewTracker(time.Now)
		for _, l := range lines {
			t.Line(l)
		}
		_ = t.Summary(Exit{})
	}
}
