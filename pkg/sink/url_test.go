package sink

import "testing"

// The spool validates an entry's sink with Parse: every canonical OTLP URL
// must parse back to itself.
func TestParseOTLPRoundTrip(t *testing.T) {
	for raw, want := range map[string]string{
		"otlp":                          "otlp",
		"otlp+http://127.0.0.1:4318":    "otlp+http://127.0.0.1:4318/v1/traces",
		"OTLP+HTTPS://Collector/custom": "otlp+https://collector/custom",
	} {
		u, err := Parse(raw)
		if err != nil || u.Kind != OTLPKind || u.String() != want {
			t.Fatalf("Parse(%q) = %+v (%q), %v; want %q", raw, u, u.String(), err, want)
		}
		again, err := Parse(u.String())
		if err != nil || again != u {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", u.String(), again, err, u)
		}
	}
}

func TestLoopback(t *testing.T) {
	for u, want := range map[string]bool{
		"http://127.0.0.1:4318/v1/traces": true, "http://[::1]:4318": true, "http://localhost": true,
		"http://collector:4318": false, "http://127.0.0.1.example.com": false, "%zz": false,
	} {
		if got := Loopback(u); got != want {
			t.Errorf("Loopback(%q) = %v", u, got)
		}
	}
}

func TestOneLineRedact(t *testing.T) {
	got := OneLine(Redact("bad\ntoken tok3n\r\n\tagain tok3n\x00", "tok3n", ""), 200)
	if want := "bad token [REDACTED] again [REDACTED]"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := OneLine("ééééé", 7); got != "ééé…" {
		t.Errorf("cut: %q", got)
	}
}
