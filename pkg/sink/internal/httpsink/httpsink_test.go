package httpsink

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

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

// TraceWrites' hook runs once the TLS connection is up and before the
// request's first byte; when it fails nothing of the request reaches the
// server and Refused says why. What a journaled run relies on to mark a
// sink Sending at the last moment (pkg/push writeGate).
func TestTraceWritesBeforeWrite(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { requests.Add(1) }))
	var handshakes atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateActive {
			handshakes.Add(1) // the first bytes of a request were read
		}
	}
	srv.StartTLS()
	defer srv.Close()
	for _, refuse := range []bool{false, true} {
		before, active := int32(-1), int32(-1)
		hook := func() error {
			before, active = requests.Load(), handshakes.Load()
			if refuse {
				return errors.New("journal full")
			}
			return nil
		}
		prevActive := handshakes.Load()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, strings.NewReader("body"))
		req, w := TraceWrites(req, hook)
		resp, err := srv.Client().Do(req)
		if resp != nil {
			resp.Body.Close()
		}
		if before != requests.Load()-boolInt(!refuse) || active != prevActive {
			t.Errorf("refuse=%v: the hook ran after the server saw the request (requests %d then %d, active %d then %d)", refuse, before, requests.Load(), prevActive, active)
		}
		if !refuse {
			if err != nil || !w.Wrote() || w.Refused() != nil {
				t.Errorf("refuse=false: err %v, wrote %v, refused %v", err, w.Wrote(), w.Refused())
			}
			continue
		}
		if err == nil || w.Wrote() || w.Refused() == nil || w.Refused().Error() != "journal full" {
			t.Errorf("refuse=true: err %v, wrote %v, refused %v", err, w.Wrote(), w.Refused())
		}
		time.Sleep(50 * time.Millisecond) // let the server notice the closed connection
		if handshakes.Load() != prevActive {
			t.Error("refuse=true: the server read a request")
		}
	}
	if requests.Load() != 1 {
		t.Errorf("%d requests served, want 1", requests.Load())
	}
}

func boolInt(b bool) int32 {
	if b {
		return 1
	}
	return 0
}
