package benchdata

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Listed is one line of a real run's listing-before.txt or listing-after.txt
// (testdata/installer-real): sha256, size and path of a file.
type Listed struct {
	SHA  string
	Size int
	Path string
}

// AnySHA in Listed.SHA accepts any content for that path.
const AnySHA = "*"

// ParseListing reads a listing file's text.
func ParseListing(text []byte) ([]Listed, error) {
	var out []Listed
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 {
			return nil, fmt.Errorf("bad listing line %q", sc.Text())
		}
		size, err := strconv.Atoi(fields[1])
		if err != nil {
			return nil, fmt.Errorf("bad listing line %q: %w", sc.Text(), err)
		}
		out = append(out, Listed{SHA: fields[0], Size: size, Path: fields[2]})
	}
	return out, sc.Err()
}

// StateContents decodes every {"Filename", "Data"} object of a state file
// with encoding/json: name -> every distinct content.
func StateContents(state []byte) (map[string][][]byte, error) {
	var top map[string]any
	if err := json.Unmarshal(state, &top); err != nil {
		return nil, err
	}
	out := map[string][][]byte{}
	var walk func(v any) error
	walk = func(v any) error {
		switch v := v.(type) {
		case map[string]any:
			name, isFile := v["Filename"].(string)
			data, isData := v["Data"].(string)
			if isFile && (isData || v["Data"] == nil) {
				b, err := base64.StdEncoding.DecodeString(data)
				if err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				for _, have := range out[name] {
					if bytes.Equal(have, b) {
						return nil
					}
				}
				out[name] = append(out[name], b)
				return nil
			}
			for _, e := range v {
				if err := walk(e); err != nil {
					return err
				}
			}
		case []any:
			for _, e := range v {
				if err := walk(e); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return out, walk(top)
}

// Rebuild recreates a real run's asset directory in dir: every file of the
// listing (the installer's hidden files aside) is taken from the state file
// by name and sha256, or from extra (checked against the listing unless its
// SHA is AnySHA). The state file goes in as .openshift_install_state.json.
func Rebuild(dir string, state []byte, listing []Listed, extra map[string][]byte) error {
	contents, err := StateContents(state)
	if err != nil {
		return err
	}
	for _, l := range listing {
		if strings.HasPrefix(l.Path, ".openshift_install") {
			continue
		}
		data, ok := extra[l.Path]
		if ok && l.SHA != AnySHA && SHA256(data) != l.SHA {
			return fmt.Errorf("%s: sha256 %s, the listing says %s", l.Path, SHA256(data), l.SHA)
		}
		for _, c := range contents[l.Path] {
			if !ok && SHA256(c) == l.SHA {
				data, ok = c, true
			}
		}
		if !ok {
			return fmt.Errorf("%s (sha256 %s) is not in the state file", l.Path, l.SHA)
		}
		if err := writeFile(dir, l.Path, data); err != nil {
			return err
		}
	}
	return writeFile(dir, ".openshift_install_state.json", state)
}

// SHA256 is the hex sha256 of data, as in the listings.
func SHA256(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

func writeFile(dir, name string, data []byte) error {
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o600)
}
