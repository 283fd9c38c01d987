package stages

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/install-metrics/install-metrics/pkg/record"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// realLogs is the project's copy of the shared real logs.
const realLogs = "../../testdata/installer-logs"

// synthetic holds logs written from the installer's source (see its README).
const synthetic = "testdata/synthetic"

// fixedNow is the clock of the tests: lines without a time of their own get it.
func fixedNow() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }

// caseMeta is the part of a log's .json the tests use.
type caseMeta struct {
	Source         string   `json:"source"`
	Format         string   `json:"format"`
	Command        string   `json:"command"`
	ExitCode       *int     `json:"exit_code"`
	ExpectedResult string   `json:"expected_result"`
	ResultDetail   string   `json:"result_detail"`
	ExpectedStages []string `json:"expected_stages_reached"`
	Ambiguous      bool     `json:"ambiguous"`
}

type logCase struct {
	name, path string
	meta       caseMeta
}

func loadCases(t testing.TB) []logCase {
	t.Helper()
	var cases []logCase
	for _, dir := range []string{realLogs, synthetic} {
		paths, err := filepath.Glob(filepath.Join(dir, "*.log"))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			raw, err := os.ReadFile(strings.TrimSuffix(p, ".log") + ".json")
			if err != nil {
				t.Fatalf("every log needs its .json: %v", err)
			}
			var m caseMeta
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			if m.Source == "" {
				t.Fatalf("%s: the .json must keep its source line", p)
			}
			cases = append(cases, logCase{strings.TrimSuffix(filepath.Base(p), ".log"), p, m})
		}
	}
	if len(cases) < 30 {
		t.Fatalf("found %d logs, want the shared ones and ours", len(cases))
	}
	return cases
}

func (c logCase) want() record.Result {
	if c.meta.ResultDetail != "" {
		if c.meta.ResultDetail == "Other" {
			return record.Failed
		}
		return record.Result(c.meta.ResultDetail)
	}
	return record.Result(c.meta.ExpectedResult)
}

func classifyFile(t testing.TB, path string, exit Exit) Summary {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := Classify(f, fixedNow, exit)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// golden is what testdata/golden/NAME.golden holds.
type golden struct {
	WithoutExit Summary  `json:"without_exit"`
	WithExit    *Summary `json:"with_exit,omitempty"`
}

func TestClassifyLogs(t *testing.T) {
	for _, c := range loadCases(t) {
		t.Run(c.name, func(t *testing.T) {
			g := golden{WithoutExit: classifyFile(t, c.path, Exit{})}
			if c.meta.ExitCode != nil {
				s := classifyFile(t, c.path, Exit{Code: *c.meta.ExitCode, Known: true})
				g.WithExit = &s
			}
			want := c.want()
			for _, s := range []*Summary{&g.WithoutExit, g.WithExit} {
				if s == nil {
					continue
				}
				switch {
				case c.meta.Ambiguous && s.Result == record.Success:
					t.Errorf("ambiguous log classified Success (basis %s)", s.Basis)
				case s.Result != want:
					t.Errorf("result %s (basis %s, deciding %q), want %s", s.Result, s.Basis, s.Deciding, want)
				}
				checkStages(t, c, s)
				checkNoSecret(t, s)
			}
			if c.meta.Format == FormatFile || c.meta.Format == FormatPipe || c.meta.Format == FormatTerminal {
				// The .json says "terminal" for both the pipe and the terminal.
				if got := g.WithoutExit.Format; got != c.meta.Format && !(c.meta.Format == FormatTerminal && got == FormatPipe) {
					t.Errorf("format %q, want %q", got, c.meta.Format)
				}
			}
			if g.WithoutExit.Format == FormatFile {
				checkFileTimes(t, c.path, &g.WithoutExit)
			}
			compareGolden(t, c.name, g)
		})
	}
}

// stageMap maps the names of expected_stages_reached to ours (see
// testdata/installer-logs/README.md); "" means no stage of its own.
var stageMap = map[string]record.StageName{
	"provisioning":         record.Infrastructure,
	"api":                  record.API,
	"bootstrap":            record.Bootstrap,
	"bootstrap_destroy":    "",
	"operators/initialize": record.Operators,
	"rendezvous":           record.Rendezvous, // agent wait-for (our copies of the agent cases)
	"validation":           record.Validation,
	"preparation":          record.Preparation,
	"complete":             "",
}

func checkStages(t *testing.T, c logCase, s *Summary) {
	t.Helper()
	got := map[record.StageName]record.Stage{}
	var order []int
	for _, st := range s.Stages {
		got[st.Name] = st
		order = append(order, slices.Index(record.AllStageNames, st.Name))
		if st.End.Before(st.Start) {
			t.Errorf("stage %s ends before it starts", st.Name)
		}
	}
	if !slices.IsSorted(order) || len(got) != len(order) {
		t.Errorf("stages out of order or repeated: %v", order)
	}
	want := map[record.StageName]bool{}
	for _, name := range c.meta.ExpectedStages {
		ours, ok := stageMap[name]
		if !ok {
			t.Fatalf("unknown expected stage %q", name)
		}
		if ours != "" {
			want[ours] = true
		}
	}
	for name := range want {
		if _, ok := got[name]; !ok {
			t.Errorf("stage %s not reached; got %v", name, stageNames(s))
		}
	}
	for name := range got {
		if !want[name] && name != record.Provisioning {
			t.Errorf("stage %s reached, the log's reader says %v", name, c.meta.ExpectedStages)
		}
	}
	if slices.Contains(c.meta.ExpectedStages, "complete") && !got[record.Operators].Finished {
		t.Errorf("operators not finished in a complete install")
	}
	if slices.Contains(c.meta.ExpectedStages, "bootstrap_destroy") && !got[record.Bootstrap].Finished {
		t.Errorf("bootstrap not finished though its resources were destroyed")
	}
}

func stageNames(s *Summary) []record.StageName {
	var names []record.StageName
	for _, st := range s.Stages {
		names = append(names, st.Name)
	}
	return names
}

var fileTime = regexp.MustCompile(`time="([^"]+)"`)

// checkFileTimes checks that every stage boundary of a file-format log is
// one of the log's own timestamps, to the second.
func checkFileTimes(t *testing.T, path string, s *Summary) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	stamps := map[int64]bool{}
	for _, m := range fileTime.FindAllSubmatch(raw, -1) {
		ts, err := time.Parse(time.RFC3339, string(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		stamps[ts.Unix()] = true
	}
	for _, st := range s.Stages {
		for _, b := range []time.Time{st.Start, st.End} {
			if !stamps[b.Unix()] {
				t.Errorf("stage %s boundary %s is no timestamp of the log", st.Name, b)
			}
		}
	}
}

// secrets lists the fake passwords and secrets of the test logs.
var secrets = []string{"xxxxxxxxxxxxxxxxxxxxxx", `"xyz"`, "Xa7pQ-fake-secret-kU9", "fAkE1-SeCrEt-pAsS2", "not-json"}

func checkNoSecret(t *testing.T, s *Summary) {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range secrets {
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("summary holds the secret %q: %s", secret, b)
		}
	}
}

func compareGolden(t *testing.T, name string, g golden) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".golden")
	got, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/stages -update)", err)
	}
	var want golden
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	var have golden
	if err := json.Unmarshal(got, &have); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, have); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// TestClassifyDurations pins durations a reader computes by hand from the
