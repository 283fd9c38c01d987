package httpsink

import "testing"

func TestRedirectHost(t *testing.T) {
	for loc, want := range map[string]string{
		"https://other.example.com/x?token=s3cret": "https://other.example.com",
		"/elsewhere": "another path on the same host", "": "an unknown location",
	} {
		if got := RedirectHost(loc); got != want {
			t.Errorf("RedirectHost(%q) = %q", loc, got)
		}
	}
}
