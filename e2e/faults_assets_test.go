//go:build linux

package e2e

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// The asset directory is hostile: a state file that is truncated, not JSON,
// 500 MiB or from a future installer; symbolic links out of manifests/;
// unreadable files; an install-config.yaml that is not YAML, or whose pull
// secret is not JSON. `create cluster` (which consumes the assets) succeeds
// each time, so the modified assets are computed and sent.

// assetWorld is a world whose --dir holds what `create manifests` left (run
// by the replay installer, unwrapped), with install-config.yaml written back.
func assetWorld(t *testing.T, o worldOpts) *world {
	t.Helper()
	w := newWorld(t, o)
	cmd := exec.Command(w.bins.replay, "create", "manifests", "--dir", w.dir)
	cmd.Env = append(os.Environ(), "OPENSHIFT_INSTALL_REPLAY_SPEED=inf", "OPENSHIFT_INSTALL_REPLAY_SCENARIO=manifests")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("replay create manifests: %v\n%s", err, out)
	}
	writeFile(t, filepath.Join(w.dir, "install-config.yaml"), installConfigYAML("aws", pullSecretJSON()))
	return w
}

func (w *world) statePath() string { return filepath.Join(w.dir, ".openshift_install_state.json") }

func TestFaultsAssetDirectory(t *testing.T) {
	t.Parallel()
	for _, sc := range []struct {
		name   string
		nobody bool
		setup  func(t *testing.T, w *world)
		labels map[string]string
	}{
		{name: "state truncated", setup: func(t *testing.T, w *world) {
			fi, err := os.Stat(w.statePath())
			must(t, err)
			must(t, os.Truncate(w.statePath(), fi.Size()/2))
		}},
		{name: "state not JSON", setup: func(t *testing.T, w *world) {
			writeFile(t, w.statePath(), "this is not JSON {{{ \x00\xff")
		}},
		{name: "state 500 MiB", setup: func(t *testing.T, w *world) {
			must(t, os.Truncate(w.statePath(), 500<<20)) // sparse: the state, then NUL bytes
		}},
		{name: "state from a future installer", setup: func(t *testing.T, w *world) {
			b, err := os.ReadFile(w.statePath())
			must(t, err)
			writeFile(t, w.statePath(), `{"formatVersion":99,"assets":`+string(b)+`}`)
		}},
		{name: "state entries of another shape", setup: func(t *testing.T, w *world) {
			var st map[string]json.RawMessage
			b, err := os.ReadFile(w.statePath())
			must(t, err)
			must(t, json.Unmarshal(b, &st))
			st["*manifests.Manifests"] = json.RawMessage(`{"FileList":"moved to a content-addressed store"}`)
			b, err = json.Marshal(st)
			must(t, err)
			writeFile(t, w.statePath(), string(b))
		}},
		{name: "unreadable manifests", nobody: true, setup: func(t *testing.T, w *world) {
			must(t, os.Chmod(filepath.Join(w.dir, "manifests", "cluster-config.yaml"), 0))
			must(t, os.Chmod(filepath.Join(w.dir, "openshift"), 0))
		}},
		{name: "unreadable state", nobody: true, setup: func(t *testing.T, w *world) {
			must(t, os.Chmod(w.statePath(), 0))
		}},
		{name: "unreadable install-config", nobody: true, setup: func(t *testing.T, w *world) {
			must(t, os.Chmod(filepath.Join(w.dir, "install-config.yaml"), 0))
		}, labels: map[string]string{"platform": "none"}}, // from the state file (the recorded run is on none)
		{name: "install-config not YAML", setup: func(t *testing.T, w *world) {
			writeFile(t, filepath.Join(w.dir, "install-config.yaml"), "platform: {aws: [\n\t- :: not yaml "+pullSecretPass+"\n")
		}, labels: map[string]string{"platform": "none"}},
		{name: "pull secret not JSON", setup: func(t *testing.T, w *world) {
			writeFile(t, filepath.Join(w.dir, "install-config.yaml"), installConfigYAML("gcp", "{not json: "+pullSecretPass+" "+pullSecretAuth))
		}, labels: map[string]string{"platform": "gcp"}},
		{name: "special files", setup: func(t *testing.T, w *world) {
			must(t, syscall.Mkfifo(filepath.Join(w.dir, "manifests", "fifo.yaml"), 0o644))
			must(t, os.Symlink("/dev/zero", filepath.Join(w.dir, "manifests", "zero.yaml")))
			must(t, os.Symlink("loop.yaml", filepath.Join(w.dir, "manifests", "loop.yaml")))
			must(t, os.Mkdir(filepath.Join(w.dir, "openshift", "dir.yaml"), 0o755))
			must(t, os.Remove(filepath.Join(w.dir, "manifests", "cvo-overrides.yaml")))
			must(t, syscall.Mkfifo(filepath.Join(w.dir, "manifests", "cvo-overrides.yaml"), 0o644))
		}},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			w := assetWorld(t, worldOpts{nobody: sc.nobody})
			if sc.nobody {
				w.giveTo(nobody)
			}
			sc.setup(t, w)
			o := w.run(runSpec{plan: successPlan()})
			labels := map[string]string{"result": "Success", "return": "0"}
			for k, v := range sc.labels {
				labels[k] = v
			}
			checkPromises(w, expect{labels: labels}, o)
		})
	}
}

// TestFaultsAssetSymlinksOutside: links in manifests/ and openshift/ point
// to a secret outside the asset directory, one in place of a generated
// manifest. install-metrics never opens the target (inotify says so), the
// secret shows up nowhere, and the links count as user-added.
func TestFaultsAssetSymlinksOutside(t *testing.T) {
	t.Parallel()
	w := assetWorld(t, worldOpts{})
	target := filepath.Join(w.outside, "outside.yaml")
	must(t, os.Symlink(target, filepath.Join(w.dir, "manifests", "99-canary-link.yaml")))
	must(t, os.Symlink(w.outside, filepath.Join(w.dir, "openshift", "canary-dir")))
	generated := filepath.Join(w.dir, "manifests", "cluster-config.yaml")
	must(t, os.Remove(generated))
	must(t, os.Symlink(target, generated))

	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	must(t, err)
	defer unix.Close(fd)
	for _, p := range []string{target, w.outside} {
		if _, err := unix.InotifyAddWatch(fd, p, unix.IN_OPEN|unix.IN_ACCESS); err != nil {
			t.Fatalf("inotify on %s: %v", p, err)
		}
	}
	o := w.run(runSpec{plan: successPlan()})
	buf := make([]byte, 4096)
	n, err := unix.Read(fd, buf)
	if err != nil && !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("reading inotify events: %v", err)
	}
	if n > 0 {
		t.Errorf("the file or directory outside the asset directory was opened or read (%d bytes of inotify events)", n)
	}
	checkPromises(w, expect{labels: map[string]string{"result": "Success"}}, o)
	mfs, err := parseTextfile(w.textfile)
	must(t, err)
	var assets []string
	if mf := mfs["cluster_installation_modification"]; mf != nil {
		for _, m := range mf.Metric {
			assets = append(assets, m.Label[0].GetValue())
		}
	}
	if !strings.Contains(strings.Join(assets, ","), "user-added") {
		t.Errorf("modified assets %v: the links were not counted as user-added", assets)
	}
}
