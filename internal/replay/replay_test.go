package replay_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/install-metrics/install-metrics/internal/replay"
	"github.com/install-metrics/install-metrics/pkg/record"
)

// asInstaller makes the test binary the replay installer (for the signal
// tests, which need a process of their own).
const asInstaller = "REPLAY_TEST_AS_INSTALLER"

// TestMain plays the installer when asked to, and otherwise runs the tests
// and fails if one leaves a goroutine behind.
func TestMain(m *testing.M) {
	if os.Getenv(asInstaller) == "1" {
		os.Exit(replay.Main(os.Args))
	}
	goleak.VerifyTestMain(m)
}

// realDir holds outputs of the real installer (copied from
// /work/shared/testdata/installer-real, see testdata/README.md).
const realDir = "testdata/real"

// start is the fixed "now" of in-process runs.
var start = time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)

// run runs the replay in process, without sleeping, and returns its
// outcome, stdout and stderr.
func run(t *testing.T, env map[string]string, args ...string) (replay.Outcome, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	r := &replay.Runner{
		Argv0: "openshift-install",
		Args:  args,
		Getenv: func(k string) (string, bool) {
			if k == replay.EnvSpeed {
				if v, ok := env[k]; ok {
					return v, true
				}
				return "inf", true
			}
			v, ok := env[k]
			return v, ok
		},
		Stdout: &stdout,
		Stderr: &stderr,
		Now:    func() time.Time { return start },
	}
	out := r.Run()
	return out, stdout.String(), stderr.String()
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// listing is path -> sha256 of every file under dir, hidden ones included,
// like the real runs' listing-*.txt.
func listing(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		sum := sha256.Sum256(b)
		out[filepath.ToSlash(rel)] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// realListing reads a real run's listing file.
func realListing(t *testing.T, name string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(readFile(t, filepath.Join(origWD, realDir, name))), "\n") {
		f := strings.Fields(l)
		out[f[2]] = f[0]
	}
	return out
}

func withoutLog(m map[string]string) map[string]string {
	delete(m, ".openshift_install.log")
	return m
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// newAssetDir is a directory named like the real run's, holding the real
// runs' install-config.yaml; the test runs in its parent.
func newAssetDir(t *testing.T, name string) string {
	t.Helper()
	t.Chdir(t.TempDir())
	if err := os.Mkdir(name, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(name, "install-config.yaml"), []byte(readFile(t, filepath.Join(origWD, realDir, "install-config.yaml"))), 0o640); err != nil {
		t.Fatal(err)
	}
	return name
}

var origWD, _ = os.Getwd()

// TestReplayMatchesRealRuns: replaying the platform-none runs in a
// directory named as in the recording leaves the files the real installer
// left (same paths, same sha256), prints the same stderr and exits with the
// same code. Not parallel: it changes directory.
func TestReplayMatchesRealRuns(t *testing.T) {
	for _, tc := range []struct {
		run, scenario, dir string
		code               int
		before             []string // scenarios replayed first in the same directory
		pathsOnly          bool     // state and metadata.json are stand-ins
		unchanged          bool     // the real run changed nothing (its install-config differs from ours)
	}{
		{run: "02-create-manifests", scenario: "manifests", dir: "d-manifests"},
		{run: "03-create-ignition-configs-unmodified", scenario: "ignition-configs", dir: "d-ign-unmodified", before: []string{"manifests"}},
		{run: "15-create-ignition-configs-SIGINT", scenario: "ignition-configs-interrupted", dir: "d-sigINT", code: 8},
		{run: "07-create-cluster-platform-none", scenario: "cluster-none-upi", dir: "d-cluster-none", code: 1, pathsOnly: true},
		{run: "08-create-manifests-invalid-install-config", scenario: "manifests-invalid-install-config", dir: "d-bad-ic", code: 3, unchanged: true},
		{run: "12-wait-for-bootstrap-complete-no-kubeconfig", scenario: "wait-for-bootstrap-complete-no-kubeconfig", dir: "d-wait", code: 1},
		{run: "13-destroy-cluster-no-metadata", scenario: "destroy-cluster-no-metadata", dir: "d-destroy", code: 1},
	} {
		t.Run(tc.run, func(t *testing.T) {
			dir := newAssetDir(t, tc.dir)
			initial := withoutLog(listing(t, dir))
			s, err := replay.LoadScenario(tc.scenario)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range tc.before {
				bs, err := replay.LoadScenario(b)
				if err != nil {
					t.Fatal(err)
				}
				run(t, map[string]string{replay.EnvScenario: b}, append(strings.Fields(bs.Command), "--dir", dir)...)
			}
			out, stdout, stderr := run(t, map[string]string{replay.EnvScenario: tc.scenario}, append(strings.Fields(s.Command), "--dir", dir)...)
			if out.Code != tc.code || out.Signal != nil || s.ExitCode != tc.code {
				t.Errorf("outcome %+v, scenario exit code %d; want exit code %d", out, s.ExitCode, tc.code)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want none", stdout)
			}
			if diff := cmp.Diff(readFile(t, filepath.Join(origWD, realDir, tc.run+".stderr.txt")), stderr); diff != "" {
				t.Errorf("stderr mismatch (-want +got):\n%s", diff)
			}
			got := withoutLog(listing(t, dir))
			if _, err := os.Stat(filepath.Join(origWD, realDir, tc.run+".after.txt")); err != nil {
				return // no listing kept: nothing may change
			}
			want := withoutLog(realListing(t, tc.run+".after.txt"))
			if tc.unchanged {
				if diff := cmp.Diff(withoutLog(realListing(t, tc.run+".before.txt")), want); diff != "" {
					t.Fatalf("the real run changed files (-before +after):\n%s", diff)
				}
				want = initial
			}
			if tc.pathsOnly {
				if diff := cmp.Diff(keys(want), keys(got)); diff != "" {
					t.Errorf("files mismatch (-want +got):\n%s", diff)
				}
				return
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("files (sha256) mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestUnchangedWhenNothingRecorded: runs 12 and 13 leave install-config.yaml alone.
func TestUnchangedWhenNothingRecorded(t *testing.T) {
	dir := newAssetDir(t, "d")
	before := withoutLog(listing(t, dir))
	run(t, nil, "wait-for", "bootstrap-complete", "--dir", dir)
	run(t, nil, "destroy", "cluster", "--dir", dir)
	if diff := cmp.Diff(before, withoutLog(listing(t, dir))); diff != "" {
		t.Errorf("files mismatch (-want +got):\n%s", diff)
	}
}

// TestVersionMatchesReal: `version` prints what run 01 printed.
func TestVersionMatchesReal(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	r := &replay.Runner{Argv0: "./openshift-install", Args: []string{"version"}, Stdout: &stdout, Stderr: &stderr,
		Getenv: func(k string) (string, bool) { return "manifests", k == replay.EnvScenario },
		Now:    time.Now}
	if out := r.Run(); out.Code != 0 {
		t.Fatalf("exit code %d", out.Code)
	}
	if diff := cmp.Diff(readFile(t, filepath.Join(realDir, "01-version.stdout.txt")), stdout.String()); diff != "" {
		t.Errorf("stdout mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(readFile(t, filepath.Join(realDir, "01-version.stderr.txt")), stderr.String()); diff != "" {
		t.Errorf("stderr mismatch (-want +got):\n%s", diff)
	}
}

func TestVersionOverride(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out, stdout, _ := run(t, map[string]string{replay.EnvVersion: "4.18.3"}, "version")
	if out.Code != 0 || !strings.HasPrefix(stdout, "openshift-install 4.18.3\n") {
		t.Errorf("version: %+v %q", out, stdout)
	}
	run(t, map[string]string{replay.EnvVersion: "4.18.3"}, "create", "cluster", "--dir", dir)
	log := readFile(t, filepath.Join(dir, ".openshift_install.log"))
	if n := strings.Count(log, `msg="OpenShift Installer 4.18.3"`); n != 2 {
		t.Errorf("log has %d headers with the overridden version, want 2", n)
	}
}

// TestTerminalFormat: with stderr on a terminal the replay prints what run
// 10 showed (colour, INFO/WARNING, padding).
func TestTerminalFormat(t *testing.T) {
	t.Chdir(t.TempDir())
	var stderr bytes.Buffer
	r := &replay.Runner{Argv0: "openshift-install", Args: []string{"create", "manifests", "--dir", "d-tty"},
		Stdout: &bytes.Buffer{}, Stderr: &stderr, StderrTerminal: true, Now: time.Now,
		Getenv: func(k string) (string, bool) { return "inf", k == replay.EnvSpeed }}
	r.Run()
	certTimes := regexp.MustCompile(`root-ca \S+ \S+`)
	want := strings.ReplaceAll(readFile(t, filepath.Join(origWD, realDir, "10-create-manifests-tty.tty_output.txt")), "\r\n", "\n")
	if diff := cmp.Diff(certTimes.ReplaceAllString(want, "root-ca T T"), certTimes.ReplaceAllString(stderr.String(), "root-ca T T")); diff != "" {
		t.Errorf("terminal output mismatch (-want +got):\n%s", diff)
	}
}

// TestArgumentErrorsMatchReal: bad flags, log levels and commands fail as
// runs 17, 19 and 20 did (timestamps aside), writing nothing.
func TestArgumentErrorsMatchReal(t *testing.T) {
	t.Chdir(t.TempDir())
	stamp := regexp.MustCompile(`^time="[^"]+" `)
	for realRun, args := range map[string][]string{
		"17-invalid-log-level":         {"create", "manifests", "--log-level=bogus"},
		"19-unknown-flag":              {"create", "manifests", "--bogus-flag", "--dir", "nonexist"},
		"20-unknown-top-level-command": {"bogus"},
	} {
		out, _, stderr := run(t, nil, args...)
		want := readFile(t, filepath.Join(origWD, realDir, realRun+".stderr.txt"))
		if out.Code != 1 || stamp.ReplaceAllString(stderr, "") != stamp.ReplaceAllString(want, "") {
			t.Errorf("%s: exit %d, stderr %q; want 1 and %q", realRun, out.Code, stderr, want)
		}
	}
	if ents, _ := os.ReadDir("."); len(ents) != 0 {
		t.Errorf("argument errors wrote %v", ents)
	}
}

// TestDirForms: --dir x, --dir=x and the default "." all work, the
// directory is created (nested too) and the log is appended to, never
// truncated.
func TestDirForms(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, args := range [][]string{
		{"wait-for", "bootstrap-complete", "--dir", "a"},
		{"wait-for", "bootstrap-complete", "--dir=b/c"},
		{"--log-level=debug", "wait-for", "bootstrap-complete"},
	} {
		if out, _, _ := run(t, nil, args...); out.Code != 0 {
			t.Errorf("%v: exit code %d", args, out.Code)
		}
	}
	for _, dir := range []string{"a", "b/c", "."} {
		if _, err := os.Stat(filepath.Join(dir, ".openshift_install.log")); err != nil {
			t.Errorf("--dir %s: %v", dir, err)
		}
	}
	first := readFile(t, "a/.openshift_install.log")
	run(t, map[string]string{replay.EnvScenario: "wait-for-bootstrap-complete-no-kubeconfig"}, "wait-for", "bootstrap-complete", "--dir", "a")
	second := readFile(t, "a/.openshift_install.log")
	if !strings.HasPrefix(second, first) || len(second) <= len(first) {
		t.Errorf("log was not appended to:\nfirst:\n%s\nsecond:\n%s", first, second)
	}
	if !strings.Contains(second[len(first):], "loading kubeconfig: stat a/auth/kubeconfig") {
		t.Errorf("second run's lines do not name --dir a:\n%s", second[len(first):])
	}
}

// TestTimestampsKeepRecordedDurations: the written log starts now and its
// gaps are the recorded ones, so stage durations come out as recorded.
func TestTimestampsKeepRecordedDurations(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if out, _, _ := run(t, nil, "create", "cluster", "--dir", dir); out.Code != 0 {
		t.Fatalf("exit code %d", out.Code)
	}
	got := logTimes(t, readFile(t, filepath.Join(dir, ".openshift_install.log")))
	rec := logTimes(t, readFile(t, "testdata/logs/aws-4.16-create-cluster-success.log"))
	if len(got) != len(rec) {
		t.Fatalf("%d lines written, %d recorded", len(got), len(rec))
	}
	if !got[0].Equal(start) {
		t.Errorf("first line at %v, want now (%v)", got[0], start)
	}
	for i := range got {
		if got[i].Sub(got[0]) != rec[i].Sub(rec[0]) {
			t.Errorf("line %d at +%v, recorded at +%v", i, got[i].Sub(got[0]), rec[i].Sub(rec[0]))
		}
	}
	if total := got[len(got)-1].Sub(got[0]); total != 33*time.Minute+3*time.Second {
		t.Errorf("run spans %v in the log, want the recorded 33m3s", total)
	}
}

var timeField = regexp.MustCompile(`^time="([^"]+)"`)

func logTimes(t *testing.T, log string) []time.Time {
	t.Helper()
	var out []time.Time
	sc := bufio.NewScanner(strings.NewReader(log))
	for sc.Scan() {
		m := timeField.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		ts, err := time.Parse(time.RFC3339, m[1])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ts)
	}
	return out
}

// TestScenarios: every embedded scenario loads and replays to its recorded
// exit code with a result from the closed set; each command it covers has
// exactly one default; platforms other than none are patched into the
// state and metadata.json.
func TestScenarios(t *testing.T) {
	t.Parallel()
	all, err := replay.Scenarios()
	if err != nil {
		t.Fatal(err)
	}
	defaults := map[string]int{}
	for _, s := range all {
		if s.Default {
			defaults[s.Command]++
		}
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			if !record.Result(s.Expect.Result).Valid() {
				t.Errorf("expect.result %q is not a result class", s.Expect.Result)
			}
			dir := t.TempDir()
			out, _, stderr := run(t, map[string]string{replay.EnvScenario: s.Name}, append(strings.Fields(s.Command), "--dir", dir)...)
			if out.Code != s.ExitCode || out.Signal != nil {
				t.Errorf("outcome %+v, want exit code %d; stderr:\n%s", out, s.ExitCode, stderr)
			}
			if s.Platform != "none" {
				if md, err := os.ReadFile(filepath.Join(dir, "metadata.json")); err == nil && !strings.Contains(string(md), `"`+s.Platform+`":{}`) {
					t.Errorf("metadata.json does not name %s: %s", s.Platform, md)
				}
				if st, err := os.ReadFile(filepath.Join(dir, ".openshift_install_state.json")); err == nil && !strings.Contains(string(st), `"platform":{"`+s.Platform+`":{}}`) {
					t.Errorf("state file does not name platform %s", s.Platform)
				}
			}
		})
	}
	for _, c := range []string{"create cluster", "create manifests", "create ignition-configs", "wait-for bootstrap-complete", "wait-for install-complete", "destroy cluster"} {
		if defaults[c] != 1 {
			t.Errorf("%d default scenarios for %q, want 1", defaults[c], c)
		}
	}
}

// TestScenarioOnlyForItsCommand: the chosen scenario applies to the
// command it records; others keep their default, so one setting serves a
// whole create manifests / create cluster sequence.
func TestScenarioOnlyForItsCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{replay.EnvScenario: "cluster-operators-degraded"}
	if out, _, _ := run(t, env, "create", "manifests", "--dir", dir); out.Code != 0 {
		t.Errorf("create manifests: exit code %d, want the default scenario's 0", out.Code)
	}
	if out, _, _ := run(t, env, "create", "cluster", "--dir", dir); out.Code != 6 {
		t.Errorf("create cluster: exit code %d, want 6", out.Code)
	}
	if out, _, stderr := run(t, nil, "gather", "bootstrap", "--dir", dir); out.Code != 1 || !strings.Contains(stderr, "no such replay scenario") {
		t.Errorf("gather bootstrap: exit code %d, stderr %q; want 1 and a clear message", out.Code, stderr)
	}
}

// TestScenarioFromFile: a scenario can live outside the binary.
func TestScenarioFromFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := `time="2025-01-02T03:04:05Z" level=info msg="Install complete!"` + "\n"
	sc := `{"description": "x", "command": "wait-for install-complete", "version": "4.17.0", "release_image": "r", "platform": "gcp", "log": "x.log", "exit_code": 7, "expect": {"result": "OperatorsDegraded"}}`
	for name, body := range map[string]string{"x.log": log, "x.json": sc} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, _, stderr := run(t, map[string]string{replay.EnvScenario: filepath.Join(dir, "x.json")}, "wait-for", "install-complete", "--dir", dir)
	if out.Code != 7 || stderr != "level=info msg=Install complete!\n" {
		t.Errorf("got %+v %q", out, stderr)
	}
}

func TestBadSettings(t *testing.T) {
	t.Parallel()
	for k, v := range map[string]string{replay.EnvSpeed: "0", replay.EnvTeardown: "soon", replay.EnvScenario: "no-such-scenario"} {
		out, _, stderr := run(t, map[string]string{k: v}, "create", "cluster", "--dir", t.TempDir())
		if out.Code != 1 || !strings.Contains(stderr, "level=fatal") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%s=%s: got %+v %q, want exit code 1 and one fatal line", k, v, out, stderr)
		}
	}
}
