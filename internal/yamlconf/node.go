package yamlconf

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Deref follows an alias to the node it names. An anchored node is never
// itself an alias, so one step is enough; the bound is a guard.
func Deref(n *yaml.Node) *yaml.Node {
	for i := 0; i < 8 && n.Kind == yaml.AliasNode && n.Alias != nil; i++ {
		n = n.Alias
	}
	return n
}

// IsNull reports whether n is a null scalar: "~", "null" or nothing.
func IsNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// Describe names a node's type for "found ..." messages, such as "a list"
// or `the string "x"`.
func Describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing"
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		}
		return fmt.Sprintf("the string %q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "an unknown node"
}

// Join returns the field path of key inside field, such as
// "exemptions[0].reason"; key alone when field is "" (the top level).
func Join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

// Suggest returns the known key closest to key, if it is a likely typo
// (fewer than three edits away, ignoring case), or "".
func Suggest(key string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(key), k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between short strings.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
