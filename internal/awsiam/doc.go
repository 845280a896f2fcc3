// Package awsiam is the only package that talks to AWS. It builds SDK
// configurations from the standard credential chain and the tool's flags
// (profile, region, endpoint, role to assume), counts every call by
// operation, and collects IAM data into model.Account values: with
// GetAccountAuthorizationDetails (a call per thousand entities) or, when
// that is denied, with the per-user listing calls. It also scans every
// account of an AWS Organization.
//
// It imports the AWS SDK for Go v2 (iam, sts, organizations, config),
// model and policydoc. Nothing outside this package imports the SDK; the
// SDK clients are used behind small interfaces declared here, one per
// paginated call, which tests can fake.
package awsiam
