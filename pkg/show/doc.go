// Package show is `install-metrics metrics show`: the local textfile for
// people (a table: runs by command and result, platform and version, the
// label-bucketed stages, per-stage runs with p50 and p90 from the stage
// histograms, IPI and agent stages alike, and modified assets), as
// exposition text (--format prom) or as JSON. It only reads; it is
// presentation, kept out of the transport packages.
package show
