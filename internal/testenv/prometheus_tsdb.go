package testenv

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// promtoolTimeout bounds one promtool run.
const promtoolTimeout = 2 * time.Minute

// Prometheus is a real Prometheus started by StartPrometheusOn on a TSDB
// directory the test owns, so that it can be stopped and started again on
// the same data (blocks backfilled by promtool in between, say).
type Prometheus struct {
	// URL is its base URL (for Query).
	URL  string
	stop func()
}

// Stop kills it and waits for it to exit; a second call does nothing. It is
// also called in t.Cleanup.
func (p *Prometheus) Stop() { p.stop() }

// scopedTB hands the cleanups registered through it to Prometheus.Stop
// instead of the end of the test.
type scopedTB struct {
	testing.TB
	cleanups []func()
}

func (s *scopedTB) Cleanup(f func()) { s.cleanups = append(s.cleanups, f) }

// StartPrometheusOn starts the real Prometheus on 127.0.0.1 with the
// configuration given (YAML) and its TSDB in dataDir, which may already hold
// blocks, and waits until it is ready. Extra flags follow the defaults.
func StartPrometheusOn(t testing.TB, dataDir string, conf []byte, extraArgs ...string) *Prometheus {
	t.Helper()
	Tool(t, "prometheus")
	path := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(path, conf, 0o644); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	port := strconv.Itoa(FreePort(t))
	base := "http://127.0.0.1:" + port
	scope := &scopedTB{TB: t}
	var once sync.Once
	p := &Prometheus{URL: base, stop: func() {
		once.Do(func() {
			for _, f := range slices.Backward(scope.cleanups) {
				f()
			}
		})
	}}
	t.Cleanup(p.Stop)
	start(scope, "prometheus", append([]string{
		"--config.file=" + path,
		"--storage.tsdb.path=" + dataDir,
		"--web.listen-address=127.0.0.1:" + port,
		"--log.level=warn",
	}, extraArgs...), base+"/-/ready")
	return p
}

// Promtool runs bin/promtool with args (at most two minutes) and returns
// its output; a failure fails the test with that output.
func Promtool(t testing.TB, args ...string) string {
	t.Helper()
	bin := Tool(t, "promtool")
	ctx, cancel := context.WithTimeout(context.Background(), promtoolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = t.TempDir()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	setPdeathsig(cmd)
	if err := cmd.Run(); err != nil {
		t.Fatalf("testenv: promtool %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}
