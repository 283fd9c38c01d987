package modification

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

const schedulerManifest = "manifests/cluster-scheduler-02-config.yml"

// editedScheduler is run 04's edit applied to run 02's scheduler manifest.
func editedScheduler(t testing.TB) []byte {
	gen := stateContents(t, realState(t, run02))[schedulerManifest]
	if len(gen) != 1 {
		t.Fatalf("run 02's state holds %d versions of %s", len(gen), schedulerManifest)
	}
	return applyEditDiff(t, gen[0], realFile(t, run04, "edit.diff"))
}

// installConfigOnlyState is the state `create install-config` leaves (run
// 16's was not kept): the install-config entry, which is the same in run 02
// (its `file` is byte for byte run 16's install-config.after.yaml).
func installConfigOnlyState(t testing.TB) []byte {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(realState(t, run02), &top); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(map[string]json.RawMessage{installConfigEntry: top[installConfigEntry]})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// reformatYAML returns the same YAML data written differently: every
// mapping's keys in reverse order, four-space indentation, comments added.
func reformatYAML(t testing.TB, data []byte) []byte {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var reverse func(n *yaml.Node)
	reverse = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			var pairs [][2]*yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				pairs = append(pairs, [2]*yaml.Node{n.Content[i], n.Content[i+1]})
			}
			n.Content = n.Content[:0]
			for i := len(pairs) - 1; i >= 0; i-- {
				pairs[i][0].LineComment = "edited by hand"
				n.Content = append(n.Content, pairs[i][0], pairs[i][1])
			}
		}
		for _, c := range n.Content {
			reverse(c)
		}
	}
	reverse(&doc)
	doc.HeadComment = "reviewed before install"
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(4)
	if err := enc.Encode(&doc); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(buf.Bytes(), data) {
		t.Fatal("reformatting changed nothing")
	}
	return buf.Bytes()
}

// reserialiseJSON returns the same JSON data indented and with keys sorted.
func reserialiseJSON(t testing.TB, data []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	out, err := json.MarshalIndent(v, "", "   ")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(out, data) {
		t.Fatal("re-serialising changed nothing")
	}
	return out
}

