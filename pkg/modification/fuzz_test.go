package modification

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParseState checks the state-file parser against encoding/json: it never
// panics, and on valid JSON (without duplicate keys, where "last one wins"
// is all encoding/json promises) it accepts exactly what the reference
// accepts and extracts the same files, infrastructure ID and install config.
// Corpus: testdata/fuzz/FuzzParseState.
func FuzzParseState(f *testing.F) {
	for _, s := range []string{
		`{}`,
		`{"*installconfig.InstallConfig":{"config":{"platform":{"none":{}},"pullSecret":"{\"auths\":{}}"},"file":{"Filename":"install-config.yaml","Data":"YTogMQo="}}}`,
		`{"*installconfig.InstallConfig":null,"*manifests.Manifests":{"FileList":[{"Filename":"manifests/a.yaml","Data":"YTogMQo="}]}}`,
		`{"*installconfig.InstallConfig":{},"*manifests.Manifests":{"FileList":[{"Filename":"manifests/a.yaml","Data":null}]},"*installconfig.ClusterID":{"InfraID":"c-x"}}`,
		`{"*installconfig.InstallConfig":{},"*machines.Master":{"UserDataFile":{"Filename":"openshift/u.yaml","Data":""},"MachineFiles":[]}}`,
		`{"*installconfig.InstallConfig":{},"*x.Y":{"File":"x"},"*manifests.Scheduler":{"FileList":[{"Filename":5}]}}`,
		`{"*installconfig.InstallConfig":{},"*bootstrap.Bootstrap":{"Config":{"ignition":{"version":"3.2.0"},"a":[1,2.5e3,true,false,null,"\"\\"]},"File":{"Filename":"bootstrap.ign","Data":"e30="}}}`,
		`{"\u002amanifests.Manifests":{"File\u004cist":[{"Filen\u0061me":"manifests/\u00e9.yaml","Data":"e30="}]}}`,
		`[{"a":1}]`,
		`{"a":[[[[[]]]]],"b":{"c":{"d":{}}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := parseState(data)
		if !json.Valid(data) || hasDuplicateKeys(data) {
			return
		}
		want, ok := referenceState(data)
		if ok != (err == nil) {
			t.Fatalf("parseState error %v; the reference accepts it: %v", err, ok)
		}
		if !ok {
			return
		}
		if diff := cmp.Diff(want, summarise(got)); diff != "" {
			t.Fatalf("mismatch (-want +got):\n%s", diff)
		}
	})
}

// stateSummary is what parseState extracts, comparable across parsers.
type stateSummary struct {
	Files    map[string][][2]string // entry -> (name, data)
	InfraID  string
	Platform string
	Token    string
}

func summarise(st *stateFile) stateSummary {
	out := stateSummary{Files: map[string][][2]string{}, InfraID: st.infraID}
	for k, files := range st.entries {
		for _, f := range files {
			d, err := text(f.data)
			if err != nil {
				d = "!" + err.Error()
			}
			out.Files[k] = append(out.Files[k], [2]string{f.name, d})
		}
	}
	out.Platform, out.Token = stateConfigFacts(st.installConfig)
	return out.sorted()
}

// sorted orders each entry's files: the reference reads fields in map order.
func (s stateSummary) sorted() stateSummary {
	for _, files := range s.Files {
		slices.SortFunc(files, func(a, b [2]string) int { return strings.Compare(a[0]+"\x00"+a[1], b[0]+"\x00"+b[1]) })
	}
	return s
}

// referenceState is parseState's contract written with encoding/json.
func referenceState(data []byte) (stateSummary, bool) {
	out := stateSummary{Files: map[string][][2]string{}}
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil || top == nil {
		return out, false
	}
	if _, ok := top[installConfigEntry]; !ok {
		return out, false
	}
	for key, raw := range top {
		var v any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if dec.Decode(&v) != nil {
			return out, false
		}
		strict := known(key) || key == installConfigEntry || key == clusterIDEntry
		if key == clusterIDEntry {
			var id struct{ InfraID string }
			if json.Unmarshal(raw, &id) != nil {
				return out, false
			}
			out.InfraID = id.InfraID
			continue
		}
		var (
			files [][2]string
			odd   bool
		)
		switch e := v.(type) {
		case nil:
		case map[string]any:
			for field, fv := range e {
				if key == installConfigEntry && field == "config" {
					cfg, _ := json.Marshal(fv)
					out.Platform, out.Token = stateConfigFacts(cfg)
					continue
				}
				switch fv := fv.(type) {
				case map[string]any:
					files = referenceFile(fv, files, &odd)
				case []any:
					for _, el := range fv {
						if m, ok := el.(map[string]any); ok {
							files = referenceFile(m, files, &odd)
						}
					}
				case nil:
				default:
					odd = odd || field == "File" || field == "FileList"
				}
			}
		default:
			odd = true
		}
		if odd && strict {
			return out, false
		}
		if len(files) > 0 {
			out.Files[key] = files
		}
	}
	for _, k := range []string{manifestsEntry, openshiftEntry} {
		if _, ok := top[k]; ok && len(out.Files[k]) == 0 {
			return out, false
		}
	}
	return out.sorted(), true
}

func referenceFile(m map[string]any, files [][2]string, odd *bool) [][2]string {
	name, hasName := m["Filename"]
	nameStr, nameOK := name.(string)
	data, hasData := m["Data"]
	dataStr, dataOK := data.(string)
	dataOK = dataOK || data == nil
	if hasName && !nameOK || hasData && !dataOK {
		*odd = true
	}
	if hasName && nameOK && dataOK {
		files = append(files, [2]string{nameStr, dataStr})
	}
	return files
}

// hasDuplicateKeys reports whether any object in valid JSON repeats a key.
func hasDuplicateKeys(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		keys   map[string]bool
		object bool
		key    bool // the next token of an object is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) || err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.key {
			if s, ok := tok.(string); ok {
				if top.keys[s] {
					return true
				}
				top.keys[s] = true
				top.key = false
				continue
			}
		}
		if top != nil && top.object {
			top.key = true // after this value comes a key (or the end)
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{keys: map[string]bool{}, object: true, key: true})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
	}
}
