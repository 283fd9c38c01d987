// Package benchdata writes asset directories for pkg/modification's tests and
// benchmarks and for hack/bench/modification.sh: a synthetic large one, and
// real runs rebuilt from their state files (testdata/installer-real).
package benchdata

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
)

// file is how the installer's state file stores a file.
type file struct {
	Filename string
	Data     []byte
}

// installConfig is a minimal install-config for platform none.
const installConfig = `apiVersion: v1
baseDomain: example.com
metadata:
  name: bench
platform:
  none: {}
pullSecret: '{"auths":{"cloud.openshift.com":{"auth":"YmVuY2g6YmVuY2g=","email":"a@b.c"}}}'
`

// Large writes into dir (created if needed) an asset directory that holds
// install-config.yaml, manifests manifests of about 1 KiB under manifests/,
// bootstrap.ign, master.ign and worker.ign of about ignBytes each, and a state
// file holding the installer's version of all of them, so nothing is
// modified and Take compares every file in full. (A real directory never
// holds manifests and ignition configs at once; this one is the worst case of
// both.)
func Large(dir string, manifests, ignBytes int) error {
	rnd := rand.New(rand.NewPCG(1, 2)) //nolint:gosec // reproducible filler, not secrets
	write := func(name string, data []byte) error { return writeFile(dir, name, data) }
	state := map[string]any{
		"*installconfig.InstallConfig": map[string]any{
			"config": map[string]any{"platform": map[string]any{"none": map[string]any{}}},
			"file":   file{"install-config.yaml", []byte(installConfig)},
		},
		"*installconfig.ClusterID": map[string]any{"UUID": "00000000-0000-0000-0000-000000000000", "InfraID": "bench-x1y2z"},
	}
	if err := write("install-config.yaml", []byte(installConfig)); err != nil {
		return err
	}

	var list []file
	for i := range manifests {
		data := fmt.Appendf(nil, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bench-%04d\n  namespace: openshift-config\ndata:\n  payload: %s\n",
			i, randomText(rnd, 900))
		f := file{fmt.Sprintf("manifests/bench-%04d.yaml", i), data}
		if err := write(f.Filename, f.Data); err != nil {
			return err
		}
		list = append(list, f)
	}
	state["*manifests.Manifests"] = map[string]any{"FileList": list}

	for key, name := range map[string]string{
		"*bootstrap.Bootstrap": "bootstrap.ign",
		"*machine.Master":      "master.ign",
		"*machine.Worker":      "worker.ign",
	} {
		config := ignition(rnd, ignBytes)
		data, err := json.Marshal(config)
		if err != nil {
			return err
		}
		if err := write(name, data); err != nil {
			return err
		}
		state[key] = map[string]any{"Config": config, "File": file{name, data}}
	}

	data, err := json.Marshal(state)
	if err != nil {
		return err
	}
	return write(".openshift_install_state.json", data)
}

// ignition returns an ignition config of about size bytes: files with
// base64 data URLs, as the installer's are.
func ignition(rnd *rand.Rand, size int) map[string]any {
	var files []any
	for n := 0; n < size; n += 16 << 10 {
		files = append(files, map[string]any{
			"path":     fmt.Sprintf("/opt/openshift/bench/%d", len(files)),
			"mode":     420,
			"contents": map[string]any{"source": "data:text/plain;charset=utf-8;base64," + base64.StdEncoding.EncodeToString(randomText(rnd, 12<<10))},
		})
	}
	return map[string]any{
		"ignition": map[string]any{"version": "3.2.0"},
		"storage":  map[string]any{"files": files},
	}
}

func randomText(rnd *rand.Rand, n int) []byte {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[rnd.IntN(len(letters))]
	}
	return b
}
