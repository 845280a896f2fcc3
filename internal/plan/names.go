package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/iamgroups/iamgroups/internal/model"
)

// maxName is IAM's limit for group and policy names.
const maxName = 128

// namer gives new groups and policies readable, valid, unique names.
type namer struct {
	taken map[string]bool // lower-case: IAM names are case-insensitive
}

func newNamer(acct *model.Account) *namer {
	n := &namer{taken: map[string]bool{}}
	for _, g := range acct.Groups {
		n.taken[strings.ToLower(g.Name)] = true
	}
	for _, p := range acct.Policies {
		n.taken[strings.ToLower(p.Name)] = true
	}
	return n
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

// unique returns base if free, else base with a short digest of key, then
// a counter, keeping within maxName.
func (n *namer) unique(base, key string) string {
	base = clean(base)
	if base == "" {
		base = "iamgroups"
	}
	try := func(s string) bool {
		if len(s) > maxName || n.taken[strings.ToLower(s)] {
			return false
		}
		n.taken[strings.ToLower(s)] = true
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
	return n.unique(name, a.digest)
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
	return n.unique(prefix+base, key)
}
