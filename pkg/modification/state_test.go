package modification

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// modifiedDir is run 02's output with the scheduler manifest edited, a
// manifest added and one deleted: with a usable state file it reports all
// three, so any state that is not usable shows as a false report.
func modifiedDir(t *testing.T) string {
	t.Helper()
	dir := buildDir(t, realState(t, run02), without(readListing(t, run02, "after"), "manifests/cvo-overrides.yaml"), nil)
	writeFile(t, dir, schedulerManifest, editedScheduler(t))
	writeFile(t, dir, "manifests/99-user-extra-configmap.yaml", realFile(t, run18, "added-99-user-extra-configmap.yaml"))
	return dir
}

var allThree = []string{schedulerManifest, UserAdded, UserRemoved}

// editState decodes run 02's state, lets edit change it and encodes it again.
func editState(t *testing.T, edit func(top map[string]any)) []byte {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(realState(t, run02)))
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil {
		t.Fatal(err)
	}
	edit(top)
	out, err := json.Marshal(top)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func entry(top map[string]any, key string) map[string]any {
	return top[key].(map[string]any)
}

func fileList(top map[string]any, key string) []any {
	return entry(top, key)["FileList"].([]any)
}

// Secrets in run 02's state that must never reach a warning.
var stateSecrets = []string{"dXNlcjpwYXNz", "PRIVATE KEY", "-----BEGIN", "user:pass"}

