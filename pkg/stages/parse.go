package stages

import (
	"bytes"
	"time"
	"unicode/utf8"
)

// level is a logrus level, ordered by severity; lvNone marks a line that is
// not an installer entry.
type level uint8

const (
	lvNone level = iota
	lvTrace
	lvDebug
	lvInfo
	lvWarning
	lvError
	lvFatal // fatal and panic
)

// format is how an entry was written.
type format uint8

const (
	fmtNone     format = iota
	fmtFile            // time="..." level=... msg="..." (.openshift_install.log)
	fmtPipe            // level=info msg=... (stderr that is not a terminal)
	fmtTerminal        // INFO ... (stderr on a terminal)
)

// Format names, as Summary.Format reports them.
const (
	FormatFile     = "file"
	FormatPipe     = "pipe"
	FormatTerminal = "terminal"
)

func (f format) String() string {
	switch f {
	case fmtFile:
		return FormatFile
	case fmtPipe:
		return FormatPipe
	case fmtTerminal:
		return FormatTerminal
	}
	return ""
}

// entry is one parsed line. Its slices alias the line or the parser's
// buffers and are valid until the next line.
type entry struct {
	level  level
	format format
	msg    []byte // the message, unquoted
	extra  []byte // what follows a quoted msg (sorted logrus fields)
	ts     []byte // the raw time= value of the file format
	when   time.Time
	timed  bool // when holds the time of a CI prefix
	bare   bool // a logfmt line whose level= was lost (msg= only): taken as info
}

// maxDebugMsg is how much of a debug or trace line's message is decoded.
const maxDebugMsg = 512

// parser turns raw lines into entries without allocating.
type parser struct {
	now  func() time.Time
	msg  []byte // unquoted message
	ansi []byte // line without colour codes
	tod  todClock
}

// parse recognises one raw line. A line that is no installer entry comes
// back with level lvNone and msg set to the trimmed line.
func (p *parser) parse(line []byte, e *entry) {
	*e = entry{}
	line = trimRight(line)
	if hasPrefix(line, `time="`) || hasPrefix(line, "level=") || hasPrefix(line, "msg=") {
		if p.logfmt(line, e) {
			return
		}
	}
	if bytes.IndexByte(line, 0x1b) >= 0 {
		line = p.stripANSI(line)
	}
	rest := line
	for range 8 {
		rest = trimLeft(rest)
		if hasPrefix(rest, `time="`) || hasPrefix(rest, "level=") || hasPrefix(rest, "msg=") {
			if p.logfmt(rest, e) {
				return
			}
			break
		}
		if p.terminal(rest, e) {
			return
		}
		next, ok := p.stripPrefix(rest, e)
		if !ok {
			break
		}
		rest = next
	}
	// logfmt after a prefix nobody foresaw (pod log decorations, file names).
	head := line[:min(len(line), 512)]
	if i := bytes.Index(head, []byte(`time="`)); i > 0 && p.logfmt(line[i:], e) {
		return
	}
	if i := bytes.Index(head, []byte(" level=")); i >= 0 && p.logfmt(line[i+1:], e) {
		return
	}
	e.level, e.format, e.msg = lvNone, fmtNone, trimLeft(rest)
}

// logfmt parses `[time="..." ]level=... [msg=...] [fields]`.
func (p *parser) logfmt(s []byte, e *entry) bool {
	timed := false
	if hasPrefix(s, "time=") {
		var v []byte
		v, s = logfmtValue(s[len("time="):])
		e.ts = v
		timed = true
		s = trimLeft(s)
	}
	lv := lvInfo
	switch {
	case hasPrefix(s, "level="):
		s = s[len("level="):]
		end := bytes.IndexByte(s, ' ')
		if end < 0 {
			end = len(s)
		}
		lv = parseLevel(s[:end], false)
		if lv == lvNone {
			return false
		}
		s = trimLeft(s[end:])
	case hasPrefix(s, "msg=") && len(s) > len("msg="):
		// A CI wrapper re-printed the line without its level.
		e.bare = true
	default:
		return false
	}
	e.level = lv
	e.format = fmtPipe
	if timed {
		e.format = fmtFile
	}
	if lv <= lvDebug && len(s) > maxDebugMsg {
		// Only the start of a debug message is ever looked at (raw, still
		// quoted); terraform and Cluster API dumps are long and full of
		// escapes.
		s = s[:maxDebugMsg]
	}
	if !hasPrefix(s, "msg=") {
		e.extra = s
		return true
	}
	s = s[len("msg="):]
	switch {
	case lv <= lvDebug && len(s) > 0 && s[0] == '"':
		// Debug prefixes are matched on the raw text: no need to unquote.
		e.msg = s[1:]
	case len(s) > 0 && s[0] == '"':
		e.msg, e.extra = p.unquote(s[1:])
		e.extra = trimLeft(e.extra)
	case timed:
		// A one-word value is left bare in the file: it ends at a space.
		if i := bytes.IndexByte(s, ' '); i >= 0 {
			e.msg, e.extra = s[:i], trimLeft(s[i:])
		} else {
			e.msg = s
		}
	default:
		// The pipe since 4.7 does not quote: msg runs to the end of the line.
		e.msg = s
	}
	return true
}

