package otlp

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func env(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestParseURL(t *testing.T) {
	for raw, want := range map[string]string{
		"otlp":                           "otlp",
		" OTLP ":                         "otlp",
		"otlp+http://127.0.0.1:4318":     "otlp+http://127.0.0.1:4318/v1/traces",
		"otlp+http://Collector:4318/":    "otlp+http://collector:4318/v1/traces",
		"otlp+https://otel.example.com":  "otlp+https://otel.example.com/v1/traces",
		"OTLP+HTTPS://h:443/custom/path": "otlp+https://h:443/custom/path",
	} {
		u, err := ParseURL(raw)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", raw, err)
			continue
		}
		if got := u.String(); got != want {
			t.Errorf("ParseURL(%q) = %q, want %q", raw, got, want)
		}
		if !IsURL(raw) {
			t.Errorf("IsURL(%q) = false", raw)
		}
	}
	for _, raw := range []string{
		"otlp+grpc://h:4317", "otlp+http://", "otlp+http://h:0", "otlp+http://h:99999",
		"otlp+https://user:s3cret@h/v1/traces", "otlp+https://h/v1/traces?api_key=s3cret",
		"otlp+http://h/#frag", "otlps", "http://h:4318",
	} {
		_, err := ParseURL(raw)
		if err == nil {
			t.Errorf("ParseURL(%q): no error", raw)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("ParseURL(%q) error shows the credential: %v", raw, err)
		}
	}
}

// The examples of the specification (protocol/exporter.md, "Endpoint URLs
// for OTLP/HTTP").
func TestResolveEndpoint(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{nil, "http://localhost:4318/v1/traces"},
		{[]string{EnvEndpoint, "http://collector:4318"}, "http://collector:4318/v1/traces"},
		{[]string{EnvEndpoint, "http://collector:4318/"}, "http://collector:4318/v1/traces"},
		{[]string{EnvEndpoint, "https://collector:4318/mypath"}, "https://collector:4318/mypath/v1/traces"},
		{[]string{EnvTracesEndpoint, "http://collector:4318"}, "http://collector:4318/"},
		{[]string{EnvTracesEndpoint, "https://collector:4318/v1/traces"}, "https://collector:4318/v1/traces"},
		{[]string{EnvTracesEndpoint, "https://c/custom", EnvEndpoint, "http://other:4318"}, "https://c/custom"},
		{[]string{EnvTracesEndpoint, "", EnvEndpoint, "http://other:4318"}, "http://other:4318/v1/traces"},
	} {
		got, _, err := resolveEndpoint(env(tc.env...))
		if err != nil || got != tc.want {
			t.Errorf("%v: got %q, %v; want %q", tc.env, got, err, tc.want)
		}
	}
	_, _, err := resolveEndpoint(env(EnvEndpoint, "https://u:s3cret@collector:4318?k=s3cret"))
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("credentials in the endpoint: %v", err)
	}
}

func TestParseHeaders(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		want http.Header
	}{
		{"none", nil, nil},
		// The specification's example.
		{"spec", []string{EnvHeaders, "api-key=key,other-config-value=value"},
			http.Header{"Api-Key": {"key"}, "Other-Config-Value": {"value"}}},
		{"percent-decoded, spaces trimmed", []string{EnvHeaders, " Authorization = Bearer%20abc%3D%3D , x-tenant=a+b ,"},
			http.Header{"Authorization": {"Bearer abc=="}, "X-Tenant": {"a+b"}}},
		{"signal-specific wins whole", []string{EnvHeaders, "a=1,b=2", EnvTracesHeaders, "c=3"},
			http.Header{"C": {"3"}}},
		{"empty signal-specific falls back", []string{EnvHeaders, "a=1", EnvTracesHeaders, " "},
			http.Header{"A": {"1"}}},
		{"value with =", []string{EnvHeaders, "k=a=b"}, http.Header{"K": {"a=b"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := parseHeaders(env(tc.env...))
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == nil && len(got) == 0 {
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []string{"s3cret", "k=s3cret,s3cretnoequals", "=s3cret", "k=%zzs3cret", "bad name=s3cret", "k=s3cret%0d%0aX: y", "content-type=s3cret"} {
		_, _, err := parseHeaders(env(EnvHeaders, bad))
		if err == nil {
			t.Errorf("%q: no error", bad)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%q: the error shows the value: %v", bad, err)
		}
	}
}

func TestHeadersSecretsIncludeEncodedForm(t *testing.T) {
	_, secrets, err := parseHeaders(env(EnvHeaders, "authorization=Bearer%20tok%2Fen"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Bearer tok/en", "Bearer%20tok%2Fen"}, secrets); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestParseResource(t *testing.T) {
	for _, tc := range []struct {
		env      []string
		want     [][2]string
		wantNote bool
	}{
		{nil, [][2]string{{"service.name", "install-metrics"}}, false},
		{[]string{EnvResourceAttrs, "deployment.environment.name=ci,team=install%20team"},
			[][2]string{{"service.name", "install-metrics"}, {"deployment.environment.name", "ci"}, {"team", "install team"}}, false},
		{[]string{EnvResourceAttrs, "service.name=from-attrs"}, [][2]string{{"service.name", "from-attrs"}}, false},
		{[]string{EnvResourceAttrs, "service.name=from-attrs", EnvServiceName, "from-name"}, [][2]string{{"service.name", "from-name"}}, false},
		// Malformed: discarded whole, as the specification says.
		{[]string{EnvResourceAttrs, "a=1,broken"}, [][2]string{{"service.name", "install-metrics"}}, true},
	} {
		got, note := parseResource(env(tc.env...))
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%v: mismatch (-want +got):\n%s", tc.env, diff)
		}
		if (note != "") != tc.wantNote {
			t.Errorf("%v: note %q", tc.env, note)
		}
	}
}

// The examples of W3C Trace Context (https://www.w3.org/TR/trace-context/).
func TestParseTraceparent(t *testing.T) {
	p, err := ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	if err != nil {
		t.Fatal(err)
	}
	want := Parent{
		TraceID: [16]byte{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:  [8]byte{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		Sampled: true,
	}
	if p != want {
		t.Errorf("got %+v, want %+v", p, want)
	}
	if p, err := ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"); err != nil || p.Sampled {
		t.Errorf("flags 00: %+v, %v", p, err)
	}
	// A future version may add fields after the flags.
	if _, err := ParseTraceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds"); err != nil {
		t.Errorf("future version: %v", err)
	}
	for _, bad := range []string{
		"",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
		"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
		"cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
		"00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
		"0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e473z-00f067aa0ba902b7-01",
	} {
		if _, err := ParseTraceparent(bad); err == nil {
			t.Errorf("ParseTraceparent(%q): no error", bad)
		}
	}
}

func FuzzParseTraceparent(f *testing.F) {
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	f.Add("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x")
	f.Fuzz(func(t *testing.T, v string) {
		p, err := ParseTraceparent(v)
		if err == nil && (p.TraceID == [16]byte{} || p.SpanID == [8]byte{}) {
			t.Errorf("%q: zero ID accepted", v)
		}
	})
}
