// Package installer holds what install-metrics knows about openshift-install's
// command line (docs/installer.md): which words are commands and targets, where
// --dir points, which commands write the log file and which consume generated
// assets, and what its exit codes mean. It runs nothing.
package installer
