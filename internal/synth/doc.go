// Package synth generates synthetic, deterministic AWS accounts as the
// output of `aws iam get-account-authorization-details` (GAAD), for tests
// and benchmarks that need accounts larger or more varied than the real
// samples in ../shared/data/gaad/.
//
// The output follows the real GAAD shape: the field names, nesting and key
// order of the IAM service model as the AWS CLI prints it, UserPolicyList
// omitted for users without inline policies, documents either as JSON
// objects (the CLI) or as RFC 3986 percent-encoded strings (the API and
// SDKs). The same Options always give the same bytes, and Expected says
// which users a correct IAM-071 audit must fail.
//
// It owns only generation: it imports the standard library and nothing of
// this module, so every package can use it in its tests without a cycle.
package synth
