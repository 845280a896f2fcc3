// Package web owns the HTTP side of continuous mode: the JSON API under
// /api/v1/, Prometheus metrics at /metrics, /healthz, the server-rendered
// dashboard and the token authentication in front of them.
//
// It reads history through the store.Store interface and reaches the
// scheduler of the watch package through the small Scheduler interface it
// declares here; it never scans anything itself. It imports store, rule and
// exempt, the Prometheus client library and the standard library, and must
// not import watch, awsiam or cli (watch and cli import web, not the other
// way round).
//
// # Routes
//
//	GET  /api/v1/summary                 latest state per target and account
//	GET  /api/v1/findings                findings, filtered and paginated
//	GET  /api/v1/runs, /api/v1/runs/{id} runs, newest first
//	GET  /api/v1/users/{account}/{name}  a user's history (or ?arn=ARN on /api/v1/users)
//	POST /api/v1/scans                   start a scan of a target now
//	GET  /metrics                        Prometheus text format
//	GET  /healthz                        liveness and store reachability
//	GET  /, /findings, /runs, /runs/{id}, /users/{account}/{name}, /exemptions
//	GET, POST /login; POST /logout        the dashboard's sign-in
//
// # Metrics
//
// Metrics are computed from the store at scrape time by a
// prometheus.Collector registered on the server's own registry (not the
// global one): the store is the single source of truth, so several
// instances sharing one PostgreSQL database report the same numbers and a
// restart loses no counter. Counters derived from finished runs
// (iamgroups_runs_total, iamgroups_api_calls_total) only grow as long as
// history is kept.
//
// # Security
//
// With an empty token nothing is authenticated, which CheckListen allows
// only on a loopback address. With a token, /api/v1/ and /metrics require
// "Authorization: Bearer TOKEN" (compared in constant time) and the
// dashboard asks for the token once through a login form; the cookie it
// sets holds an HMAC derived from the token, never the token. /healthz
// stays open. Every response carries a strict Content-Security-Policy: the
// dashboard loads nothing but its own stylesheet.
package web
