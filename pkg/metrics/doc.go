// Package metrics is the metric model of docs/metrics-schema.md (contract
// v2), the one place every sink, `metrics show` and monitoring/'s tests read:
// the family names (three counters and two histograms), their label names in
// order and help texts, the closed sets of every label, the label buckets of
// the seed's families ([Bucket], [ValidateBucket]), the histograms' fixed
// bounds ([StageBounds], [CommandBounds]) and [NormalizeVersion].
//
// [Samples] turns one record.Invocation into its samples: counter increments
// and histogram observations (a [Sample] of [Kind] Histogram whose Value is
// the observed seconds). A stage is observed only when the log's own
// timestamps give its start and end (record.Stage.Timed): never a guess.
// [ValidSample] checks a sample against the closed sets, written out here and
// independent of pkg/installer's parser, so that a parser bug cannot pass its
// own check.
//
// [Collector] exposes samples to client_golang (counters summed, histogram
// observations turned into cumulative buckets, _sum and _count with
// prometheus.NewConstHistogram), and [Text] renders them in the text
// exposition format. Merging across runs belongs to the sinks.
//
// The families keep the schema's names even though counters conventionally
// end in _total (promlint says so; the schema is the agreed interface).
package metrics
