// Package gatewaytest is a test double of the aggregation push gateway,
// faithful to the zapier/prom-aggregation-gateway v0.9.0 push contract
// (docs/ecosystem.md sections 1 and 8), plus the faults the real one cannot
// show on demand. The real gateway is not installable from the Go module
// proxy, so tests in this repository use this one.
//
// What it reproduces:
//
//   - POST and PUT on /metrics and /metrics/<name>/<value>…, both merging into
//     one global store (PUT replaces nothing); 202 Accepted on success.
//   - The body is parsed as the text exposition format whatever the
//     Content-Type (a protobuf body fails with "text format parsing error in
//     line 1: …").
//   - Path pairs become labels on every pushed sample, job included; 400
//     with the real messages for an odd number of path parts ("labels must
//     be defined in pairs"), a label both in the path and the body
//     ("duplicate label <name>"), a type clash ("cannot merge metric
//     '<name>': type COUNTER != GAUGE"), unparsable text and a series twice
//     in one push ("duplicate labels: …"). Like the real one, families are
//     merged one by one, so a 400 can leave earlier families of the same push
//     merged (the real one takes them in random order; this one in name
//     order, for repeatable tests).
//   - Summing by type: counters, untyped and gauges summed; histograms by
//     count, sum and buckets (merged by upper bound); summaries by count and
//     sum, quantiles dropped. A merged sample loses its timestamp, a new one
//     keeps it (so a test can prove a client never sends them).
//   - GET /metrics renders the store (format negotiated like the real one);
//     no TTL, no DELETE route (404 "404 page not found", as gin answers).
//   - HTTP Basic auth on pushes only, when AuthUsers is set (401 with
//     WWW-Authenticate, empty body); GET /metrics is never authenticated.
//
// With Options.Lifecycle, the lifecycle listener on its own port: /healthy,
// /ready and the gateway's own prom_agg_gateway_metric_pushes{push_job}.
// Not reproduced: its other own metrics, and CORS headers.
//
// Test-only additions: a Bearer token check on pushes that emulates the TLS
// proxy that must sit in front of the real gateway; TLS with a private CA
// (NewTLSServer); faults set with SetFault (status codes, never answering,
// answering late, closing mid-request, closing after processing, redirects);
// a record of every request; Blackhole and RefusedAddr for listeners that
// accept and never answer or refuse connections.
package gatewaytest
