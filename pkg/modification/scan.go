package modification

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// The state file is up to a few megabytes of JSON, most of it base64 strings
// and ignition configs we never look into. encoding/json decodes it at about
// 150 MB/s, too slow for the installer's start-up path (docs/benchmarks.md);
// scanner finds the end of a string with bytes.IndexByte instead, and only the
// few strings we use are unescaped, by encoding/json itself.

// maxDepth bounds nesting, like encoding/json's own limit.
const maxDepth = 10000

var (
	errSyntax  = errors.New("not valid JSON")
	errTooDeep = errors.New("nested too deeply")
)

// scanner walks JSON text without building values. It accepts every valid
// JSON text and rejects most invalid ones; what it accepts beyond JSON (e.g.
// control characters inside strings) never changes what it extracts from
// valid text.
type scanner struct {
	data []byte
	pos  int
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, 0 at the end.
func (s *scanner) peek() byte {
	s.skipSpace()
	if s.pos >= len(s.data) {
		return 0
	}
	return s.data[s.pos]
}

// str reads a string and returns its raw contents (escapes untouched).
func (s *scanner) str() ([]byte, error) {
	if s.peek() != '"' {
		return nil, errSyntax
	}
	start := s.pos + 1
	for i := start; ; {
		j := bytes.IndexByte(s.data[i:], '"')
		if j < 0 {
			return nil, errSyntax
		}
		q := i + j
		n := 0
		for k := q - 1; k >= start && s.data[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			s.pos = q + 1
			return s.data[start:q], nil
		}
		i = q + 1
	}
}

// literal consumes a number, true, false or null.
func (s *scanner) literal() error {
	start := s.pos
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c == '-' || c == '+' || c == '.' || c == 'E' {
			s.pos++
			continue
		}
		break
	}
	lit := s.data[start:s.pos]
	switch {
	case len(lit) == 0:
		return errSyntax
	case lit[0] == '-' || lit[0] >= '0' && lit[0] <= '9':
		return nil
	case string(lit) == "true" || string(lit) == "false" || string(lit) == "null":
		return nil
	}
	return errSyntax
}

// isNull consumes a null literal if it is next.
func (s *scanner) isNull() bool {
	if s.peek() == 'n' && bytes.HasPrefix(s.data[s.pos:], []byte("null")) {
		s.pos += 4
		return true
	}
	return false
}

// skip consumes one value of any kind, without recursion.
func (s *scanner) skip() error {
	var stack []byte // open containers: '{' or '['
	for {
		switch c := s.peek(); c {
		case 0:
			return errSyntax
		case '{', '[':
			if len(stack) >= maxDepth {
				return errTooDeep
			}
			stack = append(stack, c)
			s.pos++
			if s.peek() == c+2 { // empty {} or []
				s.pos++
				stack = stack[:len(stack)-1]
				break
			}
			if c == '{' {
				if err := s.key(); err != nil {
					return err
				}
			}
			continue
		case '"':
			if _, err := s.str(); err != nil {
				return err
			}
		default:
			if err := s.literal(); err != nil {
				return err
			}
		}
		// A value ended: close containers or move on to the next member.
		for {
			if len(stack) == 0 {
				return nil
			}
			top := stack[len(stack)-1]
			c := s.peek()
			if c == top+2 {
				s.pos++
				stack = stack[:len(stack)-1]
				continue
			}
			if c != ',' {
				return errSyntax
			}
			s.pos++
			if top == '{' {
				if err := s.key(); err != nil {
					return err
				}
			}
			break
		}
	}
}

// key consumes `"name":`.
func (s *scanner) key() error {
	if _, err := s.str(); err != nil {
		return err
	}
	if s.peek() != ':' {
		return errSyntax
	}
	s.pos++
	return nil
}

// object calls member for each member of the object that comes next; member
// must consume the value. The key is raw (see text).
func (s *scanner) object(member func(key []byte) error) error {
	if s.peek() != '{' {
		return errSyntax
	}
	s.pos++
	if s.peek() == '}' {
		s.pos++
		return nil
	}
	for {
		k, err := s.str()
		if err != nil {
			return err
		}
		if s.peek() != ':' {
			return errSyntax
		}
		s.pos++
		if err := member(k); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			return errSyntax
		}
	}
}

// array calls elem for each element of the array that comes next; elem must
// consume the value.
func (s *scanner) array(elem func() error) error {
	if s.peek() != '[' {
		return errSyntax
	}
	s.pos++
	if s.peek() == ']' {
		s.pos++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return nil
		default:
			return errSyntax
		}
	}
}

// raw consumes one value and returns its text.
func (s *scanner) raw() ([]byte, error) {
	s.skipSpace()
	start := s.pos
	if err := s.skip(); err != nil {
		return nil, err
	}
	return s.data[start:s.pos], nil
}

// text returns the string value of a raw string token's contents, unescaped
// by encoding/json when it holds an escape or invalid UTF-8.
func text(raw []byte) (string, error) {
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw), nil
	}
	quoted := make([]byte, 0, len(raw)+2)
	quoted = append(append(append(quoted, '"'), raw...), '"')
	var v string
	if err := json.Unmarshal(quoted, &v); err != nil {
		return "", errSyntax
	}
	return v, nil
}

// isKey reports whether a raw key is name; keys with escapes are unescaped
// first.
func isKey(raw []byte, name string) bool {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw) == name
	}
	v, err := text(raw)
	return err == nil && v == name
}
