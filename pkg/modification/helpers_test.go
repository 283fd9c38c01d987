package modification

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
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

// listed is one line of a run's listing-before.txt or listing-after.txt.
type listed struct {
	sha  string
	size int
	path string
}

func readListing(t testing.TB, run, which string) []listed {
	t.Helper()
	f, err := os.Open(filepath.Join(realDir, run, "listing-"+which+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []listed
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 {
			t.Fatalf("bad listing line %q", sc.Text())
		}
		size, err := strconv.Atoi(fields[1])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, listed{sha: fields[0], size: size, path: fields[2]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
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

// stateContents decodes every {"Filename", "Data"} object of a state file
// with encoding/json, independently of the parser under test: name -> every
// distinct content.
func stateContents(t testing.TB, state []byte) map[string][][]byte {
	t.Helper()
	var top map[string]any
	if err := json.Unmarshal(state, &top); err != nil {
		t.Fatal(err)
	}
	out := map[string][][]byte{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			name, ok1 := v["Filename"].(string)
			data, ok2 := v["Data"].(string)
			ok2 = ok2 || v["Data"] == nil
			if ok1 && ok2 {
				b, err := base64.StdEncoding.DecodeString(data)
				if err != nil {
					t.Fatal(err)
				}
				for _, have := range out[name] {
					if bytes.Equal(have, b) {
						return
					}
				}
				out[name] = append(out[name], b)
				return
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(top)
	return out
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// buildDir rebuilds a real run's asset directory in a new temporary
// directory: every file of the listing (the installer's hidden files aside)
// is taken from the state file's contents with the listed sha256, or from
// extra (which must match the listing too, unless its sha is "*"). The state
// file is copied in as .openshift_install_state.json.
func buildDir(t testing.TB, state []byte, list []listed, extra map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	contents := stateContents(t, state)
	for _, l := range list {
		if strings.HasPrefix(l.path, ".openshift_install") {
			continue
		}
		data, ok := extra[l.path]
		if ok && l.sha != anySHA && sha(data) != l.sha {
			t.Fatalf("%s: sha256 %s, the listing says %s", l.path, sha(data), l.sha)
		}
		if !ok {
			for _, c := range contents[l.path] {
				if sha(c) == l.sha {
					data, ok = c, true
				}
			}
		}
		if !ok {
			t.Fatalf("%s (sha256 %s) is not in the state file", l.path, l.sha)
		}
		writeFile(t, dir, l.path, data)
	}
	writeFile(t, dir, ".openshift_install_state.json", state)
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
			if out[i].path == p {
				out[i].sha = anySHA
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
			drop = drop || l.path == p
		}
		if !drop {
			out = append(out, l)
		}
	}
	return out
}

// anySHA marks an extra file whose content the listing does not pin.
const anySHA = "*"