// logfmtValue splits a quoted or bare value off s.
func logfmtValue(s []byte) (v, rest []byte) {
	if len(s) > 0 && s[0] == '"' {
		s = s[1:]
		if i := bytes.IndexByte(s, '"'); i >= 0 {
			return s[:i], s[i+1:]
		}
		return s, nil
	}
	if i := bytes.IndexByte(s, ' '); i >= 0 {
		return s[:i], s[i:]
	}
	return s, nil
}

// terminal parses `LEVEL message` as the installer prints it on a terminal
// (also logrus's `LEVEL[0001] message`).
func (p *parser) terminal(s []byte, e *entry) bool {
	n := 0
	for n < len(s) && n < 8 && s[n] >= 'A' && s[n] <= 'Z' {
		n++
	}
	if n < 4 {
		return false
	}
	lv := parseLevel(s[:n], true)
	if lv == lvNone {
		return false
	}
	rest := s[n:]
	switch {
	case len(rest) == 0:
	case rest[0] == ' ' || rest[0] == '\t':
	case rest[0] == '[':
		i := bytes.IndexByte(rest[:min(len(rest), 40)], ']')
		if i < 0 {
			return false
		}
		rest = rest[i+1:]
	default:
		return false
	}
	e.level, e.format, e.msg = lv, fmtTerminal, trimLeft(rest)
	return true
}

// parseLevel reads a logrus level name: lower case in logfmt, upper case on
// the terminal.
func parseLevel(s []byte, upper bool) level {
	if upper {
		switch string(s) {
		case "DEBUG":
			return lvDebug
		case "INFO":
			return lvInfo
		case "WARNING", "WARN":
			return lvWarning
		case "ERROR":
			return lvError
		case "FATAL", "PANIC":
			return lvFatal
		case "TRACE":
			return lvTrace
		}
		return lvNone
	}
	switch string(s) {
	case "debug":
		return lvDebug
	case "info":
		return lvInfo
	case "warning", "warn":
		return lvWarning
	case "error":
		return lvError
	case "fatal", "panic":
		return lvFatal
	case "trace":
		return lvTrace
	}
	return lvNone
}

// stripPrefix removes one decoration a paste or a CI system put in front of
// the installer's line: a timestamp, a [bracketed] tag, a shell trace "+ ",
// a quote or table bar.
func (p *parser) stripPrefix(s []byte, e *entry) ([]byte, bool) {
	if len(s) == 0 {
		return s, false
	}
	switch s[0] {
	case '+':
		i := 0
		for i < len(s) && s[i] == '+' {
			i++
		}
		if i < len(s) && s[i] == ' ' {
			return s[i+1:], true
		}
		return s, false
	case '>', '|':
		if len(s) > 1 && s[1] == ' ' {
			return s[2:], true
		}
		return s, false
	case '[':
		end := bytes.IndexByte(s[:min(len(s), 160)], ']')
		if end < 0 {
			return s, false
		}
		if t, n, ok := p.timestamp(s[1:end]); ok && n == end-1 {
			e.when, e.timed = t, true
		}
		rest := s[end+1:]
		if len(rest) > 0 && rest[0] == ':' {
			rest = rest[1:]
		}
		return rest, true
	}
	if s[0] >= '0' && s[0] <= '9' {
		if t, n, ok := p.timestamp(s); ok && (n == len(s) || s[n] == ' ' || s[n] == '\t' || s[n] == ']' || s[n] == '|') {
			e.when, e.timed = t, true
			rest := s[n:]
			if len(rest) > 0 && (rest[0] == ']' || rest[0] == '|') {
				rest = rest[1:]
			}
			return rest, true
		}
	}
	return s, false
}

// timestamp reads a timestamp at the start of s: 2006-01-02T15:04:05[.9][Z07:00],
// 2006-01-02 15:04:05[,.]9, 2006/01/02 15:04:05[.9] or a time of day
// 15:04:05[.9]. It returns the time, how many bytes it used and whether it
// found one.
func (p *parser) timestamp(s []byte) (time.Time, int, bool) {
	if len(s) >= 8 && s[2] == ':' && s[5] == ':' {
		h, m, sec, ok := clock(s)
		if !ok {
			return time.Time{}, 0, false
		}
		n, nsec := fraction(s, 8)
		return p.tod.at(p.now(), h, m, sec, nsec), n, true
	}
	if len(s) < 19 || !(s[4] == '-' || s[4] == '/') || s[7] != s[4] || !(s[10] == 'T' || s[10] == ' ') {
		return time.Time{}, 0, false
	}
	y, ok1 := digits(s[0:4])
	mo, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	h, m, sec, ok4 := clock(s[11:])
	if !(ok1 && ok2 && ok3 && ok4) || mo < 1 || mo > 12 || d < 1 || d > 31 {
		return time.Time{}, 0, false
	}
	n, nsec := fraction(s, 19)
	loc := p.now().Location()
	switch {
	case n < len(s) && s[n] == 'Z':
		loc, n = time.UTC, n+1
	case n+6 <= len(s) && (s[n] == '+' || s[n] == '-') && s[n+3] == ':':
		oh, okh := digits(s[n+1 : n+3])
		om, okm := digits(s[n+4 : n+6])
		if okh && okm {
			off := (oh*60 + om) * 60
			if s[n] == '-' {
				off = -off
			}
			loc, n = time.FixedZone("", off), n+6
		}
	}
	return time.Date(y, time.Month(mo), d, h, m, sec, nsec, loc), n, true
}

