package replay

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// stateFile is the installer's state file inside --dir.
const stateFile = ".openshift_install_state.json"

// assetFile is one file of an asset in the state file.
type assetFile struct {
	name string // slash path relative to --dir
	data []byte
}

// state is a recorded state file.
type state struct {
	raw    []byte
	assets map[string]json.RawMessage
}

// loadState reads the scenario's state file and patches the platform in.
func (s *Scenario) loadState() (*state, error) {
	if s.State == "" {
		return nil, nil
	}
	raw, err := s.read(s.State)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", s.Name, err)
	}
	if s.Platform != "" && s.Platform != "none" {
		if raw, err = patchPlatform(raw, s.Platform); err != nil {
			return nil, fmt.Errorf("scenario %s: %s: %w", s.Name, s.State, err)
		}
	}
	st := &state{raw: raw}
	if err := json.Unmarshal(raw, &st.assets); err != nil {
		return nil, fmt.Errorf("scenario %s: %s: %w", s.Name, s.State, err)
	}
	return st, nil
}

// files returns the files of the asset key: every {"Filename", "Data"}
// object inside it (File, FileList, the machine file lists, ...), first
// occurrence of a name winning.
func (st *state) files(key string) ([]assetFile, error) {
	raw, ok := st.assets[key]
	if !ok {
		return nil, fmt.Errorf("asset %s is not in the state file", key)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("asset %s: %w", key, err)
	}
	var out []assetFile
	seen := map[string]bool{}
	var walk func(any) error
	walk = func(v any) error {
		switch v := v.(type) {
		case map[string]any:
			if name, ok := v["Filename"].(string); ok {
				if _, hasData := v["Data"]; hasData && !seen[name] {
					data, _ := v["Data"].(string)
					b, err := base64.StdEncoding.DecodeString(data)
					if err != nil {
						return fmt.Errorf("asset %s: %s: %w", key, name, err)
					}
					seen[name] = true
					out = append(out, assetFile{name: name, data: b})
				}
			}
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if err := walk(v[k]); err != nil {
					return err
				}
			}
		case []any:
			for _, x := range v {
				if err := walk(x); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return out, walk(v)
}

// apply makes the change a to dir.
func (a AssetAction) apply(dir string, st *state) error {
	if err := consume(dir, a.Consume); err != nil {
		return err
	}
	if (len(a.Write) > 0 || a.WriteState) && st == nil {
		return errors.New("the scenario writes assets but has no state file")
	}
	for _, key := range a.Write {
		files, err := st.files(key)
		if err != nil {
			return err
		}
		for _, f := range files {
			p := filepath.Join(dir, filepath.FromSlash(f.name))
			if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
				return err
			}
			if err := os.WriteFile(p, f.data, 0o640); err != nil {
				return err
			}
		}
	}
	if a.WriteState {
		return os.WriteFile(filepath.Join(dir, stateFile), st.raw, 0o640)
	}
	return nil
}

// consume deletes the files under dir matching any of patterns (slash paths
// relative to dir), then the directories that this left empty.
func consume(dir string, patterns []string) error {
	if len(patterns) == 0 {
		return nil
	}
	var removed []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		for _, pat := range patterns {
			if ok, _ := path.Match(pat, rel); ok {
				removed = append(removed, rel)
				return os.Remove(p)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Deepest first, so a parent is tried after its children.
	sort.Slice(removed, func(i, j int) bool { return strings.Count(removed[i], "/") > strings.Count(removed[j], "/") })
	for _, rel := range removed {
		for d := path.Dir(rel); d != "."; d = path.Dir(d) {
			if os.Remove(filepath.Join(dir, filepath.FromSlash(d))) != nil {
				break // not empty (or gone already)
			}
		}
	}
	return nil
}

// patchPlatform rewrites a state file recorded with platform none as if it
// had been another platform: the install-config (parsed and file) and
// metadata.json name it. Everything else is kept byte for byte.
func patchPlatform(raw []byte, platform string) ([]byte, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, err
	}
	if ic, ok := top["*installconfig.InstallConfig"]; ok {
		var v map[string]json.RawMessage
		if err := json.Unmarshal(ic, &v); err != nil {
			return nil, err
		}
		var cfg map[string]json.RawMessage
		if err := json.Unmarshal(v["config"], &cfg); err != nil {
			return nil, err
		}
		cfg["platform"] = json.RawMessage(fmt.Sprintf(`{%q:{}}`, platform))
		if err := remarshal(v, "config", cfg); err != nil {
			return nil, err
		}
		var file struct{ Filename, Data string }
		if err := json.Unmarshal(v["file"], &file); err == nil && file.Data != "" {
			yml, err := base64.StdEncoding.DecodeString(file.Data)
			if err != nil {
				return nil, err
			}
			yml = []byte(strings.Replace(string(yml), "platform:\n  none: {}\n", "platform:\n  "+platform+": {}\n", 1))
			file.Data = base64.StdEncoding.EncodeToString(yml)
			if err := remarshal(v, "file", file); err != nil {
				return nil, err
			}
		}
		if err := remarshal(top, "*installconfig.InstallConfig", v); err != nil {
			return nil, err
		}
	}
	if md, ok := top["*cluster.Metadata"]; ok {
		var v struct {
			File struct{ Filename, Data string }
		}
		if err := json.Unmarshal(md, &v); err != nil {
			return nil, err
		}
		js, err := base64.StdEncoding.DecodeString(v.File.Data)
		if err != nil {
			return nil, err
		}
		var meta map[string]json.RawMessage
		if err := json.Unmarshal(js, &meta); err != nil {
			return nil, err
		}
		meta[platform] = json.RawMessage("{}")
		js, err = json.Marshal(meta)
		if err != nil {
			return nil, err
		}
		v.File.Data = base64.StdEncoding.EncodeToString(js)
		if err := remarshal(top, "*cluster.Metadata", v); err != nil {
			return nil, err
		}
	}
	return json.Marshal(top)
}

func remarshal[T any](m map[string]json.RawMessage, key string, v T) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	m[key] = b
	return nil
}
