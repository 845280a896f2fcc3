// Package exempt owns the exemptions config of rule IAM-071: the YAML file
// format and its strict validation, matching exemptions to users and their
// direct policies, and expiry. Apply turns FAIL results that an exemption
// covers into EXEMPT results, marks covered violations, and reports
// exemptions that matched but have expired.
//
// The strict YAML parsing it shares with the serve config (located errors,
// unknown-key suggestions, syntax-error location) is package yamlconf; Error
// is yamlconf.Error.
//
// It imports only model, rule, yamlconf and the YAML library: no AWS SDK,
// no CLI, and no I/O beyond Load reading the config file.
//
// # File format
//
//	version: 1                       # optional; if present it must be 1
//	exemptions:
//	  - users: ["break-glass-admin", "arn:aws:iam::*:user/ops/*"]
//	    reason: "Emergency access, reviewed quarterly"   # required
//	    expires: 2027-06-30          # optional, valid through that day (UTC)
//	  - tags: ["iamgroups:exempt=true"]
//	    reason: "..."
//	  - policies: ["arn:aws:iam::aws:policy/IAMUserChangePassword", "ForceMFA*"]
//	    reason: "..."
//	  - accounts: ["111122223333"]
//	    users: ["ci-*"]
//	    reason: "..."
//
// Each entry needs at least one of users, tags or policies (accounts alone
// would exempt whole accounts and is refused). The selectors given in one
// entry must all match (AND); the values of one list are alternatives (OR).
// A single string is accepted where a list is expected.
//
// # Globs
//
// Patterns use path.Match syntax: '*', '?', '[...]' and '\' escapes.
//
//   - A users pattern that starts with "arn:" matches the user's ARN;
//     otherwise it matches the user name. A policies pattern that starts with
//     "arn:" matches the ARN of a managed policy; otherwise it matches the
//     name of a managed or an inline policy.
//   - Name patterns use path.Match as is. Names never contain '/', so a name
//     pattern containing '/' is refused (use an ARN pattern to match a path).
//   - In ARN patterns '/' is an ordinary character: '*' matches any run of
//     characters including '/', and '?' any one character. So
//     "arn:aws:iam::*:user/*" matches every user of the aws partition
//     whatever its path, and "arn:aws:iam::*:user/ops/*" every user whose
//     path starts with /ops/, including /ops/eu/.
//   - Matching is case-sensitive, as IAM's ARNs are.
//   - Tags are exact "key=value" pairs (split at the first '='); the user must
//     carry one of them. Accounts are exact 12-digit IDs.
//
// # Precedence
//
// An entry without policies exempts the whole user. An entry with policies
// covers the violations (direct policies) it names; a user whose every
// violation is covered, by one or several entries, is exempt. For each
// violation, and for the result, the first matching entry in file order
// wins. PASS and ERROR results are never changed. An entry whose expires
// date is before today (UTC) no longer applies: a FAIL user it would have
// covered stays FAIL, carries the expired exemption as evidence and has its
// message annotated, and Apply returns one warning per such entry.
package exempt
