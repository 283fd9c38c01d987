// Package testenv finds and starts the real tools that `make tools` installs,
// pinned, into the repository's bin/ (Prometheus, promtool,
// statsd_exporter), for tests that check install-metrics against the real
// thing. Everything binds to 127.0.0.1 on free ports, keeps its data in
// t.TempDir() and is killed in t.Cleanup.
//
// A missing tool skips the test, except under CI=true, where it fails with
// "run make tools": in CI a skipped end-to-end test would be a silent gap.
// With -short (make test-short) tests that need a real tool are skipped.
package testenv