func TestStateFiles(t *testing.T) {
	valid := realState(t, run02)
	tests := []struct {
		name     string
		state    []byte // nil: no state file
		files    map[string]string
		want     []string
		warnings int
	}{
		{name: "usable", state: valid, want: allThree},
		{name: "missing", state: nil},
		{name: "empty", state: []byte{}, warnings: 1},
		{name: "truncated after 10 bytes", state: valid[:10], warnings: 1},
		{name: "truncated in half", state: valid[:len(valid)/2], warnings: 1},
		{name: "truncated by one byte", state: valid[:len(valid)-1], warnings: 1},
		{name: "trailing garbage", state: append(append([]byte(nil), valid...), "}x"...), warnings: 1},
		{name: "trailing NUL bytes", state: append(append([]byte(nil), valid...), 0, 0), warnings: 1},
		{name: "not JSON", state: []byte("this is not the state you are looking for\n"), warnings: 1},
		{name: "binary", state: bytes.Repeat([]byte{0, 0xff, '{', '"'}, 1000), warnings: 1},
		{name: "array", state: []byte(`[]`), warnings: 1},
		{name: "string", state: []byte(`"state"`), warnings: 1},
		{name: "null", state: []byte(`null`), warnings: 1},
		{name: "empty object", state: []byte(`{}`), warnings: 1},
		{name: "deeply nested", state: []byte(`{"*x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`), warnings: 1},
		{
			name:     "Manifests is a string",
			state:    editState(t, func(top map[string]any) { top[manifestsEntry] = "manifests" }),
			warnings: 1,
		},
		{
			name:     "FileList is a number",
			state:    editState(t, func(top map[string]any) { entry(top, manifestsEntry)["FileList"] = 5 }),
			warnings: 1,
		},
		{
			name:     "FileList is empty",
			state:    editState(t, func(top map[string]any) { entry(top, manifestsEntry)["FileList"] = []any{} }),
			warnings: 1,
		},
		{
			// Files are found in any field, as for *machines.Master.
			name: "FileList renamed by a future installer",
			state: editState(t, func(top map[string]any) {
				e := entry(top, manifestsEntry)
				e["Files"], e["FileList"] = e["FileList"], nil
			}),
			want: allThree,
		},
		{
			name: "files in a shape we do not know",
			state: editState(t, func(top map[string]any) {
				files := map[string]any{}
				for _, f := range fileList(top, manifestsEntry) {
					files[f.(map[string]any)["Filename"].(string)] = f.(map[string]any)["Data"]
				}
				entry(top, manifestsEntry)["FileList"] = files
			}),
			warnings: 1,
		},
		{
			name: "Filename is a number",
			state: editState(t, func(top map[string]any) {
				fileList(top, manifestsEntry)[3].(map[string]any)["Filename"] = 3
			}),
			warnings: 1,
		},
		{
			name: "Data is an object",
			state: editState(t, func(top map[string]any) {
				fileList(top, "*manifests.Scheduler")[0].(map[string]any)["Data"] = map[string]any{}
			}),
			warnings: 1,
		},
		{
			name: "File is a string",
			state: editState(t, func(top map[string]any) {
				entry(top, "*machine.Master")["File"] = "master.ign"
			}),
			warnings: 1,
		},
		{
			name:     "InfraID is a number",
			state:    editState(t, func(top map[string]any) { entry(top, clusterIDEntry)["InfraID"] = 7 }),
			warnings: 1,
		},
		{
			name:     "no install config",
			state:    editState(t, func(top map[string]any) { delete(top, installConfigEntry) }),
			warnings: 1,
		},
		{
			name: "base64 that does not decode, in a compared file",
			state: editState(t, func(top map[string]any) {
				fileList(top, "*manifests.Scheduler")[0].(map[string]any)["Data"] = "not*base64!"
			}),
			warnings: 1,
		},
		{
			// tls/ is never on disk, so the file is never compared.
			name: "base64 that does not decode, in a file that is not on disk",
			state: editState(t, func(top map[string]any) {
				fileList(top, "*tls.RootCA")[0].(map[string]any)["Data"] = "not*base64!"
			}),
			want: allThree,
		},
		{
			name: "future installer: unknown entries, fields and file keys",
			state: editState(t, func(top map[string]any) {
				top["*future.Asset"] = map[string]any{"FileList": "not a list", "Nested": []any{[]any{map[string]any{"Filename": 1}}}}
				top["*future.Plain"] = []any{1, "two", nil, true}
				entry(top, manifestsEntry)["Checksums"] = map[string]any{"algorithm": "sha256"}
				for _, f := range fileList(top, manifestsEntry) {
					f.(map[string]any)["Mode"] = 420
				}
			}),
			want: allThree,
		},
		{
			name: "older installer: fewer entries, no cluster ID",
			state: editState(t, func(top map[string]any) {
				for _, k := range []string{"*manifests.DNS", "*manifests.Ingress", "*openshiftinstall.Config", clusterIDEntry, "*clusterapi.Cluster"} {
					delete(top, k)
				}
			}),
			want: allThree,
		},
		{
			// Without *manifests.Scheduler nothing but *manifests.Manifests,
			// which also absorbs the user's files, names the edited file: its
			// name is not trusted as a label.
			name: "edited file named only by the entry that absorbs user files",
			state: editState(t, func(top map[string]any) {
				delete(top, "*manifests.Scheduler")
			}),
			want: []string{UserAdded, UserRemoved},
		},
		{
			name: "edited Cluster API machine: the infrastructure ID leaves the label",
			state: editState(t, func(top map[string]any) {
				top["*machines.ClusterAPI"] = map[string]any{"FileList": []any{map[string]any{
					"Filename": "cluster-api/machines/10_inframachine_wrapper-test-q244p-master-0.yaml",
					"Data":     "a2luZDogQVdTTWFjaGluZQo=", // kind: AWSMachine
				}}}
			}),
			files: map[string]string{"cluster-api/machines/10_inframachine_wrapper-test-q244p-master-0.yaml": "kind: GCPMachine\n"},
			want:  append([]string{"cluster-api/machines/10_inframachine_<infraID>-master-0.yaml"}, allThree...),
		},
		{
			// A file the user added, absorbed into the state by a rerun of
			// `create manifests`, then edited: its name never becomes a label.
			name: "edited user file absorbed into the state",
			state: editState(t, func(top map[string]any) {
				entry(top, manifestsEntry)["FileList"] = append(fileList(top, manifestsEntry),
					map[string]any{"Filename": "manifests/99-user-extra-configmap.yaml", "Data": "YTogYgo="})
			}),
			want: []string{schedulerManifest, UserAdded, UserRemoved},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := modifiedDir(t)
			p := filepath.Join(dir, ".openshift_install_state.json")
			if tt.state == nil {
				if err := os.Remove(p); err != nil {
					t.Fatal(err)
				}
			} else if err := os.WriteFile(p, tt.state, 0o600); err != nil {
				t.Fatal(err)
			}
			for n, c := range tt.files {
				writeFile(t, dir, n, []byte(c))
			}
			snap := Take(dir, Options{})
			if diff := cmp.Diff(tt.want, snap.Modified()); diff != "" {
				t.Errorf("Modified() mismatch (-want +got):\n%s", diff)
			}
			checkWarnings(t, snap, tt.warnings)
		})
	}
}

