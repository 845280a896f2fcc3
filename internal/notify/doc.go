// Package notify delivers the notifications of continuous mode: new
// findings, resolved findings and failed scans, to webhooks in a generic
// JSON format or Slack's incoming-webhook format.
//
// Delivery never blocks a scan: Notify only queues an event, and one
// worker per webhook sends it, retrying network errors, 5xx and 429 answers
// with exponential backoff and jitter (honouring Retry-After) a bounded
// number of times. A full queue drops the event and logs it. Close drains
// the queues within the caller's deadline.
//
// Webhook URLs are secrets (Slack's carry the token in the path): logs name
// a webhook by scheme and host only (see RedactURL).
//
// It imports only the standard library: it knows nothing of AWS, rules or
// the store; the watch package turns runs and their changes into Events.
package notify
