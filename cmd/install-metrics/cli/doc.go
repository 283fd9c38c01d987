// Package cli is install-metrics' command layer: it splits the metrics flags
// from the installer's arguments (with internal/cmdline, which also finds the
// installer), runs the installer through pkg/wrap while
// pkg/stages follows its log, and hands the invocation record to pkg/push.
// The `install-metrics metrics ...` namespace is a small cobra tree.
//
// Exit codes are decided in one place, Main: the installer's own code passes
// through; install-metrics' own failures use 2 (bad metrics flag, installer not
// started), 126 and 127 (installer not executable or not found), like a shell.
package cli
