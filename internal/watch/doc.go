// Package watch owns continuous mode's scanning: the `iamgroups serve`
// config (targets, schedules, store, notifications, exemptions) and its
// strict validation (on yamlconf, like the exemptions config), the
// scheduler that scans each target on its schedule (never twice at once,
// with bounded overall concurrency, and on demand through Trigger), and the
// scan itself: collect, evaluate the rules and the exemptions as of now,
// record the run in the store, and notify its new and resolved findings or
// its failure.
//
// It sits above awsiam, snapshot, rule, exempt, yamlconf, store and notify,
// and below the CLI. It serves no HTTP: the web package calls the scheduler
// through an interface it declares.
package watch