// timestamps of file-format logs.
func TestClassifyDurations(t *testing.T) {
	tests := []struct {
		path  string
		stage record.StageName
		want  time.Duration
	}{
		{realLogs + "/003-alibabacloud-4.10-create-success-tail-file.log", record.Operators, 13*time.Minute + 39*time.Second},
		{realLogs + "/039-vsphere-4.7-create-bootstrap-timeout-file.log", record.Bootstrap, 30*time.Minute + 10*time.Second},
		{realLogs + "/012-vsphere-4.7-create-provisioning-failed-file.log", record.Infrastructure, time.Second},
		{realLogs + "/real-03-create-ignition-configs-unmodified-log.log", record.Provisioning, 2 * time.Second},
		{synthetic + "/terraform-4.5-create-success.log", record.Infrastructure, 5*time.Minute + 12*time.Second},
		{synthetic + "/terraform-4.5-create-success.log", record.Operators, 21*time.Minute + 55*time.Second},
		{synthetic + "/capi-4.16-create-apifailed-exit5.log", record.API, 20*time.Minute + time.Second},
	}
	for _, tt := range tests {
		s := classifyFile(t, tt.path, Exit{})
		var got time.Duration = -1
		for _, st := range s.Stages {
			if st.Name == tt.stage {
				got = st.Duration()
			}
		}
		if got != tt.want {
			t.Errorf("%s: %s lasted %v, want %v", filepath.Base(tt.path), tt.stage, got, tt.want)
		}
	}
}

// TestClassifyCutLogsNeverSucceed cuts every log before its last line, over
// and over: a log that simply stops is never Success unless a success line
// is in what is left.
func TestClassifyCutLogsNeverSucceed(t *testing.T) {
	for _, c := range loadCases(t) {
		raw, err := os.ReadFile(c.path)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitAfter(string(raw), "\n")
		for n := range len(lines) {
			part := strings.Join(lines[:n], "")
			s, err := Classify(strings.NewReader(part), fixedNow, Exit{})
			if err != nil {
				t.Fatal(err)
			}
			if s.Result == record.Success && !hasSuccessLine(part) {
				t.Errorf("%s cut to %d lines: Success without a success line", c.name, n)
			}
		}
	}
}

func hasSuccessLine(s string) bool {
	for _, p := range append(slices.Clone(successPrefix), " created in: ", "Bootstrap gather logs captured here", "cluster bootstrap is complete") {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}
