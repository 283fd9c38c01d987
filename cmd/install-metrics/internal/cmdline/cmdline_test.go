package cmdline

import (
	"errors"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The package may not import strings, strconv or path/filepath (see the
// package comment); its helpers must say what those would.

func checkHelpers(t *testing.T, s string) {
	t.Helper()
	b, a, f := cut(s, '=')
	wb, wa, wf := strings.Cut(s, "=")
	if b != wb || a != wa || f != wf {
		t.Errorf("cut(%q) = %q, %q, %v; strings.Cut says %q, %q, %v", s, b, a, f, wb, wa, wf)
	}
	if got, want := hasPrefix(s, "--metrics-"), strings.HasPrefix(s, "--metrics-"); got != want {
		t.Errorf("hasPrefix(%q) = %v, want %v", s, got, want)
	}
	if got, want := contains(s, '/'), strings.Contains(s, "/"); got != want {
		t.Errorf("contains(%q) = %v, want %v", s, got, want)
	}
	if got, want := base(s), filepath.Base(s); got != want {
		t.Errorf("base(%q) = %q, want %q", s, got, want)
	}
	gotB, gotErr := ParseBool(s)
	wantB, wantErr := strconv.ParseBool(s)
	if gotB != wantB || (gotErr == nil) != (wantErr == nil) {
		t.Errorf("ParseBool(%q) = %v, %v; strconv says %v, %v", s, gotB, gotErr, wantB, wantErr)
	}
	// lowerTrim serves ASCII words; on ASCII input it must be exact.
	ascii := true
	for i := 0; i < len(s); i++ {
		ascii = ascii && s[i] < 0x80
	}
	if got, want := lowerTrim(s), strings.ToLower(strings.TrimSpace(s)); ascii && got != want {
		t.Errorf("lowerTrim(%q) = %q, want %q", s, got, want)
	}
	if unq, err := strconv.Unquote(quote(s)); err != nil || unq != s {
		t.Errorf("quote(%q) = %s does not unquote back: %q, %v", s, quote(s), unq, err)
	}
}

func TestHelpersAgreeWithTheStandardLibrary(t *testing.T) {
	for _, s := range []string{"", "=", "a=b=c", "--metrics-", "--metrics-sink=x", "/", "//", "a/", "a//b/",
		"/usr/bin/oi", "oi", " Off\t", "TRUE", "True", "tRUE", "1", "0", "yes", "f", "ünï\"\\\x00",
		"\n\v\f\r off \r\n", "DISABLED"} {
		checkHelpers(t, s)
	}
}

func FuzzHelpers(f *testing.F) {
	for _, s := range []string{"", "a=b", "--metrics-x", "/a/b/", " Off ", "true", "\x00\xff\""} {
		f.Add(s)
	}
	f.Fuzz(checkHelpers)
}

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		flags []string // name=value
		rest  []string
		err   string
	}{
		{args: []string{"create", "cluster", "--dir", "c1"}, rest: []string{"create", "cluster", "--dir", "c1"}},
		{args: []string{"--no-metrics", "create", "--installer", "/oi", "cluster", "--metrics-debug=false"},
			flags: []string{"--no-metrics=true", "--installer=/oi", "--metrics-debug=false"}, rest: []string{"create", "cluster"}},
		{args: []string{"version", "--metrics-sink=a=b", "--", "", "--metrics-timeout", "1s"},
			flags: []string{"--metrics-sink=a=b", "--metrics-timeout=1s"}, rest: []string{"version", "--", ""}},
		{args: []string{"version", "--metrics-sinks", "x"}, err: "unknown flag --metrics-sinks: see install-metrics --help for the metrics flags"},
		{args: []string{"version", "--installer"}, err: "flag --installer needs a value: --installer PATH"},
	} {
		vals, rest, err := Split(tc.args)
		if tc.err != "" {
			var ue *UsageError
			if !errors.As(err, &ue) || err.Error() != tc.err {
				t.Errorf("Split(%q) error = %v, want UsageError %q", tc.args, err, tc.err)
			}
			continue
		}
		var flags []string
		for _, v := range vals {
			flags = append(flags, v.Def.Name+"="+v.Val)
		}
		if err != nil || !cmp.Equal(flags, tc.flags) || !cmp.Equal(rest, tc.rest) {
			t.Errorf("Split(%q) = %q, %q, %v; want %q, %q", tc.args, flags, rest, err, tc.flags, tc.rest)
		}
	}
}

func TestOurs(t *testing.T) {
	for _, tc := range []struct {
		rest []string
		want bool
	}{
		{nil, true}, {[]string{"metrics", "show"}, true}, {[]string{"--help"}, true}, {[]string{"-h"}, true},
		{[]string{"version"}, false}, {[]string{"create", "--help"}, false}, {[]string{"help"}, false},
	} {
		if got := Ours(tc.rest); got != tc.want {
			t.Errorf("Ours(%q) = %v, want %v", tc.rest, got, tc.want)
		}
	}
}

// The opt-out path runs from package initialisation, before client_golang
// and protobuf initialise, only while it imports nothing that sorts after
// them (see the package comment). This says which import broke that; the
// end-to-end TestOptOutExecsBeforeHeavyInit shows the effect.
func TestOptOutPathImports(t *testing.T) {
	allowed := map[string]bool{"errors": true, "io/fs": true, "os": true, "syscall": true,
		"github.com/install-metrics/install-metrics/cmd/install-metrics/internal/cmdline": true,
		"github.com/install-metrics/install-metrics/cmd/install-metrics/internal/optout":  true,
	}
	for _, dir := range []string{".", "../optout", "../optout/early"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", dir, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range parsed.Imports {
				if p, _ := strconv.Unquote(imp.Path.Value); !allowed[p] {
					t.Errorf("%s imports %s: the opt-out exec would wait for client_golang's initialisation", f, p)
				}
			}
		}
	}
}
