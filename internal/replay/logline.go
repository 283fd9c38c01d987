package replay

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// entry is one line of .openshift_install.log (logrus text format):
// time="<RFC 3339>" level=<level> [msg=<value>][ <more fields>].
type entry struct {
	time  time.Time
	level string
	msg   string
	// hasMsg is false for an entry without a msg field (logrus leaves it
	// out when the message is empty).
	hasMsg bool
	// rest is whatever follows msg (further key=value fields), verbatim,
	// with its leading space.
	rest string
}

var errNotEntry = errors.New("not a time=... level=... log line")

// parseEntry reads one log line.
func parseEntry(line string) (entry, error) {
	var e entry
	s, ok := strings.CutPrefix(line, `time="`)
	if !ok {
		return e, errNotEntry
	}
	ts, s, ok := strings.Cut(s, `" level=`)
	if !ok {
		return e, errNotEntry
	}
	t, err := time.Parse(time.RFC3339, ts)
	if err != nil {
		return e, fmt.Errorf("%w: %w", errNotEntry, err)
	}
	e.time = t
	e.level, s, ok = strings.Cut(s, " ")
	if !ok {
		return e, nil
	}
	v, ok := strings.CutPrefix(s, "msg=")
	if !ok {
		e.rest = " " + s
		return e, nil
	}
	e.hasMsg = true
	if strings.HasPrefix(v, `"`) {
		end := closingQuote(v)
		if end < 0 {
			return e, fmt.Errorf("%w: unterminated msg", errNotEntry)
		}
		if e.msg, err = strconv.Unquote(v[:end+1]); err != nil {
			return e, fmt.Errorf("%w: %w", errNotEntry, err)
		}
		e.rest = v[end+1:]
		if e.rest != "" && !strings.HasPrefix(e.rest, " ") {
			return e, fmt.Errorf("%w: text after the quoted msg", errNotEntry)
		}
		return e, nil
	}
	msg, rest, found := strings.Cut(v, " ")
	e.msg = msg
	if found {
		e.rest = " " + rest
	}
	return e, nil
}

// closingQuote returns the index of the quote that ends the Go-quoted string
// at the start of s, or -1.
func closingQuote(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// render writes the entry back in the installer's format, its time in t's
// location.
func (e entry) render() string {
	var b strings.Builder
	b.WriteString(`time="`)
	b.WriteString(e.time.Format(time.RFC3339))
	b.WriteString(`" level=`)
	b.WriteString(e.level)
	if e.hasMsg {
		b.WriteString(" msg=")
		b.WriteString(quote(e.msg))
	}
	b.WriteString(e.rest)
	return b.String()
}

// quote quotes a value as logrus' text formatter does: bare when every
// character is in [A-Za-z0-9-._/@^+], else Go-quoted.
func quote(v string) string {
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.ContainsRune("-._/@^+", c)) {
			return strconv.Quote(v)
		}
	}
	return v
}

// levels orders logrus levels, most severe first.
var levels = []string{"panic", "fatal", "error", "warning", "info", "debug", "trace"}

// validLevel reports whether logrus accepts the --log-level value.
func validLevel(level string) bool {
	return level == "warn" || slices.Contains(levels, strings.ToLower(level))
}

// severity is the index of level in levels; unknown levels count as info.
func severity(level string) int {
	level = strings.ToLower(level)
	if level == "warn" {
		level = "warning"
	}
	for i, l := range levels {
		if l == level {
			return i
		}
	}
	return 4
}

// terminalLabel and terminalColor are how the installer prints levels on a
// terminal (logrus text formatter with colours).
func terminalLabel(level string) (string, int) {
	switch severity(level) {
	case 0, 1, 2:
		return strings.ToUpper(level), 31
	case 3:
		return "WARNING", 33
	case 5, 6:
		return strings.ToUpper(level), 37
	}
	return "INFO", 36
}

// stderrLines is what the installer prints on stderr for e: through a pipe
// (4.7+) one `level=<level> msg=<line>` per line of the message; on a
// terminal the coloured label and the message padded to 44 columns.
func (e entry) stderrLines(terminal bool) string {
	if terminal {
		label, color := terminalLabel(e.level)
		return fmt.Sprintf("\x1b[%dm%s\x1b[0m %-44s %s\n", color, label, e.msg, strings.TrimPrefix(e.rest, " "))
	}
	var b strings.Builder
	for _, l := range strings.Split(e.msg, "\n") {
		fmt.Fprintf(&b, "level=%s msg=%s%s\n", e.level, l, e.rest)
	}
	return b.String()
}
