// Package gateway is the aggregation push gateway sink
// (zapier/prom-aggregation-gateway contract): POST
// {url}/metrics/job/install-metrics in the text exposition format, counters
// and histograms (the gateway sums _count and _sum and merges buckets by
// upper bound, which adds up only because every client uses the contract's
// fixed bounds), credentials from --metrics-auth ([Auth], [ParseAuth]) read
// at send time, redirects never followed.
//
// [Gateway.Send] classifies every failure: a push that provably did not
// arrive (refused, DNS failure, TLS handshake failure, no complete request
// written, 3xx, 4xx other than 400, 502, 503, 504) is a
// sink.NotDeliveredError; one that may have arrived (timeout or reset after
// the request was written, 500) is a plain error and is never resent; a 400
// is reported with the gateway's message. Messages never hold a secret.
//
// gatewaytest is the fake gateway the tests (and hack/bench) use.
package gateway