// editJSON changes one value inside an ignition config.
func editJSON(t testing.TB, data []byte) []byte {
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	v["ignition"].(map[string]any)["version"] = "3.1.0"
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRealRuns(t *testing.T) {
	const userManifest = "manifests/99-user-extra-configmap.yaml"
	tests := []struct {
		name  string
		setup func(t *testing.T) string
		want  []string
	}{
		{
			name: "run 03: create manifests output, unmodified",
			setup: func(t *testing.T) string {
				return buildDir(t, realState(t, run02), readListing(t, run03, "before"), nil)
			},
		},
		{
			name: "run 06: create manifests output, unmodified, before a rerun",
			setup: func(t *testing.T) string {
				return buildDir(t, realState(t, run02), readListing(t, run06, "before"), nil)
			},
		},
		{
			name: "run 04: edited scheduler manifest",
			setup: func(t *testing.T) string {
				return buildDir(t, realState(t, run02), readListing(t, run04, "before"),
					map[string][]byte{schedulerManifest: editedScheduler(t)})
			},
			want: []string{schedulerManifest},
		},
		{
			// Run 04's own state holds the edit in *manifests.Manifests and the
			// generated file in *manifests.Scheduler: the state a rerun of
			// `create manifests` after the edit leaves. The source entry is
			// authoritative, so the edit is still found.
			name: "run 04: edited manifest already absorbed into the state",
			setup: func(t *testing.T) string {
				return buildDir(t, realState(t, run04), readListing(t, run04, "before"),
					map[string][]byte{schedulerManifest: editedScheduler(t)})
			},
			want: []string{schedulerManifest},
		},
		{
			name: "run 18: added manifest and README.txt",
			setup: func(t *testing.T) string {
				return buildDir(t, realState(t, run02), unpinned(readListing(t, run18, "before"), "manifests/README.txt"),
					map[string][]byte{
						userManifest:           realFile(t, run18, "added-99-user-extra-configmap.yaml"),
						"manifests/README.txt": []byte("notes for the admins\n"),
					})
			},
			want: []string{UserAdded},
		},
		{
			name: "run 18: README.txt only, which the installer does not read",
			setup: func(t *testing.T) string {
				return buildDir(t, realState(t, run02),
					unpinned(without(readListing(t, run18, "before"), userManifest), "manifests/README.txt"),
					map[string][]byte{"manifests/README.txt": []byte("notes for the admins\n")})
			},
		},
		{
			name: "run 02 output with a generated manifest deleted (as UPI docs ask for machine manifests)",
			setup: func(t *testing.T) string {
				return buildDir(t, realState(t, run02),
					without(readListing(t, run02, "after"), "openshift/99_openshift-cluster-api_master-user-data-secret.yaml"), nil)
			},
			want: []string{UserRemoved},
		},
		{
			name: "edited, added and deleted at once",
			setup: func(t *testing.T) string {
				list := without(readListing(t, run02, "after"), "manifests/cvo-overrides.yaml", "openshift/99_feature-gate.yaml")
				dir := buildDir(t, realState(t, run02), list, nil)
				writeFile(t, dir, schedulerManifest, editedScheduler(t))
				writeFile(t, dir, "openshift/99-extra.json", []byte(`{"kind":"ConfigMap"}`))
				writeFile(t, dir, userManifest, realFile(t, run18, "added-99-user-extra-configmap.yaml"))
				return dir
			},
			want: []string{schedulerManifest, UserAdded, UserRemoved},
		},
		{
			name: "every manifest re-indented, keys reordered, comments added",
			setup: func(t *testing.T) string {
				dir := buildDir(t, realState(t, run02), readListing(t, run02, "after"), nil)
				for _, l := range readListing(t, run02, "after") {
					if strings.Contains(l.Path, "/") && l.Size > 0 {
						writeFile(t, dir, l.Path, reformatYAML(t, readDirFile(t, dir, l.Path)))
					}
				}
				return dir
			},
		},
		{
			name: "create ignition-configs output, unmodified, before create cluster",
			setup: func(t *testing.T) string {
				return buildDir(t, realState(t, run03), readListing(t, run03, "after"), nil)
			},
		},
		{
			name: "bootstrap.ign edited before create cluster",
			setup: func(t *testing.T) string {
				dir := buildDir(t, realState(t, run03), readListing(t, run03, "after"), nil)
				writeFile(t, dir, "bootstrap.ign", editJSON(t, readDirFile(t, dir, "bootstrap.ign")))
				return dir
			},
			want: []string{"bootstrap.ign"},
		},
		{
			name: "ignition configs re-serialised, same data",
			setup: func(t *testing.T) string {
				dir := buildDir(t, realState(t, run03), readListing(t, run03, "after"), nil)
				for _, n := range []string{"bootstrap.ign", "master.ign", "worker.ign"} {
					writeFile(t, dir, n, reserialiseJSON(t, readDirFile(t, dir, n)))
				}
				return dir
			},
		},
		{
			name: "after create ignition-configs the manifests are gone, legitimately",
			setup: func(t *testing.T) string {
				return buildDir(t, realState(t, run03), nil, nil)
			},
		},
		{
			name: "run 15: interrupted create ignition-configs",
			setup: func(t *testing.T) string {
				return buildDir(t, realState(t, run15), readListing(t, run15, "after"), nil)
			},
		},
		{
			name: "run 14: failed create single-node-ignition-config",
			setup: func(t *testing.T) string {
				return buildDir(t, realState(t, run14), readListing(t, run14, "after"), nil)
			},
		},
		{
			name: "run 16: install-config.yaml as create install-config wrote it",
			setup: func(t *testing.T) string {
				return buildDir(t, installConfigOnlyState(t), readListing(t, run16, "after"),
					map[string][]byte{installConfigName: realFile(t, run16, "install-config.after.yaml")})
			},
		},
		{
			name: "run 16: install-config.yaml edited after create install-config",
			setup: func(t *testing.T) string {
				ic := bytes.Replace(realFile(t, run16, "install-config.after.yaml"), []byte("replicas: 0"), []byte("replicas: 3"), 1)
				return buildDir(t, installConfigOnlyState(t), unpinned(readListing(t, run16, "after"), installConfigName),
					map[string][]byte{installConfigName: ic})
			},
			want: []string{installConfigName},
		},
		{
			// The user's own install-config (no defaults filled in) put back
			// next to the manifests: the installer finds it equal to its own.
			name: "the user's original install-config.yaml next to run 02's output",
			setup: func(t *testing.T) string {
				dir := buildDir(t, realState(t, run02), readListing(t, run02, "after"), nil)
				writeFile(t, dir, installConfigName, realFile(t, "", "install-config.input.yaml"))
				return dir
			},
		},
		{
			name: "install-config.yaml with a value the user removed from the default",
			setup: func(t *testing.T) string {
				dir := buildDir(t, realState(t, run02), readListing(t, run02, "after"), nil)
				ic := bytes.Replace(realFile(t, "", "install-config.input.yaml"), []byte("OVNKubernetes"), []byte("OpenShiftSDN"), 1)
				writeFile(t, dir, installConfigName, ic)
				return dir
			},
			want: []string{installConfigName},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := Take(tt.setup(t), Options{})
			if diff := cmp.Diff(tt.want, snap.Modified()); diff != "" {
				t.Errorf("Modified() mismatch (-want +got):\n%s", diff)
			}
			if w := snap.Warnings(); len(w) != 0 {
				t.Errorf("Warnings() = %q, want none", w)
			}
			if got := snap.Platform(); got != "none" {
				t.Errorf("Platform() = %q, want none", got)
			}
		})
	}
}

// The premise of sourceEntries: in every real state, each source holds the
// same bytes as the target entry that copies it. Run 04 is the exception that
// shows why sources win: the target holds the user's edit.
func TestSourcesAreVerbatimCopies(t *testing.T) {
	for _, run := range []string{run02, run03, run06, run04} {
		st, err := parseState(realState(t, run))
		if err != nil {
			t.Fatal(err)
		}
		targets := map[string]string{}
		for _, k := range manifestTargets {
			for _, f := range st.entries[k] {
				targets[f.name] = string(f.data)
			}
		}
		for _, k := range sourceEntries {
			for _, f := range st.entries[k] {
				want := run != run04 || f.name != schedulerManifest
				if got := targets[f.name] == string(f.data); got != want {
					t.Errorf("run %s: %s's %s equal to the target's copy: %v, want %v", run, k, f.name, got, want)
				}
			}
		}
	}
}

// Every file the real runs generated may become a label: none is mistaken
// for a file the user added.
func TestRealGeneratedNamesAreVouched(t *testing.T) {
	for _, run := range []string{run02, run03, run06, run14, run15} {
		st, err := parseState(realState(t, run))
		if err != nil {
			t.Fatal(err)
		}
		ix := newIndex(st)
		for p := range ix.files {
			if got := labelFor(p, ix); got != p {
				t.Errorf("run %s: label for %s is %q", run, p, got)
			}
		}
	}
}
