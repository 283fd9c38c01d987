// Package record holds the invocation record: one plain value that says what a
// single wrapped installer run did (command, target, platform, version, stage
// timeline, result, exit code, wall time, modified assets, CI or not).
//
// The wrapper fills it from the other packages (pkg/stages, pkg/modification)
// and hands it to pkg/push, which turns it into samples. The record knows
// nothing about processes, log lines or Prometheus.
package record
