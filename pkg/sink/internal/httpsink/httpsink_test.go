package httpsink

import "testing"

func TestOneLineRedact(t *testing.T) {
	got := OneLine(Redact("bad\ntoken tok3n\r\n\tagain tok3n\x00", "tok3n", ""), 200)
	if want := "bad token [REDACTED] again [REDACTED]"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := OneLine("ééééé", 7); got != "ééé…" {
		t.Errorf("cut: %q", got)
	}
}

func TestLoopbackRedirectHost(t *testing.T) {
	for u, want := range map[string]bool{
		"http://127.0.0.1:4318/v1/traces": true, "http://[::1]:4318": true, "http://localhost": true,
		"http://collector:4318": false, "http://127.0.0.1.example.com": false, "%zz": false,
	} {
		if got := Loopback(u); got != want {
			t.Errorf("Loopback(%q) = %v", u, got)
		}
	}
	for loc, want := range map[string]string{
		"https://other.example.com/x?token=s3cret": "https://other.example.com",
		"/elsewhere": "another path on the same host", "": "an unknown location",
	} {
		if got := RedirectHost(loc); got != want {
			t.Errorf("RedirectHost(%q) = %q", loc, got)
		}
	}
}
