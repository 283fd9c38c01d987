// Package e2e holds the end-to-end tests of the whole tool: the real
// install-metrics and replay-installer binaries, run as a user runs them,
// sending to a real statsd_exporter, the local textfile and the test
// aggregation gateway, all scraped by a real Prometheus; the user stories'
// PromQL, and every query and dashboard panel of monitoring/, answered with
// exact numbers.
package e2e
