package stages

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

func readAll(t *testing.T, r io.Reader, maxLine int) []string {
	t.Helper()
	var lines []string
	if err := ReadLines(r, maxLine, func(l []byte) { lines = append(lines, string(l)) }); err != nil {
		t.Fatal(err)
	}
	return lines
}

func TestReadLines(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		maxLine int
		want    []string
	}{
		{"empty", "", 10, nil},
		{"one line", "a\n", 10, []string{"a"}},
		{"no final newline", "a\nb", 10, []string{"a", "b"}},
		{"empty lines", "\n\n", 10, []string{"", ""}},
		{"crlf kept for the tracker", "a\r\nb\r\n", 10, []string{"a\r", "b\r"}},
		{"cut at maxLine", "0123456789abc\nshort\n", 10, []string{"0123456789", "short"}},
		{"exactly maxLine", "0123456789\n", 10, []string{"0123456789"}},
		{"long last line", "0123456789abc", 10, []string{"0123456789"}},
		{"binary", "\x00\xff\xfe\n\x00", 10, []string{"\x00\xff\xfe", "\x00"}},
		{"default bound", strings.Repeat("x", DefaultMaxLine+5) + "\ny\n", 0, []string{strings.Repeat("x", DefaultMaxLine), "y"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(tt.in), iotest.OneByteReader(strings.NewReader(tt.in)), iotest.HalfReader(strings.NewReader(tt.in))} {
				if diff := cmp.Diff(tt.want, readAll(t, r, tt.maxLine)); diff != "" {
					t.Errorf("lines mismatch (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestReadLinesError(t *testing.T) {
	boom := errors.New("boom")
	var lines []string
	err := ReadLines(io.MultiReader(strings.NewReader("a\nb"), iotest.ErrReader(boom)), 0, func(l []byte) { lines = append(lines, string(l)) })
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want boom", err)
	}
	if diff := cmp.Diff([]string{"a", "b"}, lines); diff != "" {
		t.Errorf("lines before the error mismatch (-want +got):\n%s", diff)
	}
}

// repeatReader yields n copies of b, then a newline and "after\n".
type repeatReader struct {
	n    int64
	b    byte
	tail *strings.Reader
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return r.tail.Read(p)
	}
	k := int(min(int64(len(p)), r.n))
	for i := range k {
		p[i] = r.b
	}
	r.n -= int64(k)
	return k, nil
}

// TestReadLinesHugeLine feeds a 64 MiB line: it is cut, the rest skipped
// without being kept, and the next line still arrives.
func TestReadLinesHugeLine(t *testing.T) {
	r := &repeatReader{n: 64 << 20, b: 'x', tail: strings.NewReader("\nafter\n")}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var lens []int
	var last string
	err := ReadLines(r, DefaultMaxLine, func(l []byte) { lens = append(lens, len(l)); last = string(l) })
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{DefaultMaxLine, len("after")}, lens); diff != "" || last != "after" {
		t.Errorf("line lengths mismatch (-want +got):\n%s", diff)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Errorf("reading a 64 MiB line allocated %d bytes, want at most 4 MiB", alloc)
	}
}

func TestTrackerOnHugeLines(t *testing.T) {
	var log bytes.Buffer
	log.WriteString(logAPI)
	log.WriteString(`time="2025-01-01T10:00:09Z" level=debug msg="`)
	log.Write(bytes.Repeat([]byte("terraform output "), 1<<20))
	log.WriteString("\"\n")
	log.WriteString(fileLog("info API v1.29.6 up"))
	s := summarize(t, log.String(), Exit{})
	if got := stageNames(&s); len(got) != 3 || !s.Stages[2].Finished {
		t.Errorf("stages %v, want the api stage finished after the huge line", got)
	}
}

// TestSplitterResync: after resync the splitter drops everything up to the
// next newline, wherever the chunks are cut, and then splits as before.
func TestSplitterResync(t *testing.T) {
	for _, chunks := range [][]string{
		{"rest of a line\nline 1\nline 2"},
		{"rest of ", "a line", "\nline 1\n", "line 2"},
		{"rest of a line\n", "line 1\nline 2"},
		{"", "rest\nline 1\nli", "ne 2"},
	} {
		var got []string
		s := newSplitter(64, func(l []byte) { got = append(got, string(l)) })
		s.write([]byte("a line cut by the resync"))
		s.resync()
		for _, c := range chunks {
			s.write([]byte(c))
		}
		s.flush()
		if diff := cmp.Diff([]string{"line 1", "line 2"}, got); diff != "" {
			t.Errorf("chunks %q: lines mismatch (-want +got):\n%s", chunks, diff)
		}
	}
	var got []string
	s := newSplitter(64, func(l []byte) { got = append(got, string(l)) })
	s.resync()
	s.write([]byte("no newline at all"))
	s.flush()
	if len(got) != 0 {
		t.Errorf("a resync without a newline delivered %q", got)
	}
}
