// Package benchlog writes large, realistic installer logs for the
// benchmarks of pkg/stages: real log lines repeated, with long terraform and
// Cluster API debug lines (100 KiB to several MiB) among them, as one
// successful `create cluster` run.
package benchlog