// clock reads 15:04:05 at the start of s.
func clock(s []byte) (h, m, sec int, ok bool) {
	if len(s) < 8 || s[2] != ':' || s[5] != ':' {
		return 0, 0, 0, false
	}
	h, ok1 := digits(s[0:2])
	m, ok2 := digits(s[3:5])
	sec, ok3 := digits(s[6:8])
	return h, m, sec, ok1 && ok2 && ok3 && h < 24 && m < 60 && sec < 61
}

// fraction reads optional fractional seconds at s[i:] ("." or ",").
func fraction(s []byte, i int) (int, int) {
	if i >= len(s) || (s[i] != '.' && s[i] != ',') {
		return i, 0
	}
	j, nsec, scale := i+1, 0, 100000000
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		nsec += int(s[j]-'0') * scale
		scale /= 10
		j++
	}
	if j == i+1 {
		return i, 0
	}
	return j, nsec
}

func digits(s []byte) (int, bool) {
	v := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, len(s) > 0
}

// todClock dates the time-of-day prefixes of a CI console (Jenkins
// timestamper: "08:23:04  ..."): the day is the clock's, and it moves on when
// the time of day jumps back by more than twelve hours.
type todClock struct {
	day  time.Time
	prev time.Duration
	set  bool
}

func (c *todClock) at(now time.Time, h, m, s, nsec int) time.Time {
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second + time.Duration(nsec)
	if !c.set {
		y, mo, dd := now.Date()
		c.day, c.set = time.Date(y, mo, dd, 0, 0, 0, 0, now.Location()), true
	} else if d < c.prev-12*time.Hour {
		c.day = c.day.AddDate(0, 0, 1)
	}
	c.prev = d
	return c.day.Add(d)
}

// unquote decodes a Go-quoted string whose opening quote is already gone, up
// to its closing quote, into p.msg. It returns the text and what follows the
// closing quote. An unterminated string (a cut line) decodes to its end.
func (p *parser) unquote(s []byte) (msg, rest []byte) {
	// Fast path: no escapes before the closing quote.
	if i := bytes.IndexByte(s, '"'); i >= 0 && bytes.IndexByte(s[:i], '\\') < 0 {
		return s[:i], s[i+1:]
	}
	out := p.msg[:0]
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"':
			p.msg = out
			return out, s[i+1:]
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(s) {
			i++
			continue
		}
		i += 2
		switch s[i-1] {
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case 'a', 'b', 'f', 'v':
			out = append(out, ' ')
		case 'x', 'u', 'U':
			n := 2
			switch s[i-1] {
			case 'u':
				n = 4
			case 'U':
				n = 8
			}
			if i+n > len(s) {
				i = len(s)
				continue
			}
			v, ok := hexValue(s[i : i+n])
			i += n
			switch {
			case !ok:
			case s[i-n-1] == 'x':
				out = append(out, byte(v))
			default:
				out = utf8.AppendRune(out, rune(v))
			}
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v, j := int(s[i-1]-'0'), i
			for j < len(s) && j < i+2 && s[j] >= '0' && s[j] <= '7' {
				v = v*8 + int(s[j]-'0')
				j++
			}
			i = j
			out = append(out, byte(v))
		default: // \\, \", \'
			out = append(out, s[i-1])
		}
	}
	p.msg = out
	return out, nil
}

func hexValue(s []byte) (int, bool) {
	v := 0
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			v = v*16 + int(c-'0')
		case c >= 'a' && c <= 'f':
			v = v*16 + int(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v*16 + int(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

// stripANSI removes terminal escape sequences (colours) from line.
func (p *parser) stripANSI(line []byte) []byte {
	out := p.ansi[:0]
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c != 0x1b {
			out = append(out, c)
			continue
		}
		if i+1 < len(line) && line[i+1] == '[' {
			j := i + 2
			for j < len(line) && (line[j] < 0x40 || line[j] > 0x7e) {
				j++
			}
			i = j
			continue
		}
		i++ // a two-byte escape
	}
	p.ansi = out
	return out
}

func hasPrefix(s []byte, prefix string) bool {
	return len(s) >= len(prefix) && string(s[:len(prefix)]) == prefix
}

func trimLeft(s []byte) []byte {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	return s
}

func trimRight(s []byte) []byte {
	for len(s) > 0 {
		switch s[len(s)-1] {
		case ' ', '\t', '\r', '\n':
			s = s[:len(s)-1]
			continue
		}
		break
	}
	return s
}
