package stages

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/install-metrics/install-metrics/pkg/record"
)

// addLogSeeds seeds a fuzzer with every test log, whole.
func addLogSeeds(f *testing.F, add func(data []byte)) {
	f.Helper()
	for _, dir := range []string{realLogs, synthetic} {
		paths, err := filepath.Glob(filepath.Join(dir, "*.log"))
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			add(data)
		}
	}
}

func FuzzReadLines(f *testing.F) {
	addLogSeeds(f, func(data []byte) { f.Add(data, uint16(80)) })
	f.Add([]byte("a\nbb\n\nccc"), uint16(1))
	f.Add([]byte("\x00\xff\r\n\n"), uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, max uint16) {
		maxLine := int(max)%4096 + 1
		var lines [][]byte
		err := ReadLines(iotest.HalfReader(bytes.NewReader(data)), maxLine, func(l []byte) {
			lines = append(lines, bytes.Clone(l))
		})
		if err != nil {
			t.Fatal(err)
		}
		want := bytes.Count(data, []byte("\n"))
		if len(data) > 0 && data[len(data)-1] != '\n' {
			want++
		}
		if len(lines) != want {
			t.Fatalf("%d lines, want %d", len(lines), want)
		}
		cut := false
		for i, whole := range bytes.SplitAfter(data, []byte("\n")) {
			if i >= len(lines) {
				break
			}
			whole = bytes.TrimSuffix(whole, []byte("\n"))
			l := lines[i]
			if len(l) > maxLine || bytes.IndexByte(l, '\n') >= 0 {
				t.Fatalf("line %d has %d bytes (max %d) or a newline", i, len(l), maxLine)
			}
			if !bytes.HasPrefix(whole, l) || (len(whole) <= maxLine && len(l) != len(whole)) {
				t.Fatalf("line %d is %q, want the start of %q", i, l, whole)
			}
			cut = cut || len(whole) > maxLine
		}
		if !cut {
			joined := bytes.Join(lines, []byte("\n"))
			if len(data) > 0 && data[len(data)-1] == '\n' {
				joined = append(joined, '\n')
			}
			if !bytes.Equal(joined, data) {
				t.Fatalf("lines do not add up to the input")
			}
		}
	})
}

func FuzzTracker(f *testing.F) {
	addLogSeeds(f, func(data []byte) { f.Add(data, int16(-1), false) })
	f.Add([]byte(logOperators+fileLog("error failed to initialize the cluster: x")), int16(6), false)
	f.Add([]byte("INFO Install complete!\nERROR failed to\ncreate cluster\n"), int16(1), false)
	f.Add([]byte("08:23:04  level=info msg=\"API v1 up\"\n23:59:59 [x] + \x1b[31mFATAL\x1b[0m boom\n"), int16(-1), true)
	f.Fuzz(func(t *testing.T, data []byte, code int16, signaled bool) {
		tr := NewTracker(fixedNow)
		if err := ReadLines(bytes.NewReader(data), 0, tr.Line); err != nil {
			t.Fatal(err)
		}
		exit := Exit{Code: int(code), Known: code >= 0, Signaled: signaled}
		s := tr.Summary(exit)
		checkSummary(t, s)
		if !exit.Known && !exit.Signaled && s.Result == record.Success && !hasSuccessLine(string(data)) {
			t.Fatalf("Success without an exit code or a success line (deciding %q)", s.Deciding)
		}
		if got := tr.retained(); got > 1<<20 {
			t.Fatalf("tracker keeps %d bytes", got)
		}
	})
}

var bases = []Basis{BasisSignal, BasisExitCode, BasisLogLine, BasisStage, BasisEndOfLog, BasisNothing}

// checkSummary checks what holds for every Summary.
func checkSummary(t *testing.T, s Summary) {
	t.Helper()
	if !s.Result.Valid() || !slices.Contains(bases, s.Basis) {
		t.Fatalf("result %q basis %q", s.Result, s.Basis)
	}
	if !slices.Contains([]string{"", FormatFile, FormatPipe, FormatTerminal}, s.Format) {
		t.Fatalf("format %q", s.Format)
	}
	prev := -1
	for _, st := range s.Stages {
		i := slices.Index(record.AllStageNames, st.Name)
		if i <= prev || st.End.Before(st.Start) {
			t.Fatalf("stages %+v", s.Stages)
		}
		prev = i
	}
	for _, text := range []string{s.Deciding, s.Version} {
		if !utf8.ValidString(text) || len(text) > maxDeciding+len("…") || strings.ContainsFunc(text, func(r rune) bool { return r < 0x20 }) {
			t.Fatalf("text %q is not one short printable line", text)
		}
	}
}

// retained is how many bytes the tracker's buffers hold on to.
func (t *Tracker) retained() int {
	r := &t.run
	return cap(t.lower) + cap(t.p.msg) + cap(t.p.ansi) + cap(r.named.text) + cap(r.staged.text) +
		cap(r.lastErr.text) + len(r.successText) + len(r.version)
}
