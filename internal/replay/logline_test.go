package replay

import (
	"bufio"
	"io/fs"
	"strings"
	"testing"
)

// TestLogLinesRoundTrip: every recorded line parses, and rendering it gives
// the line back byte for byte, so the replayed log differs from the
// recording only where the replay means it to (time, version, --dir).
func TestLogLinesRoundTrip(t *testing.T) {
	t.Parallel()
	err := fs.WalkDir(embedded, "testdata/logs", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := embedded.ReadFile(p)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		sc.Buffer(nil, 1<<20)
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			e, err := parseEntry(line)
			if err != nil {
				t.Errorf("%s:%d: %v", p, n, err)
				continue
			}
			if got := e.render(); got != line {
				t.Errorf("%s:%d: rendered\n%s\nwant\n%s", p, n, got, line)
			}
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// FuzzParseEntry: parsing never panics, and what parses renders to a line
// that parses to the same entry.
func FuzzParseEntry(f *testing.F) {
	for _, s := range []string{
		`time="2026-11-23T18:42:10Z" level=info msg="Consuming Install Config from target directory"`,
		`time="2021-04-07T11:57:39-04:00" level=error`,
		`time="2026-11-23T18:42:10Z" level=info msg=Deleted extra=1`,
		`time="2024-11-05T13:13:23+01:00" level=error msg="a\nb \"c\""`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		e, err := parseEntry(line)
		if err != nil {
			return
		}
		e2, err := parseEntry(e.render())
		if err != nil {
			t.Fatalf("rendered %q does not parse: %v", e.render(), err)
		}
		if e2.render() != e.render() {
			t.Fatalf("not stable: %q then %q", e.render(), e2.render())
		}
	})
}
