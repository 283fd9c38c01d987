package stages

import (
	"strings"
	"unicode/utf8"
)

// maxDeciding bounds the deciding line kept in a Summary.
const maxDeciding = 1024

const redacted = "<redacted>"

// secretKeys are words after which a value is a secret: the kubeadmin
// password line, pull secrets in install-config errors
// ("pullSecret: Invalid value: ..."), tokens, auth fields of a pull secret.
var secretKeys = []string{
	"password", "passwd", "pullsecret", "pull-secret", "pull_secret", "secret",
	"token", "auths", "auth", "apikey", "api_key", "api-key", "credentials",
}

// redact removes from one log message anything that looks like a password,
// token or pull secret, and returns it as one printable, valid UTF-8 line of
// at most maxDeciding bytes.
func redact(s string) string {
	if i := indexFold(s, "login to the console with user"); i >= 0 {
		s = s[:i] + s[i:i+len("login to the console with user")] + ": " + redacted
	}
	var b strings.Builder
	i := 0
	for i < len(s) {
		n, keep := secretAt(s, i)
		if n == 0 {
			b.WriteByte(s[i])
			i++
			continue
		}
		b.WriteString(s[i : i+keep])
		b.WriteString(redacted)
		i += n
	}
	return clean(b.String())
}

// secretAt looks for a secret starting at s[i]. It returns how many bytes
// from i the secret and its key span (0: none), and how many of them, the key
// and its separator, stay.
func secretAt(s string, i int) (n, keep int) {
	c := s[i] | 0x20
	switch {
	case c == 'b' && hasFold(s[i:], "bearer ") && wordStart(s, i):
		return tokenAfter(s, i, i+len("bearer "))
	case c == 's' && hasFold(s[i:], "sha256~"):
		return tokenAfter(s, i, i)
	case c == '-' && hasFold(s[i:], "-p ") && i > 0 && s[i-1] == ' ':
		return tokenAfter(s, i, i+len("-p "))
	case s[i] == ':' && strings.HasPrefix(s[i:], "://"):
		// user:password@ in a URL.
		j := i + 3
		for j < len(s) && j < i+256 && !strings.ContainsRune(" \"'/@", rune(s[j])) {
			j++
		}
		if j < len(s) && s[j] == '@' {
			if k := strings.IndexByte(s[i+3:j], ':'); k >= 0 {
				return j - i, 3 + k + 1
			}
		}
		return 0, 0
	}
	if !wordStart(s, i) {
		return 0, 0
	}
	for _, key := range secretKeys {
		if !hasFold(s[i:], key) {
			continue
		}
		j := i + len(key)
		if j < len(s) && isLetter(s[j]) {
			return 0, 0 // "tokens", "authentication"
		}
		// A JSON key's closing quote, spaces, then ":" or "=".
		for j < len(s) && (s[j] == '"' || s[j] == '\'' || s[j] == '\\') {
			j++
		}
		for j < len(s) && s[j] == ' ' {
			j++
		}
		if j >= len(s) || (s[j] != ':' && s[j] != '=') {
			return 0, 0
		}
		j++
		for j < len(s) && s[j] == ' ' {
			j++
		}
		if strings.HasPrefix(s[j:], "Invalid value: ") {
			j += len("Invalid value: ")
		}
		keep := j - i
		switch {
		case j >= len(s):
			return 0, 0
		case s[j] == '{' || key == "auths":
			return len(s) - i, keep // the rest is JSON of a pull secret
		case s[j] == '"' || s[j] == '\'' || s[j] == '\\':
			end := quotedEnd(s, j)
			return end - i, keep
		}
		return tokenAfter(s, i, j)
	}
	return 0, 0
}

// tokenAfter spans, from i, a key that ends at j and the bare token that
// starts there; the key stays.
func tokenAfter(s string, i, j int) (n, keep int) {
	k := j
	for k < len(s) && !strings.ContainsRune(" \t,;)]}'\"", rune(s[k])) {
		k++
	}
	if k == j {
		return 0, 0
	}
	return k - i, j - i
}

// quotedEnd returns the index just after the quoted string that starts at
// s[j] (an escaped quote \" counts as the quote), or len(s).
func quotedEnd(s string, j int) int {
	q := s[j]
	esc := false
	if q == '\\' && j+1 < len(s) {
		j++
		q, esc = s[j], true
	}
	for k := j + 1; k < len(s); k++ {
		switch {
		case !esc && s[k] == '\\':
			k++
		case s[k] == q && (!esc || s[k-1] == '\\'):
			return k + 1
		}
	}
	return len(s)
}

// clean makes s one printable line of valid UTF-8, cut to maxDeciding bytes.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > maxDeciding {
		cut := maxDeciding
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func wordStart(s string, i int) bool { return i == 0 || !isLetter(s[i-1]) }

func isLetter(c byte) bool {
	c |= 0x20
	return c >= 'a' && c <= 'z'
}

// hasFold reports whether s starts with the lower-case ASCII prefix.
func hasFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// indexFold is strings.Index for a lower-case ASCII needle, ignoring case.
func indexFold(s, needle string) int {
	for i := 0; i+len(needle) <= len(s); i++ {
		if hasFold(s[i:], needle) {
			return i
		}
	}
	return -1
}
