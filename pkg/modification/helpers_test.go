package modification

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/install-metrics/install-metrics/hack/bench/modification/benchdata"
)

// realDir holds copies of the real installer runs (its README.md says which).
const realDir = "../../testdata/installer-real"

const (
	run02 = "02-create-manifests"
	run03 = "03-create-ignition-configs-unmodified"
	run04 = "04-create-ignition-configs-modified-manifest"
	run06 = "06-create-manifests-rerun"
	run14 = "14-create-single-node-ignition-config"
	run15 = "15-create-ignition-configs-SIGINT"
	run16 = "16-create-install-config-existing"
	run18 = "18-create-ignition-configs-extra-user-manifest"
)

type listed = benchdata.Listed

func readListing(t testing.TB, run, which string) []listed {
	t.Helper()
	list, err := benchdata.ParseListing(realFile(t, run, "listing-"+which+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func realFile(t testing.TB, run, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(realDir, run, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func realState(t testing.TB, run string) []byte {
	t.Helper()
	return realFile(t, run, "openshift_install_state.json")
}

// stateContents decodes every file of a state file with encoding/json,
// independently of the parser under test.
func stateContents(t testing.TB, state []byte) map[string][][]byte {
	t.Helper()
	c, err := benchdata.StateContents(state)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// buildDir rebuilds a real run's asset directory in a new temporary
// directory (benchdata.Rebuild: every file checked against the listing).
func buildDir(t testing.TB, state []byte, list []listed, extra map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := benchdata.Rebuild(dir, state, list, extra); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeFile(t testing.TB, dir, name string, data []byte) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readDirFile(t testing.TB, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// applyEditDiff applies a one-line `diff` (as run 04's edit.diff: "7c7",
// "< old", "---", "> new") to data.
func applyEditDiff(t testing.TB, data, diff []byte) []byte {
	t.Helper()
	lines := strings.Split(strings.TrimRight(string(diff), "\n"), "\n")
	if len(lines) != 4 || lines[2] != "---" || !strings.HasPrefix(lines[1], "< ") || !strings.HasPrefix(lines[3], "> ") {
		t.Fatalf("unexpected edit.diff %q", diff)
	}
	n, err := strconv.Atoi(strings.SplitN(lines[0], "c", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	file := strings.Split(string(data), "\n")
	if file[n-1] != lines[1][2:] {
		t.Fatalf("line %d is %q, edit.diff expects %q", n, file[n-1], lines[1][2:])
	}
	file[n-1] = lines[3][2:]
	return []byte(strings.Join(file, "\n"))
}

// unpinned returns the listing with the named paths' content not pinned.
func unpinned(list []listed, paths ...string) []listed {
	out := append([]listed(nil), list...)
	for i := range out {
		for _, p := range paths {
			if out[i].Path == p {
				out[i].SHA = benchdata.AnySHA
			}
		}
	}
	return out
}

// without returns the listing minus the named paths.
func without(list []listed, paths ...string) []listed {
	var out []listed
	for _, l := range list {
		drop := false
		for _, p := range paths {
			drop = drop || l.Path == p
		}
		if !drop {
			out = append(out, l)
		}
	}
	return out
}
