// Package statsd is the StatsD sink, over UDP or TCP, with DogStatsD tags
// that prometheus/statsd_exporter turns into labels: a counter sample is
// "NAME:VALUE|c|#label:value,...", a histogram observation a timer in
// milliseconds, "NAME:MS|ms|#...", which statsd_exporter turns into a
// histogram with the contract's buckets through monitoring/statsd-mapping.yaml.
//
// A DogStatsD tag value cannot hold a comma, so a joined modification list
// becomes one line per asset. All lines of one invocation travel in one
// datagram (split only beyond 1432 bytes, at line boundaries) or, over TCP,
// newline-separated on one connection.
package statsd
