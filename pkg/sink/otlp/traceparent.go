package otlp

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Parent is the span a TRACEPARENT names: the root span becomes its child.
type Parent struct {
	TraceID [16]byte
	SpanID  [8]byte
	// Sampled is the sampled flag: a parent that was not sampled means the
	// trace is not recorded (the SDKs' default parentbased_always_on).
	Sampled bool
}

// ParseTraceparent parses a W3C Trace Context traceparent header value
// (https://www.w3.org/TR/trace-context/#traceparent-header):
// version-traceid-parentid-flags, lower-case hex. Version ff, all-zero IDs,
// upper case and a version 00 value with anything after the flags are
// invalid; a higher version may carry more fields after the flags.
func ParseTraceparent(v string) (Parent, error) {
	var p Parent
	if len(v) < 55 {
		return p, errors.New("too short")
	}
	if v[2] != '-' || v[35] != '-' || v[52] != '-' {
		return p, errors.New("not version-traceid-parentid-flags")
	}
	version, ok := lowerHex(v[0:2])
	switch {
	case !ok:
		return p, errors.New("version is not two lower-case hex digits")
	case version[0] == 0xff:
		return p, errors.New("version ff is invalid")
	case version[0] == 0 && len(v) != 55:
		return p, errors.New("version 00 has exactly four fields")
	case len(v) > 55 && v[55] != '-':
		return p, errors.New("a field follows the flags without a dash")
	}
	tid, ok1 := lowerHex(v[3:35])
	sid, ok2 := lowerHex(v[36:52])
	flags, ok3 := lowerHex(v[53:55])
	if !ok1 || !ok2 || !ok3 {
		return p, errors.New("trace ID, parent ID and flags must be lower-case hex")
	}
	copy(p.TraceID[:], tid)
	copy(p.SpanID[:], sid)
	if p.TraceID == ([16]byte{}) {
		return p, errors.New("the trace ID is all zeros")
	}
	if p.SpanID == ([8]byte{}) {
		return p, errors.New("the parent ID is all zeros")
	}
	p.Sampled = flags[0]&1 == 1
	return p, nil
}

// String is the canonical version 00 traceparent of p (what the invocation
// record keeps).
func (p Parent) String() string {
	flags := 0
	if p.Sampled {
		flags = 1
	}
	return fmt.Sprintf("00-%x-%x-%02x", p.TraceID, p.SpanID, flags)
}

// RecordTraceparent reads TRACEPARENT through getenv for the invocation
// record (record.Invocation.Traceparent): the canonical form of a valid
// value, "" when it is unset or empty. A malformed value gives "" and the
// reason, for a debug line: the specification says to ignore it, and the
// trace then has no parent.
func RecordTraceparent(getenv func(string) (string, bool)) (string, error) {
	v, ok := getenv(EnvTraceparent)
	if v = strings.TrimSpace(v); !ok || v == "" {
		return "", nil
	}
	p, err := ParseTraceparent(v)
	if err != nil {
		return "", fmt.Errorf("%s ignored (%w): the trace has no parent", EnvTraceparent, err)
	}
	return p.String(), nil
}

// lowerHex decodes s when it is lower-case hex only.
func lowerHex(s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return nil, false
		}
	}
	b, err := hex.DecodeString(s)
	return b, err == nil
}
