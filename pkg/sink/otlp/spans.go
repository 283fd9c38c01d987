package otlp

import (
	"crypto/sha256"
	"encoding/binary"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/install-metrics/install-metrics/pkg/record"
)

// ScopeName is the instrumentation scope of every span.
const ScopeName = "github.com/install-metrics/install-metrics/pkg/sink/otlp"

// Attribute keys. The closed-set labels keep the names the counters give
// them, so a spanmetrics dimension and a PromQL label read alike.
const (
	AttrExitCode  = "process.exit.code"
	AttrCIResult  = "cicd.pipeline.task.run.result"
	AttrModified  = "modified_assets"
	AttrFinished  = "finished"
	AttrMessage   = "message"
	EventDeciding = "deciding line"
)

// localFlags are the flags of a span whose parent is local (or none): W3C
// trace flags "sampled", and "is_remote is known".
const localFlags = uint32(tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK) | 1

// closedSetAttrs are the invocation labels that become root span attributes.
var closedSetAttrs = []string{"result", "version", "platform", "ci", "os"}

// maxMessage bounds the deciding line in the span event.
const maxMessage = 1024

// Labels are the invocation's closed-set label values (command, target,
// result, version, platform, ci, os), as the counters carry them.
type Labels map[string]string

// Trace builds the one trace of an invocation: a root span
// "openshift-install <command> <target>" from the installer's start to its
// exit and one child span per stage with the log's start and end. The IDs
// are derived from the record (see IDs), so the same invocation always
// makes the same trace. resource is the resource attributes in order.
func Trace(inv *record.Invocation, labels Labels, resource [][2]string, parent *Parent, scopeVersion string) *tracepb.TracesData {
	traceID, rootID, stageID := IDs(inv, parent)
	start := inv.Start
	end := start.Add(max(inv.Wall, 0))
	failed := labels["result"] != string(record.Success)

	root := &tracepb.Span{
		TraceId:           traceID[:],
		SpanId:            rootID[:],
		Name:              spanName(labels),
		Kind:              tracepb.Span_SPAN_KIND_INTERNAL,
		StartTimeUnixNano: unixNano(start),
		EndTimeUnixNano:   unixNano(end),
		Attributes: []*commonpb.KeyValue{
			intAttr(AttrExitCode, int64(inv.ExitCode)),
			strAttr(AttrCIResult, ciResult(labels["result"])),
		},
		Status: &tracepb.Status{Code: tracepb.Status_STATUS_CODE_UNSET},
		Flags:  localFlags,
	}
	if parent != nil {
		root.ParentSpanId = append([]byte(nil), parent.SpanID[:]...)
		root.Flags |= uint32(tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK)
	}
	root.Attributes = append(root.Attributes, closedSet(labels)...)
	if inv.Modified != nil {
		root.Attributes = append(root.Attributes, intAttr(AttrModified, int64(len(inv.Modified))))
	}
	if failed {
		root.Status = &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: labels["result"]}
	}

	spans := []*tracepb.Span{root}
	decidedAt := end
	for i, st := range inv.Stages {
		if !st.Name.Valid() {
			continue
		}
		id := stageID(i)
		s := &tracepb.Span{
			TraceId:           traceID[:],
			SpanId:            id[:],
			ParentSpanId:      rootID[:],
			Flags:             localFlags,
			Name:              string(st.Name),
			Kind:              tracepb.Span_SPAN_KIND_INTERNAL,
			StartTimeUnixNano: unixNano(st.Start),
			EndTimeUnixNano:   unixNano(st.Start.Add(st.Duration())),
			Attributes:        append([]*commonpb.KeyValue{boolAttr(AttrFinished, st.Finished)}, closedSet(labels)...),
			Status:            &tracepb.Status{Code: tracepb.Status_STATUS_CODE_UNSET},
		}
		if failed && !st.Finished {
			s.Status = &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: labels["result"]}
			decidedAt = st.Start.Add(st.Duration())
		}
		spans = append(spans, s)
	}
	if inv.Deciding != "" {
		root.Events = []*tracepb.Span_Event{{
			TimeUnixNano: unixNano(decidedAt),
			Name:         EventDeciding,
			Attributes:   []*commonpb.KeyValue{strAttr(AttrMessage, clip(inv.Deciding, maxMessage))},
		}}
	}

	res := &resourcepb.Resource{}
	for _, kv := range resource {
		res.Attributes = append(res.Attributes, strAttr(kv[0], kv[1]))
	}
	return &tracepb.TracesData{ResourceSpans: []*tracepb.ResourceSpans{{
		Resource: res,
		ScopeSpans: []*tracepb.ScopeSpans{{
			Scope: &commonpb.InstrumentationScope{Name: ScopeName, Version: validUTF8(scopeVersion)},
			Spans: spans,
		}},
	}}}
}

