package push

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/install-metrics/install-metrics/pkg/metrics/metricstest"
	"github.com/install-metrics/install-metrics/pkg/record"
	"github.com/install-metrics/install-metrics/pkg/sink/gateway/gatewaytest"
)

// Known secrets: every scenario runs with them and nothing we print, write or
// send in a body may contain them.
const (
	testToken      = "tok-3f1d9a7c-SECRET"
	testPassword   = "pw-9b2e44d0-SECRET"
	testPullSecret = "ps-c0ffee11-SECRET"
)

// testInv is a successful create cluster with one modified asset.
func testInv() record.Invocation {
	return metricstest.Invocations()["create-cluster-success"]
}

// newSender builds a Sender with a fresh state directory; timeout 0 in cfg
// means the default here (tests of Timeout 0 set cfg.Timeout = -1).
func newSender(t testing.TB, cfg Config, urls ...string) *Sender {
	t.Helper()
	if cfg.StateDir == "" {
		cfg.StateDir = t.TempDir()
	}
	switch cfg.Timeout {
	case 0:
		cfg.Timeout = DefaultTimeout
	case -1:
		cfg.Timeout = 0
	}
	sinks, err := ParseSinks(urls, cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Sinks = sinks
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newGatewayServer(t testing.TB, o gatewaytest.Options) *gatewaytest.Server {
	t.Helper()
	g := gatewaytest.NewServer(o)
	t.Cleanup(g.Close)
	return g
}

// warnings renders the report's warnings, one line each.
func warnings(r *Report) []string {
	var out []string
	for _, w := range r.Warnings {
		out = append(out, w.Error())
	}
	return out
}

// spoolEntries lists the pending spool entries of a sender.
func spoolEntries(t *testing.T, s *Sender) []string {
	t.Helper()
	names, err := s.spool.List()
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// writeSecret writes a 0600 file holding content.
func writeSecret(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// assertNoSecrets searches texts and every file under dirs for the known
// secrets.
func assertNoSecrets(t *testing.T, texts []string, dirs ...string) {
	t.Helper()
	secrets := []string{testToken, testPassword, testPullSecret}
	for _, txt := range texts {
		for _, sec := range secrets {
			if strings.Contains(txt, sec) {
				t.Errorf("secret leaked in %q", txt)
			}
		}
	}
	for _, dir := range dirs {
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return nil
			}
			for _, sec := range secrets {
				if strings.Contains(string(data), sec) {
					t.Errorf("secret leaked into %s", p)
				}
			}
			return nil
		})
	}
}

// timed runs f and returns how long it took.
func timed(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}

// writeFileAt creates a regular file at path (e.g. where a directory should be).
func writeFileAt(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(content), 0o600)
}
