package modification

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/install-metrics/install-metrics/hack/bench/modification/benchdata"
)

// Whole-process figures against sha256sum: hack/bench/modification.sh.

// BenchmarkTakeRun02 is the real run-02 directory: what the wrapper adds
// before `create ignition-configs` after `create manifests`.
func BenchmarkTakeRun02(b *testing.B) {
	benchmarkTake(b, buildDir(b, realState(b, run02), readListing(b, run02, "after"), nil))
}

// BenchmarkTakeRun03 is the real directory `create ignition-configs` leaves
// (1.2 MB state file): what the wrapper adds before `create cluster`.
func BenchmarkTakeRun03(b *testing.B) {
	benchmarkTake(b, buildDir(b, realState(b, run03), readListing(b, run03, "after"), nil))
}

// BenchmarkTakeLarge is 2,000 manifests and three 1 MiB ignition configs,
// none modified: every byte compared.
func BenchmarkTakeLarge(b *testing.B) {
	dir := b.TempDir()
	if err := benchdata.Large(dir, 2000, 1<<20); err != nil {
		b.Fatal(err)
	}
	benchmarkTake(b, dir)
}

// BenchmarkTakeLargeAllReformatted is the worst case: every manifest's
// bytes differ, so every one is kept, and parsed as YAML on both sides when
// Modified is called (after the installer started; Take/only is the part on
// the start-up path).
func BenchmarkTakeLargeAllReformatted(b *testing.B) {
	dir := b.TempDir()
	if err := benchdata.Large(dir, 2000, 1<<20); err != nil {
		b.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "manifests"))
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		p := filepath.Join(dir, "manifests", e.Name())
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("# reviewed\n"+strings.ReplaceAll(string(data), "  ", "    ")), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("only", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Take(dir, Options{})
		}
	})
	b.Run("and-Modified", func(b *testing.B) { benchmarkTake(b, dir) })
}

// benchmarkTake times Take and Modified on a directory where nothing is
// modified.
func benchmarkTake(b *testing.B, dir string) {
	b.ReportAllocs()
	for b.Loop() {
		snap := Take(dir, Options{})
		if m := snap.Modified(); m != nil || snap.Warnings() != nil {
			b.Fatalf("Modified() = %q, Warnings() = %q", m, snap.Warnings())
		}
	}
}

// BenchmarkParseState is the state-file parser alone on run 03's 1.2 MB file.
func BenchmarkParseState(b *testing.B) {
	data := realState(b, run03)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseState(data); err != nil {
			b.Fatal(err)
		}
	}
}