// closedSet are the attributes of the closed-set labels. Every span has
// them, so that a spanmetrics connector can cut the stages' durations by
// version, platform, CI and result.
func closedSet(labels Labels) []*commonpb.KeyValue {
	out := make([]*commonpb.KeyValue, 0, len(closedSetAttrs))
	for _, k := range closedSetAttrs {
		if k == "ci" {
			out = append(out, boolAttr(k, labels[k] == "true"))
			continue
		}
		out = append(out, strAttr(k, labels[k]))
	}
	return out
}

// spanName is "openshift-install <command> <target>", from closed sets.
func spanName(l Labels) string {
	name := "openshift-install"
	for _, w := range []string{l["command"], l["target"]} {
		if w != "" {
			name += " " + w
		}
	}
	return name
}

// ciResult maps a result class to the semantic conventions'
// cicd.pipeline.task.run.result values.
func ciResult(result string) string {
	switch record.Result(result) {
	case record.Success:
		return "success"
	case record.Interrupted:
		return "cancellation"
	}
	return "failure"
}

// IDs derives the trace ID and the span IDs from the invocation (and the
// parent): a SHA-256 of the record's fields. A batch sent again from the
// spool is the same trace with the same spans, which backends merge, never
// a second trace. With a parent the trace ID is the parent's.
func IDs(inv *record.Invocation, parent *Parent) (traceID [16]byte, rootID [8]byte, stageID func(int) [8]byte) {
	h := sha256.New()
	put := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	putInt := func(v int64) { put(strconv.FormatInt(v, 10)) }
	put("install-metrics trace v1")
	if parent != nil {
		put(string(parent.TraceID[:]))
		put(string(parent.SpanID[:]))
	}
	put(inv.Command)
	put(inv.Target)
	put(inv.OS)
	put(inv.Platform)
	put(inv.Version)
	put(string(inv.Result))
	put(inv.Deciding)
	put(inv.Signal)
	putInt(int64(inv.ExitCode))
	putInt(inv.Start.UnixNano())
	putInt(int64(inv.Wall))
	put(strconv.FormatBool(inv.CI))
	putInt(int64(len(inv.Modified)))
	for _, m := range inv.Modified {
		put(m)
	}
	for _, s := range inv.Stages {
		put(string(s.Name))
		putInt(s.Start.UnixNano())
		putInt(s.End.UnixNano())
		put(strconv.FormatBool(s.Finished))
	}
	seed := h.Sum(nil)
	derive := func(label string, i int) []byte {
		d := sha256.New()
		d.Write(seed)
		d.Write([]byte(label))
		d.Write([]byte(strconv.Itoa(i)))
		return d.Sum(nil)
	}
	if parent != nil {
		traceID = parent.TraceID
	} else {
		copy(traceID[:], nonZero(derive("trace", 0), 16))
	}
	copy(rootID[:], nonZero(derive("span", -1), 8))
	stageID = func(i int) [8]byte {
		var id [8]byte
		copy(id[:], nonZero(derive("span", i), 8))
		return id
	}
	return traceID, rootID, stageID
}

// nonZero returns the first n bytes of b, never all zeros (an invalid ID).
func nonZero(b []byte, n int) []byte {
	for _, c := range b[:n] {
		if c != 0 {
			return b[:n]
		}
	}
	b[n-1] = 1
	return b[:n]
}

func unixNano(t time.Time) uint64 {
	if t.IsZero() || t.UnixNano() < 0 {
		return 0
	}
	return uint64(t.UnixNano())
}

func strAttr(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: validUTF8(k), Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: validUTF8(v)}}}
}

func intAttr(k string, v int64) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: v}}}
}

func boolAttr(k string, v bool) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: v}}}
}

// validUTF8 replaces invalid UTF-8 (protobuf strings must be valid).
func validUTF8(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// clip makes s valid UTF-8 of at most n bytes, cut at a rune boundary.
func clip(s string, n int) string {
	s = validUTF8(s)
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
