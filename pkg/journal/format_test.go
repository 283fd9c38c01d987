package journal

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/mailru/easyjson"

	"github.com/install-metrics/install-metrics/pkg/record"
)

// fill sets every field v reaches to a value that is not its zero value:
// strings that need escaping, two elements in each slice. A field added to
// a journal type (or to record.Invocation) without `make generate` is then
// in encoding/json's output and not in the generated encoder's.
func fill(t *testing.T, v reflect.Value, s string) {
	t.Helper()
	switch {
	case v.Type() == reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(time.Date(2026, 12, 2, 14, 3, 4, 567891234, time.FixedZone("X", 3600))))
		return
	case v.Type() == reflect.TypeFor[time.Duration]():
		v.SetInt(int64(91*time.Minute + 7*time.Nanosecond))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(-1 << 40)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(t, v.Index(i), s)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			fill(t, v.Field(i), s)
		}
	default:
		t.Fatalf("fill: %s (a %s) is new to this test: teach it the kind", v.Type(), v.Kind())
	}
}

// TestFormatMatchesEncodingJSON holds the generated encoders
// (format_easyjson.go) to encoding/json's bytes, which the readers decode:
// for every field, and for strings that need escaping (HTML characters,
// U+2028, control characters, invalid UTF-8).
func TestFormatMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"plain", `q"b\s/<a href=x>&amp;`, "\u2028\u2029\x00\x1f\x7f é ✓ 𝄞", "bad \xff\xfe utf-8 \xed\xa0\x80"} {
		for _, v := range []easyjson.Marshaler{&state{}} {
			fill(t, reflect.ValueOf(v).Elem(), s)
			got, err := easyjson.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("%T with %q: the generated encoder (run `make generate`?) wrote\n%s\nencoding/json writes\n%s", v, s, got, want)
			}
		}
	}
	// Nil slices and empty omitempty fields, as Begin writes them.
	for _, v := range []easyjson.Marshaler{&state{Invocation: record.Invocation{Result: record.Interrupted, ExitCode: -1}}, &state{}} {
		got, _ := easyjson.Marshal(v)
		want, _ := json.Marshal(v)
		if string(got) != string(want) {
			t.Errorf("%T, empty: generated\n%s\nencoding/json\n%s", v, got, want)
		}
	}
}
