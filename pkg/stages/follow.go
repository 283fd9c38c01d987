package stages

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// DefaultPoll is how often Follow looks for new lines when given no interval.
const DefaultPoll = 250 * time.Millisecond

// maxDrain bounds how much Follow reads before it looks at ctx and the file
// again.
const maxDrain = 64 << 20

// FinalTail bounds what Follow reads once its context is done. The installer
// has exited then and its log is complete, but a follower can be far behind
// when a lot was written just before the end (a debug dump, a sparse or
// garbled file): only the last FinalTail bytes of what is left are read,
// the end of a log being what decides the result. Without the bound the time
// a wrapper adds after the installer exited would grow with the log (2 GiB
// written at once: seconds).
const FinalTail = 16 << 20

// Offset returns the size of the file at path, 0 if it does not exist or
// cannot be read: where the lines of a run that has not started yet will
// begin in the installer's appended log.
func Offset(path string) int64 {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return 0
	}
	return st.Size()
}

// Follow feeds t the lines appended to the file at path from offset on,
// while ctx is live: the file, or its directory, may not exist yet; it may be
// truncated (read again from the start), deleted (the open file is read on)
// or replaced (the new file is read from its start). It polls every poll
// (DefaultPoll if poll <= 0) when there is nothing new, and never busy-waits.
// Once ctx is done it reads what is left up to the size the file has then
// (what is appended later is another process's), at most its last FinalTail
// bytes, starting at a line boundary; it delivers a last line without a
// newline, and returns. Memory, and the time taken after ctx is done, stay
// bounded whatever the file holds. The error is nil unless the file could not be read at all or a read
// failed at the end; t has every line read before it.
func Follow(ctx context.Context, path string, offset int64, t *Tracker, poll time.Duration) error {
	return followLines(ctx, path, offset, t.Line, poll)
}

// followLines is Follow with any consumer of lines.
func followLines(ctx context.Context, path string, offset int64, line func([]byte), poll time.Duration) error {
	if poll <= 0 {
		poll = DefaultPoll
	}
	f := &follower{
		path:   path,
		offset: offset,
		poll:   poll,
		sp:     newSplitter(DefaultMaxLine, line),
		buf:    make([]byte, readChunk),
	}
	defer f.close()
	return f.run(ctx)
}

type follower struct {
	path   string
	offset int64 // where the first file opened is read from
	poll   time.Duration
	sp     *splitter
	buf    []byte
	timer  *time.Timer

	file   *os.File
	info   os.FileInfo
	pos    int64
	opened bool // a file was opened once: later ones are read from 0

	// Once ctx is done, the current file is read up to limit (its size
	// then); limited says limit is set for the current file and position.
	limited bool
	limit   int64
}

func (f *follower) run(ctx context.Context) error {
	switches := 0 // new files read after ctx is done: a bound, not a loop
	for {
		done := ctx.Err() != nil
		if f.file == nil {
			err := f.open()
			switch {
			case err == nil:
			case done && errors.Is(err, fs.ErrNotExist):
				return nil
			case done:
				return fmt.Errorf("following installer log: %w", err)
			default:
				f.sleep(ctx)
				continue
			}
		}
		if done && !f.limited {
			f.finish()
		}
		n, err := f.drain(ctx)
		if err != nil {
			f.sp.flush()
			f.close()
			if done {
				return fmt.Errorf("following installer log: %w", err)
			}
			f.sleep(ctx)
			continue
		}
		if n >= maxDrain {
			continue // more to read: look at ctx and the file first
		}
		switched := f.rotated()
		if done && (!switched || switches >= 3) {
			f.sp.flush()
			return nil
		}
		if switched && done {
			switches++
		}
		if n == 0 && !switched {
			f.sleep(ctx)
		}
	}
}

// ErrNotRegular is returned by Follow when the log path is a directory, a
// FIFO or a device, which the installer never writes.
var ErrNotRegular = errors.New("not a regular file")

// open opens the file; the first one is read from offset (from 0 if it is
// now shorter: it was truncated or replaced since offset was measured).
func (f *follower) open() error {
	file, err := os.OpenFile(f.path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return err
	}
	info, err := file.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = fmt.Errorf("%s: %w", f.path, ErrNotRegular)
	}
	if err != nil {
		file.Close()
		return err
	}
	var pos int64
	if !f.opened && f.offset > 0 && f.offset <= info.Size() {
		pos = f.offset
	}
	if pos > 0 {
		if _, err := file.Seek(pos, io.SeekStart); err != nil {
			file.Close()
			return err
		}
	}
	f.file, f.info, f.pos, f.opened, f.limited = file, info, pos, true, false
	return nil
}

// finish sets the limit of the final read, once ctx is done: the file's size
// now, and when more than FinalTail bytes are left, the read goes on from
// the first line that starts in the last FinalTail bytes.
func (f *follower) finish() {
	f.limited = true
	st, err := f.file.Stat()
	if err != nil {
		f.limit = f.pos + FinalTail
		return
	}
	f.limit = st.Size()
	if f.limit-f.pos <= FinalTail {
		return
	}
	// One byte early: if it is a newline, the next line is read whole.
	from := f.limit - FinalTail - 1
	if _, err := f.file.Seek(from, io.SeekStart); err != nil {
		f.limit = f.pos + FinalTail
		return
	}
	f.pos = from
	f.sp.resync()
}

// drain reads up to EOF (or maxDrain bytes) and feeds the lines. When ctx
// ends meanwhile it returns at once, so that the final read starts with its
// limit set.
func (f *follower) drain(ctx context.Context) (int, error) {
	total := 0
	for total < maxDrain {
		buf := f.buf
		if f.limited {
			if f.pos >= f.limit {
				return total, nil
			}
			buf = buf[:min(int64(len(buf)), f.limit-f.pos)]
		} else if total > 0 && ctx.Err() != nil {
			return total, nil
		}
		n, err := f.file.Read(buf)
		if n > 0 {
			f.sp.write(f.buf[:n])
			f.pos += int64(n)
			total += n
		}
		if errors.Is(err, io.EOF) || (n == 0 && err == nil) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// rotated handles a truncated or replaced file and reports whether reading
// goes on from a new start.
func (f *follower) rotated() bool {
	st, err := os.Stat(f.path)
	if err != nil {
		return false // deleted: the installer may still write to the open file
	}
	if !os.SameFile(st, f.info) {
		f.sp.flush()
		f.close()
		return f.open() == nil
	}
	if st.Size() < f.pos {
		if _, err := f.file.Seek(0, io.SeekStart); err != nil {
			f.close()
			return false
		}
		f.pos = 0
		f.limited = false
		f.sp.reset()
		return true
	}
	return false
}

func (f *follower) sleep(ctx context.Context) {
	if f.timer == nil {
		f.timer = time.NewTimer(f.poll)
	} else {
		f.timer.Reset(f.poll)
	}
	select {
	case <-ctx.Done():
		f.timer.Stop() // Go 1.23+: no stale tick is left in the channel
	case <-f.timer.C:
	}
}

func (f *follower) close() {
	if f.file != nil {
		f.file.Close()
		f.file = nil
	}
	if f.timer != nil {
		f.timer.Stop()
	}
}
