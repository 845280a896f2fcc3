package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/iamgroups/iamgroups/internal/model"
)

// maxName is IAM's limit for group and policy names.
const maxName = 128

// namer gives new groups and policies readable, valid, unique names.
// Groups and policies are separate namespaces in IAM; both are
// case-insensitive.
type namer struct {
	groups, policies map[string]bool // lower-case names in use
}

func newNamer(acct *model.Account) *namer {
	n := &namer{groups: map[string]bool{}, policies: map[string]bool{}}
	for _, g := range acct.Groups {
		n.groups[strings.ToLower(g.Name)] = true
	}
	for _, p := range acct.Policies {
		if a, _ := arnAccount(p.ARN); a == "aws" {
			continue // AWS managed: not the account's namespace
		}
		name := p.Name
		if name == "" { // some emulators omit it
			name = p.ARN[strings.LastIndexByte(p.ARN, '/')+1:]
		}
		n.policies[strings.ToLower(name)] = true
	}
	return n
}

// maxPrefix leaves room in a group name for the policies it is named after.
const maxPrefix = 64

// checkPrefix validates --group-prefix.
func checkPrefix(prefix string) error {
	if len(prefix) > maxPrefix {
		return fmt.Errorf("make plan: group prefix %q is longer than %d characters", prefix, maxPrefix)
	}
	if clean(prefix) != prefix {
		return fmt.Errorf("make plan: group prefix %q has characters IAM does not allow in names; use letters, digits and + = , . @ _ -", prefix)
	}
	return nil
}

// clean keeps the characters IAM allows in names: letters, digits and
// + = , . @ _ -.
func clean(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("+=,.@_-", r):
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

func shortDigest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:8]
}

// unique returns base if free in taken, else base with a short digest of
// key, then a counter, keeping within maxName.
func (n *namer) unique(taken map[string]bool, base, key string) string {
	base = clean(base)
	if base == "" {
		base = "iamgroups"
	}
	try := func(s string) bool {
		if len(s) > maxName || taken[strings.ToLower(s)] {
			return false
		}
		taken[strings.ToLower(s)] = true
		return true
	}
	if try(base) {
		return base
	}
	suffix := "-" + shortDigest(key)
	if len(base)+len(suffix) > maxName {
		base = base[:maxName-len(suffix)]
	}
	if try(base + suffix) {
		return base + suffix
	}
	for i := 2; ; i++ {
		s := base[:min(len(base), maxName-len(suffix)-len(strconv.Itoa(i))-1)] + suffix + "-" + strconv.Itoa(i)
		if try(s) {
			return s
		}
	}
}

// policy names the managed policy made from an inline document: the
// inline name most users gave it.
func (n *namer) policy(a *atom) string {
	name := "inline"
	if names := sortedNames(a.names); len(names) > 0 {
		name = names[0]
	}
	return n.unique(n.policies, name, a.digest)
}

// group names a group after the policies it carries: all of them when
// short, else the first and how many more; key makes it unique.
func (n *namer) group(prefix string, policies []string, key string) string {
	base := strings.Join(policies, "+")
	if len(prefix)+len(base) > 64 && len(policies) > 1 {
		first := policies[0]
		if len(first) > 40 {
			first = first[:40]
		}
		base = first + "-and-" + strconv.Itoa(len(policies)-1) + "-more"
	}
	if len(prefix)+len(base) > 100 {
		base = base[:max(0, 100-len(prefix))]
	}
	return n.unique(n.groups, prefix+base, key)
}
