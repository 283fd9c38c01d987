package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReceiver(t *testing.T) {
	countFile := filepath.Join(t.TempDir(), "count")
	rc := &receiver{countFile: countFile}
	srv := httptest.NewServer(rc)
	defer srv.Close()

	for _, tc := range []struct {
		method, path, ctype string
		wantCode            int
		wantBody            string
	}{
		{http.MethodPost, "/v1/traces", "application/x-protobuf", http.StatusOK, ""},
		{http.MethodPost, "/v1/traces", "application/json", http.StatusOK, "{}"},
		{http.MethodPost, "/v1/metrics", "application/x-protobuf", http.StatusOK, ""},
		{http.MethodGet, "/v1/traces", "", http.StatusMethodNotAllowed, "only POST\n"},
		{http.MethodPost, "/v1/other", "application/x-protobuf", http.StatusNotFound, "404 page not found\n"},
	} {
		req, err := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader("\x0a\x00"))
		if err != nil {
			t.Fatal(err)
		}
		if tc.ctype != "" {
			req.Header.Set("Content-Type", tc.ctype)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != tc.wantCode {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, resp.StatusCode, tc.wantCode)
		}
		if string(b) != tc.wantBody {
			t.Errorf("%s %s: body %q, want %q", tc.method, tc.path, b, tc.wantBody)
		}
		if tc.wantCode == http.StatusOK && resp.Header.Get("Content-Type") != tc.ctype {
			t.Errorf("%s %s: Content-Type %q, want %q", tc.method, tc.path, resp.Header.Get("Content-Type"), tc.ctype)
		}
	}
	if got := rc.Count(); got != 3 {
		t.Errorf("Count() = %d, want 3 (the accepted POSTs only)", got)
	}
	b, err := os.ReadFile(countFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "3\n" {
		t.Errorf("count file holds %q, want %q", b, "3\n")
	}
}
