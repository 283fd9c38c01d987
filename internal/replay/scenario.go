package replay

import (
	"bufio"
	"bytes"
	"embed"
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

//go:embed testdata/scenarios testdata/logs testdata/states
var embedded embed.FS

// scenarioDir holds the embedded scenarios.
const scenarioDir = "testdata/scenarios"

// Scenario is one recorded installer run and how to replay it.
type Scenario struct {
	// Name is the file name without .json (or the path given).
	Name        string `json:"-"`
	Description string `json:"description"`
	// Command is the installer command it records: "create cluster",
	// "wait-for bootstrap-complete", ...
	Command string `json:"command"`
	// Default marks the scenario used for Command when none is chosen.
	Default bool `json:"default,omitempty"`
	// Version is the installer version string (`version` and the log
	// header); Commit, ReleaseImage and the architectures complete
	// `version`'s output.
	Version             string `json:"version"`
	Commit              string `json:"commit,omitempty"`
	ReleaseImage        string `json:"release_image"`
	ReleaseArchitecture string `json:"release_architecture,omitempty"`
	DefaultArchitecture string `json:"default_architecture,omitempty"`
	// Platform is the install-config platform; when it is not "none" the
	// written state and metadata.json are patched to say it.
	Platform string `json:"platform"`
	// Log is the recorded log, relative to the scenario file.
	Log string `json:"log"`
	// RecordedDir and RecordedAbsDir are the --dir of the recording (as
	// typed, and absolute); log messages get the actual --dir instead.
	RecordedDir    string `json:"recorded_dir,omitempty"`
	RecordedAbsDir string `json:"recorded_abs_dir,omitempty"`
	// ExitCode is the recorded exit code.
	ExitCode int `json:"exit_code"`
	// Expect is what install-metrics should conclude; for tests.
	Expect struct {
		Result string `json:"result"`
	} `json:"expect"`
	// State is the recorded state file, relative to the scenario file.
	State string `json:"state,omitempty"`
	// Assets are the file changes the installer made, in order.
	Assets []AssetAction `json:"assets,omitempty"`

	read func(rel string) ([]byte, error)
}

// AssetAction is a change to the asset directory.
type AssetAction struct {
	// After is the start of the message of the first log line after
	// which the change happens; "" means at the end of the run.
	After string `json:"after,omitempty"`
	// Consume are path.Match patterns, relative to --dir, of the files the
	// installer deletes; directories left empty go too.
	Consume []string `json:"consume,omitempty"`
	// Write are asset keys of the state file ("*manifests.Manifests")
	// whose files the installer writes.
	Write []string `json:"write,omitempty"`
	// WriteState writes the state file.
	WriteState bool `json:"write_state,omitempty"`
}

// ErrNoScenario says that no scenario has the name or command asked for.
var ErrNoScenario = errors.New("no such replay scenario")

// Scenarios returns the embedded scenarios, sorted by name.
func Scenarios() ([]*Scenario, error) {
	ents, err := fs.ReadDir(embedded, scenarioDir)
	if err != nil {
		return nil, err
	}
	var out []*Scenario
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		s, err := loadEmbedded(name)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// LoadScenario returns the embedded scenario with that name, or reads the
// scenario file at that path (anything with a slash or ending in .json);
// its log and state paths are relative to the file.
func LoadScenario(nameOrPath string) (*Scenario, error) {
	if !strings.Contains(nameOrPath, "/") && !strings.HasSuffix(nameOrPath, ".json") {
		return loadEmbedded(nameOrPath)
	}
	b, err := os.ReadFile(nameOrPath)
	if err != nil {
		return nil, fmt.Errorf("reading scenario: %w", err)
	}
	dir := filepath.Dir(nameOrPath)
	return parseScenario(nameOrPath, b, func(rel string) ([]byte, error) {
		return os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
	})
}

func loadEmbedded(name string) (*Scenario, error) {
	b, err := embedded.ReadFile(path.Join(scenarioDir, name+".json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %q (see internal/replay/testdata/README.md)", ErrNoScenario, name)
	}
	if err != nil {
		return nil, err
	}
	return parseScenario(name, b, func(rel string) ([]byte, error) {
		return embedded.ReadFile(path.Join(scenarioDir, rel))
	})
}

func parseScenario(name string, b []byte, read func(string) ([]byte, error)) (*Scenario, error) {
	s := &Scenario{Name: name, read: read}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(s); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", name, err)
	}
	if s.Command == "" || s.Log == "" || s.Version == "" {
		return nil, fmt.Errorf("scenario %s: command, log and version are required", name)
	}
	return s, nil
}

// defaultFor returns the default scenario for an installer command.
func defaultFor(command string) (*Scenario, error) {
	all, err := Scenarios()
	if err != nil {
		return nil, err
	}
	for _, s := range all {
		if s.Default && s.Command == command {
			return s, nil
		}
	}
	return nil, fmt.Errorf("%w for %q", ErrNoScenario, command)
}

// entries reads the scenario's log: comment lines (#) and blank lines are
// left out.
func (s *Scenario) entries() ([]entry, error) {
	b, err := s.read(s.Log)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", s.Name, err)
	}
	var out []entry
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		e, err := parseEntry(line)
		if err != nil {
			return nil, fmt.Errorf("scenario %s: %s:%d: %w", s.Name, s.Log, n, err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("scenario %s: %s has no log lines", s.Name, s.Log)
	}
	return out, nil
}
