// Package demo embeds the demo account (a fictional company) and its exemption config, used by `iamgroups audit --demo` and by tests.
package demo

import _ "embed"

// Account is the demo account as an iamgroups snapshot (schema
// iamgroups.snapshot/v1): one get-account-authorization-details page for
// the fictional Northwind Analytics, account 111122223333.
//
//go:embed account.json
var Account []byte

// Exemptions is the demo's exemption config (YAML, version 1).
//
//go:embed exemptions.yaml
var Exemptions []byte

// Name is how outputs name the demo source.
const Name = "demo (Northwind Analytics)"
