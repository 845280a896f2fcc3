package terraform

import (
	"encoding/json"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// valKind is what the configuration says about an attribute.
type valKind int

const (
	valAbsent  valKind = iota // not set
	valNull                   // null
	valLiteral                // a known string, number or bool
	valList                   // a static list; elems hold the elements
	valMap                    // a known map or object; n is its length
	valRef                    // decided by something the source leaves open
)

// val is an attribute's value as far as the source decides it.
type val struct {
	kind  valKind
	str   string // literal text, or the expression text of a reference
	elems []val
	n     int
}

// isZeroCount reports whether a count or for_each value creates no instance.
func (v val) isEmptyInstances(attr string) bool {
	switch attr {
	case "count":
		return v.kind == valLiteral && (v.str == "0")
	case "for_each":
		return (v.kind == valList && len(v.elems) == 0) || (v.kind == valMap && v.n == 0)
	}
	return false
}

// exprVal reads an HCL (native or JSON) expression without evaluating any
// variable or function.
func exprVal(expr hcl.Expression, src []byte) val {
	if list, diags := hcl.ExprList(expr); !diags.HasErrors() && list != nil {
		// A JSON string is not a list; a JSON array or an HCL tuple is.
		out := val{kind: valList, elems: make([]val, 0, len(list))}
		for _, e := range list {
			out.elems = append(out.elems, exprVal(e, src))
		}
		return out
	}
	if len(expr.Variables()) == 0 {
		if v, ok := safeValue(expr); ok {
			return ctyVal(v)
		}
	}
	text := exprText(expr, src)
	if strings.TrimSpace(text) == "" {
		text = "(expression)"
	}
	return val{kind: valRef, str: text}
}

// safeValue evaluates an expression that has no variables. Function calls
// fail without an evaluation context, which is what is wanted.
func safeValue(expr hcl.Expression) (v cty.Value, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	v, diags := expr.Value(nil)
	if diags.HasErrors() || !v.IsWhollyKnown() {
		return cty.NilVal, false
	}
	return v, true
}

func ctyVal(v cty.Value) val {
	if v.IsNull() {
		return val{kind: valNull}
	}
	t := v.Type()
	switch {
	case t == cty.String:
		return val{kind: valLiteral, str: v.AsString()}
	case t == cty.Number:
		return val{kind: valLiteral, str: v.AsBigFloat().Text('f', -1)}
	case t == cty.Bool:
		if v.True() {
			return val{kind: valLiteral, str: "true"}
		}
		return val{kind: valLiteral, str: "false"}
	case t.IsTupleType() || t.IsListType() || t.IsSetType():
		out := val{kind: valList}
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			out.elems = append(out.elems, ctyVal(e))
		}
		return out
	case t.IsObjectType() || t.IsMapType():
		return val{kind: valMap, n: v.LengthInt()}
	}
	return val{kind: valRef, str: v.GoString()}
}

// exprText is the source text of an expression, without the quotes and
// "${ }" of a string that is a single interpolation.
func exprText(expr hcl.Expression, src []byte) string {
	r := expr.Range()
	if r.Start.Byte < 0 || r.End.Byte > len(src) || r.Start.Byte > r.End.Byte {
		return "(expression)"
	}
	text := strings.TrimSpace(string(src[r.Start.Byte:r.End.Byte]))
	switch expr.(type) {
	case *hclsyntax.TemplateExpr, *hclsyntax.TemplateWrapExpr:
		return unquoteTemplate(unwrapInterp(text), false)
	case hclsyntax.Expression:
		return text
	}
	// A JSON string: its text is a template.
	return unquoteTemplate(unwrapInterp(text), true)
}

// unquoteTemplate drops the quotes of a string template: the reference
// "arn:aws:iam::${local.account}:policy/p" reads arn:aws:iam::${local.account}:policy/p.
func unquoteTemplate(s string, isJSON bool) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	if isJSON {
		var out string
		if json.Unmarshal([]byte(s), &out) == nil {
			return out
		}
	}
	return s[1 : len(s)-1]
}

func unwrapInterp(s string) string {
	if strings.HasPrefix(s, `"${`) && strings.HasSuffix(s, `}"`) {
		// A JSON string holds escapes; "${x}" holds none that matter.
		s = strings.ReplaceAll(s, `\"`, `"`)
	}
	if len(s) >= 5 && strings.HasPrefix(s, `"${`) && strings.HasSuffix(s, `}"`) {
		inner := s[3 : len(s)-2]
		if !strings.Contains(inner, "${") && !strings.Contains(inner, "}") {
			return strings.TrimSpace(inner)
		}
	}
	return s
}

// userTarget parses a reference of the form aws_iam_user.<x>.name or
// aws_iam_user.<x>[i].id and returns <x>.
func userTarget(ref string) (string, bool) {
	trav, diags := hclsyntax.ParseTraversalAbs([]byte(ref), "", hcl.InitialPos)
	if diags.HasErrors() || len(trav) < 3 || trav.RootName() != "aws_iam_user" {
		return "", false
	}
	name, ok := trav[1].(hcl.TraverseAttr)
	if !ok {
		return "", false
	}
	rest := trav[2:]
	if _, isIndex := rest[0].(hcl.TraverseIndex); isIndex {
		rest = rest[1:]
	}
	if len(rest) != 1 {
		return "", false
	}
	last, ok := rest[0].(hcl.TraverseAttr)
	if !ok || (last.Name != "name" && last.Name != "id") {
		return "", false
	}
	return name.Name, true
}
