package modification

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const awsInstallConfig = `apiVersion: v1
metadata:
  name: c
platform:
  aws:
    region: us-east-1
pullSecret: '{"auths":{"quay.io":{"auth":"cXVheQ=="},"cloud.openshift.com":{"auth":"Y2xvdWQ6dG9rZW4=","email":"a@b.c"}}}'
`

func TestPlatform(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		state []byte
		want  string
	}{
		{name: "nothing", want: "unknown"},
		{name: "install-config.yaml", files: map[string]string{installConfigName: awsInstallConfig}, want: "aws"},
		{
			name:  "install-config.yaml wins over the state",
			files: map[string]string{installConfigName: awsInstallConfig},
			state: realState(t, run02),
			want:  "aws",
		},
		{name: "state file", state: realState(t, run02), want: "none"},
		{name: "state file after ignition configs", state: realState(t, run03), want: "none"},
		{
			name:  "metadata.json",
			files: map[string]string{"metadata.json": `{"clusterName":"c","clusterID":"x","infraID":"c-x","vsphere":{"vCenter":"v"}}`},
			want:  "vsphere",
		},
		{
			name:  "metadata.json for platform none has no platform key",
			files: map[string]string{"metadata.json": string(realMetadata(t))},
			want:  "unknown",
		},
		{
			name: "install-config.yaml without a platform, then metadata.json",
			files: map[string]string{
				installConfigName: "apiVersion: v1\n",
				"metadata.json":   `{"clusterName":"c","gcp":{"region":"r"}}`,
			},
			want: "gcp",
		},
		{name: "a platform outside the closed set", files: map[string]string{installConfigName: "platform:\n  mycloud: {}\n"}, want: "unknown"},
		{name: "two platforms", files: map[string]string{installConfigName: "platform:\n  aws: {}\n  gcp: {}\n"}, want: "unknown"},
		{name: "not YAML", files: map[string]string{installConfigName: "platform: [aws\n"}, want: "unknown"},
		{name: "platform is a string", files: map[string]string{installConfigName: "platform: aws\n"}, want: "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for n, c := range tt.files {
				writeFile(t, dir, n, []byte(c))
			}
			if tt.state != nil {
				writeFile(t, dir, ".openshift_install_state.json", tt.state)
			}
			for _, opts := range []Options{{}, {PlatformOnly: true}} {
				if got := Take(dir, opts).Platform(); got != tt.want {
					t.Errorf("Take(%+v).Platform() = %q, want %q", opts, got, tt.want)
				}
			}
		})
	}
}

// realMetadata is run 03's metadata.json, rebuilt from its state.
func realMetadata(t *testing.T) []byte {
	dir := buildDir(t, realState(t, run03), readListing(t, run03, "after"), nil)
	return readDirFile(t, dir, "metadata.json")
}

func TestPullSecretToken(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string][]byte
		want   string
		wantOK bool
	}{
		{name: "nothing"},
		{
			name:   "install-config.yaml",
			files:  map[string][]byte{installConfigName: []byte(awsInstallConfig)},
			want:   "Y2xvdWQ6dG9rZW4=",
			wantOK: true,
		},
		{
			name:   "the real runs' install-config.yaml",
			files:  map[string][]byte{installConfigName: realFile(t, "", "install-config.input.yaml")},
			want:   "dXNlcjpwYXNz",
			wantOK: true,
		},
		{
			name:   "state file, once install-config.yaml was consumed",
			files:  map[string][]byte{".openshift_install_state.json": realState(t, run02)},
			want:   "dXNlcjpwYXNz",
			wantOK: true,
		},
		{
			name: "no cloud.openshift.com auth",
			files: map[string][]byte{installConfigName: []byte(
				`pullSecret: '{"auths":{"quay.io":{"auth":"cXVheQ=="}}}'`)},
		},
		{name: "pull secret not JSON", files: map[string][]byte{installConfigName: []byte(`pullSecret: not-json`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for n, c := range tt.files {
				writeFile(t, dir, n, c)
			}
			got, ok := Take(dir, Options{}).PullSecretToken()
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("PullSecretToken() = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// No printer reaches the token, nor anything else from the pull secret.
func TestSnapshotNeverPrintsTheToken(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, installConfigName, []byte(awsInstallConfig))
	writeFile(t, dir, ".openshift_install_state.json", []byte("not JSON: Y2xvdWQ6dG9rZW4="))
	snap := Take(dir, Options{})
	if tok, ok := snap.PullSecretToken(); !ok || tok != "Y2xvdWQ6dG9rZW4=" {
		t.Fatalf("PullSecretToken() = %q, %v", tok, ok)
	}

	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %v"} {
		out = append(out, fmt.Sprintf(verb, snap), fmt.Sprintf(verb, *snap), fmt.Sprintf(verb, snap.token))
	}
	out = append(out, fmt.Sprint(snap), fmt.Sprintln(*snap), snap.String())
	for _, v := range []any{snap, *snap, struct{ S *Snapshot }{snap}} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	logger.Info("taken", "snapshot", snap, "value", *snap)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("taken", "snapshot", snap)
	out = append(out, buf.String())
	out = append(out, snap.Warnings()...)

	for _, s := range out {
		for _, secret := range []string{"Y2xvdWQ6dG9rZW4=", "cloud:token", "cXVheQ==", "auths"} {
			if strings.Contains(s, secret) {
				t.Errorf("printed %q, which holds %q", s, secret)
			}
		}
	}
	if !strings.Contains(fmt.Sprint(snap), "platform: aws") {
		t.Errorf("String() = %q, want the platform in it", snap)
	}
}

func TestPlatformOnlySkipsComparison(t *testing.T) {
	dir := modifiedDir(t)
	snap := Take(dir, Options{PlatformOnly: true})
	if m := snap.Modified(); m != nil {
		t.Errorf("Modified() = %q, want nil", m)
	}
	if p := snap.Platform(); p != "none" {
		t.Errorf("Platform() = %q, want none", p)
	}
}

// Modified returns a copy: callers cannot change the snapshot.
func TestModifiedReturnsACopy(t *testing.T) {
	snap := Take(modifiedDir(t), Options{})
	m := snap.Modified()
	m[0] = "changed"
	if got := snap.Modified()[0]; got != schedulerManifest {
		t.Errorf("Modified()[0] = %q after changing a returned slice", got)
	}
}

func TestMissingDirectory(t *testing.T) {
	parent := t.TempDir()
	writeFile(t, parent, "a-file", []byte("x"))
	for _, dir := range []string{filepath.Join(parent, "not-yet"), filepath.Join(parent, "a-file")} {
		snap := Take(dir, Options{})
		if snap.Modified() != nil || snap.Warnings() != nil || snap.Platform() != "unknown" {
			t.Errorf("Take(%s) = %v, %q, %q", dir, snap, snap.Modified(), snap.Warnings())
		}
	}
	if _, err := os.Stat(filepath.Join(parent, "not-yet")); err == nil {
		t.Error("Take created the directory")
	}
}
