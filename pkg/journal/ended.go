package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/install-metrics/install-metrics/pkg/record"
)

// Ending is how the installer ended, as the wrapper knows it the moment
// its child is reaped: before the log's last lines are read and long
// before Complete.
type Ending struct {
	ExitCode int           `json:"exit"`
	Result   record.Result `json:"result"` // what the exit code alone gives
	Wall     time.Duration `json:"wall"`
	Signal   string        `json:"signal,omitempty"`
}

// endedPrefix starts the one line Ended writes at the start of the lock
// file: "ended <crc32c of the JSON, 8 hex digits> <JSON>\n".
const endedPrefix = "ended "

// maxEnded bounds the line read back.
const maxEnded = 512

// Ended notes in the entry's lock file how the installer ended, with one
// pwrite: no new file, no rename, no fsync, so it costs microseconds and
// is done the moment the installer is reaped. A record taken over while
// still provisional is sent with it (its exit code, result and wall time)
// instead of as Interrupted. A process death cannot tear one small pwrite;
// a power loss can leave anything, and a line that does not check is
// ignored. It is for the instants before Complete, which supersedes it.
func (e *Entry) Ended(end Ending) error {
	if err := checkEnding(end); err != nil {
		return err
	}
	data, err := json.Marshal(end)
	if err != nil {
		return err
	}
	line := fmt.Sprintf("%s%08x %s\n", endedPrefix, crc32.Checksum(data, crcTable), data)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.lockFd < 0 {
		return ErrClosed
	}
	if _, err := unix.Pwrite(e.lockFd, []byte(line), 0); err != nil {
		return fmt.Errorf("noting the installer's end in %s: %w", e.j.lockPath(e.id), err)
	}
	return nil
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func checkEnding(end Ending) error {
	switch {
	case end.ExitCode < 0 || end.ExitCode > 255:
		return fmt.Errorf("ending: exit code %d outside 0..255", end.ExitCode)
	case !end.Result.Valid():
		return errors.New("ending: result outside the closed set")
	case end.Wall < 0:
		return errors.New("ending: negative wall time")
	case len(end.Signal) > 32 || strings.ContainsFunc(end.Signal, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r == ' ' || r >= '0' && r <= '9') }):
		return errors.New("ending: signal name outside a-z, 0-9 and space")
	}
	return nil
}

// readEnding reads the line Ended wrote into the lock file fd, if any.
func readEnding(fd int) (Ending, bool) {
	buf := make([]byte, maxEnded)
	n, err := unix.Pread(fd, buf, 0)
	if err != nil || n == 0 {
		return Ending{}, false
	}
	line, _, ok := strings.Cut(string(buf[:n]), "\n")
	if !ok {
		return Ending{}, false
	}
	rest, ok := strings.CutPrefix(line, endedPrefix)
	if !ok {
		return Ending{}, false
	}
	sum, data, ok := strings.Cut(rest, " ")
	want, err := strconv.ParseUint(sum, 16, 32)
	if !ok || err != nil || len(sum) != 8 || uint32(want) != crc32.Checksum([]byte(data), crcTable) {
		return Ending{}, false
	}
	var end Ending
	if json.Unmarshal([]byte(data), &end) != nil || checkEnding(end) != nil {
		return Ending{}, false
	}
	return end, true
}

// applyEnding completes a provisional state with what Ended noted.
func applyEnding(st state, end Ending) state {
	st.Provisional = false
	inv := &st.Invocation
	inv.ExitCode, inv.Result, inv.Wall, inv.Signal = end.ExitCode, end.Result, end.Wall, end.Signal
	return st
}
