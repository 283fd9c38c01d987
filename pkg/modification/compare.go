package modification

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"path"
	"reflect"
	"strconv"

	"gopkg.in/yaml.v3"
)

// kind is how two versions of a file are compared once their bytes differ.
type kind int

const (
	kindBytes kind = iota
	kindYAML
	kindJSON
	// kindInstallConfig is YAML where a key the user left out (the installer
	// fills in its default) is no difference.
	kindInstallConfig
)

func kindOf(p string) kind {
	if p == installConfigName {
		return kindInstallConfig
	}
	switch path.Ext(p) {
	case ".yaml", ".yml":
		return kindYAML
	case ".json", ".ign":
		return kindJSON
	}
	return kindBytes
}

// pending is a file whose bytes differ from the generated version, kept for
// the comparison as data.
type pending struct {
	label     string
	kind      kind
	disk, gen []byte
}

// equal reports whether the two versions hold the same data. A version that
// does not parse is different.
func (p pending) equal() (same bool) {
	// The user's file is arbitrary input to a third-party parser: should it
	// ever panic, the file counts as different and the wrapper goes on.
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	var (
		a, b   []any
		errA   error
		errB   error
		subset bool
	)
	switch p.kind {
	case kindYAML, kindInstallConfig:
		a, errA = yamlDocs(p.disk)
		b, errB = yamlDocs(p.gen)
		subset = p.kind == kindInstallConfig
	case kindJSON:
		a, errA = jsonDoc(p.disk)
		b, errB = jsonDoc(p.gen)
	default:
		return bytes.Equal(p.disk, p.gen)
	}
	if errA != nil || errB != nil || len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameData(a[i], b[i], subset) {
			return false
		}
	}
	return true
}

// yamlDocs parses every document of a YAML stream; empty documents are
// dropped (a trailing `---` changes nothing).
func yamlDocs(data []byte) ([]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []any
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if v != nil {
			docs = append(docs, v)
		}
	}
}

// jsonDoc parses exactly one JSON value, numbers kept as written.
func jsonDoc(data []byte) ([]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errSyntax
	}
	return []any{v}, nil
}

// sameData compares parsed YAML or JSON: maps by key, lists in order,
// numbers by value (1 and 1.0 are equal). With subset (a is the user's
// install-config, b the installer's), a key only b has is a default the
// installer filled in, and no difference; every key a has must hold the same
// data in b (or be null in a).
func sameData(a, b any, subset bool) bool {
	if ma, ok := asMap(a); ok {
		mb, ok := asMap(b)
		if !ok || !subset && len(ma) != len(mb) {
			return false
		}
		for k, va := range ma {
			vb, ok := mb[k]
			if !ok {
				if subset && va == nil {
					continue
				}
				return false
			}
			if !sameData(va, vb, subset) {
				return false
			}
		}
		return true
	}
	if la, ok := a.([]any); ok {
		lb, ok := b.([]any)
		if !ok || len(la) != len(lb) {
			return false
		}
		for i := range la {
			if !sameData(la[i], lb[i], subset) {
				return false
			}
		}
		return true
	}
	if na, ok := number(a); ok {
		nb, ok := number(b)
		return ok && na == nb
	}
	return reflect.DeepEqual(a, b)
}

// asMap returns a YAML or JSON mapping keyed by a canonical form of its keys.
func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(m))
		for k, v := range m {
			out["s"+k] = v
		}
		return out, true
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, v := range m {
			key, ok := scalarKey(k)
			if !ok {
				return nil, false
			}
			out[key] = v
		}
		return out, true
	}
	return nil, false
}

func scalarKey(k any) (string, bool) {
	switch k := k.(type) {
	case string:
		return "s" + k, true
	case bool:
		return "b" + strconv.FormatBool(k), true
	case nil:
		return "z", true
	}
	if n, ok := number(k); ok {
		return "n" + n, true
	}
	return "", false
}

// number returns a canonical text for a YAML or JSON number.
func number(v any) (string, bool) {
	switch n := v.(type) {
	case int:
		return strconv.FormatInt(int64(n), 10), true
	case int64:
		return strconv.FormatInt(n, 10), true
	case uint64:
		return strconv.FormatUint(n, 10), true
	case float64:
		return canonicalFloat(n), true
	case json.Number:
		if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			return strconv.FormatInt(i, 10), true
		}
		if f, err := strconv.ParseFloat(string(n), 64); err == nil {
			return canonicalFloat(f), true
		}
		return string(n), true
	}
	return "", false
}

func canonicalFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