// checkWarnings checks the count and that no secret or content leaks.
func checkWarnings(t *testing.T, snap *Snapshot, want int) {
	t.Helper()
	w := snap.Warnings()
	if len(w) != want {
		t.Errorf("Warnings() = %q, want %d", w, want)
	}
	for _, line := range w {
		if strings.Contains(line, "\n") || len(line) > 160 {
			t.Errorf("warning %q is not one short line", line)
		}
		for _, s := range stateSecrets {
			if strings.Contains(line, s) {
				t.Errorf("warning %q holds %q", line, s)
			}
		}
	}
}

func TestHugeStateFile(t *testing.T) {
	t.Run("default cap, sparse 300 MiB file", func(t *testing.T) {
		dir := modifiedDir(t)
		if err := os.Truncate(filepath.Join(dir, ".openshift_install_state.json"), 300<<20); err != nil {
			t.Fatal(err)
		}
		snap := Take(dir, Options{})
		if m := snap.Modified(); m != nil {
			t.Errorf("Modified() = %q, want nil", m)
		}
		checkWarnings(t, snap, 1)
		if !strings.Contains(snap.Warnings()[0], "over 256 MiB") {
			t.Errorf("warning %q does not say why", snap.Warnings()[0])
		}
	})
	t.Run("smaller cap", func(t *testing.T) {
		snap := Take(modifiedDir(t), Options{MaxStateBytes: 1000})
		if m := snap.Modified(); m != nil {
			t.Errorf("Modified() = %q, want nil", m)
		}
		checkWarnings(t, snap, 1)
	})
}

func TestStateFileNotRegular(t *testing.T) {
	t.Run("directory", func(t *testing.T) {
		dir := modifiedDir(t)
		p := filepath.Join(dir, ".openshift_install_state.json")
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		snap := Take(dir, Options{})
		if m := snap.Modified(); m != nil {
			t.Errorf("Modified() = %q, want nil", m)
		}
		checkWarnings(t, snap, 1)
	})
	t.Run("symlink to the real file is followed, as the installer does", func(t *testing.T) {
		dir := modifiedDir(t)
		p := filepath.Join(dir, ".openshift_install_state.json")
		if err := os.Rename(p, filepath.Join(dir, "state-copy.json")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("state-copy.json", p); err != nil {
			t.Fatal(err)
		}
		snap := Take(dir, Options{})
		if diff := cmp.Diff(allThree, snap.Modified()); diff != "" {
			t.Errorf("Modified() mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestStateFileErrors(t *testing.T) {
	// Errors name what is wrong, never what the file holds.
	for _, data := range [][]byte{
		realState(t, run02)[:5000],
		[]byte(`{"*installconfig.InstallConfig": {"config": {"pullSecret": "dXNlcjpwYXNz"}}, "x": dXNlcjpwYXNz}`),
	} {
		_, err := parseState(data)
		if err == nil {
			t.Fatal("parseState accepted a broken file")
		}
		for _, s := range stateSecrets {
			if strings.Contains(err.Error(), s) {
				t.Errorf("error %q holds %q", err, s)
			}
		}
	}
}
