package cloudformation

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxVariants bounds how many alternatives nested Fn::If expand into, and
// maxRender how long a rendered expression gets.
const (
	maxVariants = 64
	maxRender   = 120
)

// deref follows YAML aliases (bounded, in case of cycles).
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// get returns the value of key in mapping m (the last one when a key is
// repeated, as a JSON reader would), or nil.
func get(m *yaml.Node, key string) *yaml.Node {
	m = deref(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	var v *yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := deref(m.Content[i]); k != nil && k.Kind == yaml.ScalarNode && k.Value == key {
			v = m.Content[i+1]
		}
	}
	return deref(v)
}

// customTag reports whether a node carries a local tag such as !Ref.
func customTag(n *yaml.Node) bool {
	return strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!")
}

// literal returns a plain scalar's value: a literal string (numbers and
// booleans count, as CloudFormation turns them into strings). Null, empty
// strings and tagged values (!Ref ...) are not literals.
func literal(n *yaml.Node) (string, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || customTag(n) || n.Tag == "!!null" || n.Value == "" {
		return "", false
	}
	return n.Value, true
}

// isNull reports a missing or null value.
func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || (n.Kind == yaml.ScalarNode && !customTag(n) && n.Tag == "!!null")
}

// intrinsic recognizes a function call in short form (!Ref X, !If [...])
// or long form ({"Ref": X}, {"Fn::If": [...]}) and returns its long name
// ("Ref", "Fn::If", "Condition") and argument.
func intrinsic(n *yaml.Node) (name string, arg *yaml.Node, ok bool) {
	n = deref(n)
	if n == nil {
		return "", nil, false
	}
	if customTag(n) {
		t := n.Tag[1:]
		switch t {
		case "Ref", "Condition":
			name = t
		default:
			name = "Fn::" + t
		}
		c := *n
		c.Tag = ""
		switch c.Kind {
		case yaml.ScalarNode:
			c.Tag = "!!str"
		case yaml.SequenceNode:
			c.Tag = "!!seq"
		case yaml.MappingNode:
			c.Tag = "!!map"
		}
		return name, &c, true
	}
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 {
		k := deref(n.Content[0])
		if k != nil && k.Kind == yaml.ScalarNode && (k.Value == "Ref" || k.Value == "Condition" || strings.HasPrefix(k.Value, "Fn::")) {
			return k.Value, deref(n.Content[1]), true
		}
	}
	return "", nil, false
}

// refName returns X for Ref X.
func refName(n *yaml.Node) (string, bool) {
	name, arg, ok := intrinsic(n)
	if !ok || name != "Ref" {
		return "", false
	}
	return literal(arg)
}

func isNoValue(n *yaml.Node) bool {
	r, ok := refName(n)
	return ok && r == "AWS::NoValue"
}

// variant is one alternative value of an expression, with notes on the
// conditions that choose it.
type variant struct {
	node  *yaml.Node
	notes []string
}

func withNote(notes []string, s string) []string {
	out := make([]string, 0, len(notes)+1)
	return append(append(out, notes...), s)
}

// expand resolves Fn::If into both branches (recursively) and drops
// AWS::NoValue and null. Anything else is one variant.
func expand(n *yaml.Node, notes []string) []variant {
	var out []variant
	budget := maxExpandSteps
	expandInto(n, notes, &out, 0, &budget)
	return out
}

// maxExpandSteps bounds the nodes one expand visits: YAML aliases can
// make a small file hold an exponentially large tree of Fn::If whose
// branches are all AWS::NoValue.
const maxExpandSteps = 1024

func expandInto(n *yaml.Node, notes []string, out *[]variant, depth int, budget *int) {
	n = deref(n)
	*budget--
	if isNull(n) || isNoValue(n) || len(*out) >= maxVariants || *budget < 0 {
		return
	}
	if name, arg, ok := intrinsic(n); ok && name == "Fn::If" && depth < 32 {
		if arg != nil && arg.Kind == yaml.SequenceNode && len(arg.Content) == 3 {
			cond, ok := literal(arg.Content[0])
			if !ok {
				cond = render(arg.Content[0])
			}
			expandInto(arg.Content[1], withNote(notes, "only if condition "+cond+" is true (Fn::If true branch)"), out, depth+1, budget)
			expandInto(arg.Content[2], withNote(notes, "only if condition "+cond+" is false (Fn::If false branch)"), out, depth+1, budget)
			return
		}
	}
	*out = append(*out, variant{node: n, notes: notes})
}

// item is one element of a list property; whole is set when the list
// itself is an expression the template does not expand (a list parameter,
// Fn::Split, ...), so that the item stands for an unknown number of
// elements.
type item struct {
	variant
	whole bool
}

// expandList expands a list property and each of its elements.
func expandList(n *yaml.Node) []item {
	var out []item
	for _, v := range expand(n, nil) {
		if v.node.Kind == yaml.SequenceNode && !customTag(v.node) {
			for _, e := range v.node.Content {
				for _, ev := range expand(e, v.notes) {
					out = append(out, item{variant: ev})
				}
			}
			continue
		}
		out = append(out, item{variant: v, whole: true})
	}
	return out
}

// render is a short, one-line rendering of an expression, in long form:
// "Fn::Sub: ${Env}-deployer", "Fn::Select: [0, {Ref: Users}]".
func render(n *yaml.Node) string {
	var b strings.Builder
	renderTo(&b, n, 0, true)
	s := b.String()
	if len(s) > maxRender {
		s = s[:maxRender-3] + "..."
	}
	return s
}

func renderTo(b *strings.Builder, n *yaml.Node, depth int, top bool) {
	n = deref(n)
	if b.Len() > maxRender || depth > 8 {
		b.WriteString("...")
		return
	}
	if n == nil {
		b.WriteString("null")
		return
	}
	if name, arg, ok := intrinsic(n); ok {
		if !top {
			b.WriteByte('{')
		}
		b.WriteString(name)
		b.WriteString(": ")
		renderTo(b, arg, depth+1, false)
		if !top {
			b.WriteByte('}')
		}
		return
	}
	switch n.Kind {
	case yaml.ScalarNode:
		b.WriteString(strings.Join(strings.Fields(n.Value), " "))
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteString(", ")
			}
			renderTo(b, c, depth+1, false)
			if b.Len() > maxRender {
				break
			}
		}
		b.WriteByte(']')
	case yaml.MappingNode:
		b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteString(", ")
			}
			renderTo(b, n.Content[i], depth+1, false)
			b.WriteString(": ")
			renderTo(b, n.Content[i+1], depth+1, false)
			if b.Len() > maxRender {
				break
			}
		}
		b.WriteByte('}')
	default:
		b.WriteString("?")
	}
}
