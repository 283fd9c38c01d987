package stages

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxLine is how much of one line is kept when the caller gives no
// bound: installer lines that matter are short, terraform and Cluster API
// debug lines can be megabytes.
const DefaultMaxLine = 64 << 10

// readChunk is the size of one read. Large reads keep the per-byte cost near
// that of memchr.
const readChunk = 256 << 10

// ReadLines reads r to its end and calls fn once per line, without the line
// ending. A line longer than maxLine (DefaultMaxLine when maxLine <= 0) is cut
// to its first maxLine bytes and the rest is skipped without being buffered,
// so memory stays bounded whatever r holds; NUL bytes and invalid UTF-8 are
// passed through. The slice given to fn is only valid during the call. A last
// line without a newline is still delivered. ReadLines returns nil at EOF and
// the read error otherwise.
func ReadLines(r io.Reader, maxLine int, fn func(line []byte)) error {
	s := newSplitter(maxLine, fn)
	buf := make([]byte, readChunk)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			s.write(buf[:n])
		}
		if err != nil {
			s.flush()
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("reading log: %w", err)
		}
	}
}

// splitter turns a stream of chunks into lines of at most max bytes.
type splitter struct {
	max  int
	fn   func([]byte)
	part []byte // the start of a line that has not ended yet, at most max bytes
	over bool   // the pending line is longer than max: skip to its end
	drop bool   // the stream resumed mid-line: drop everything up to the next newline
}

func newSplitter(maxLine int, fn func([]byte)) *splitter {
	if maxLine <= 0 {
		maxLine = DefaultMaxLine
	}
	return &splitter{max: maxLine, fn: fn}
}

// write feeds the next chunk of the stream.
func (s *splitter) write(p []byte) {
	if s.drop {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			return
		}
		s.drop = false
		p = p[i+1:]
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.add(p)
			return
		}
		if len(s.part) == 0 && !s.over {
			line := p[:i]
			if len(line) > s.max {
				line = line[:s.max]
			}
			s.fn(line)
		} else {
			s.add(p[:i])
			s.emit()
		}
		p = p[i+1:]
	}
}

// add keeps as much of p as fits in the pending line.
func (s *splitter) add(p []byte) {
	if s.over {
		return
	}
	if s.part == nil {
		s.part = make([]byte, 0, min(s.max, 4<<10))
	}
	room := s.max - len(s.part)
	if len(p) > room {
		p = p[:room]
		s.over = true
	}
	s.part = append(s.part, p...)
}

func (s *splitter) emit() {
	s.fn(s.part)
	s.part = s.part[:0]
	s.over = false
}

// flush delivers a pending line that has no newline yet.
func (s *splitter) flush() {
	if len(s.part) > 0 || s.over {
		s.emit()
	}
}

// reset forgets a pending partial line (the file was truncated).
func (s *splitter) reset() {
	s.part = s.part[:0]
	s.over = false
	s.drop = false
}

// resync forgets a pending partial line and drops what comes up to the next
// newline: the stream goes on from some point inside a line.
func (s *splitter) resync() {
	s.reset()
	s.drop = true
}
