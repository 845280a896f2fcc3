package terraform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/iamgroups/iamgroups/internal/iac"
	"github.com/iamgroups/iamgroups/internal/model"
)

// planChange is one element of a plan's resource_changes.
type planChange struct {
	Address       string `json:"address"`
	ModuleAddress string `json:"module_address"`
	Mode          string `json:"mode"`
	Type          string `json:"type"`
	Name          string `json:"name"`
	Change        struct {
		Actions      []string        `json:"actions"`
		After        json.RawMessage `json:"after"`
		AfterUnknown json.RawMessage `json:"after_unknown"`
	} `json:"change"`
}

// planModule is a module of the plan's configuration section, which keeps
// the references of expressions whose values are unknown until apply.
type planModule struct {
	Resources []struct {
		Address     string `json:"address"`
		Expressions map[string]struct {
			References []string `json:"references"`
		} `json:"expressions"`
	} `json:"resources"`
	ModuleCalls map[string]struct {
		Module planModule `json:"module"`
	} `json:"module_calls"`
}

type planConfig struct {
	RootModule planModule `json:"root_module"`
}

// scanPlan scans a `terraform show -json` plan. It returns false, adding
// nothing, when data is valid JSON but not a plan.
func scanPlan(scan *iac.Scan, path string, data []byte) (isPlan bool) {
	defer func() {
		if r := recover(); r != nil {
			scan.Errors = append(scan.Errors, iac.FileError{File: path, Msg: fmt.Sprintf("internal error reading the plan: %v", r)})
			isPlan = true
		}
	}()
	type located struct {
		pc  planChange
		off int
	}
	var changes []located
	var config *planConfig
	hasFormat, hasChanges := false, false

	dec := json.NewDecoder(bytes.NewReader(data))
	fail := func(err error) bool {
		off := int(dec.InputOffset())
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off = int(se.Offset)
		}
		line, col := posAt(data, off)
		scan.Errors = append(scan.Errors, iac.FileError{File: path, Line: line, Column: col, Msg: "invalid plan JSON: " + err.Error()})
		return true
	}
	t, err := dec.Token()
	if err != nil {
		return fail(err)
	}
	if t != json.Delim('{') {
		return false
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fail(err)
		}
		key, _ := t.(string)
		switch key {
		case "format_version":
			var s any
			if err := dec.Decode(&s); err != nil {
				return fail(err)
			}
			hasFormat = true
		case "configuration":
			config = new(planConfig)
			if err := dec.Decode(config); err != nil {
				// A configuration of an unexpected shape only costs references.
				var ute *json.UnmarshalTypeError
				if !errors.As(err, &ute) {
					return fail(err)
				}
			}
		case "resource_changes":
			t, err := dec.Token()
			if err != nil {
				return fail(err)
			}
			if t == nil { // null
				hasChanges = true
				continue
			}
			if t != json.Delim('[') {
				return fail(fmt.Errorf("resource_changes is not an array"))
			}
			hasChanges = true
			for dec.More() {
				off := int(dec.InputOffset())
				for off < len(data) && (data[off] == ',' || data[off] == ' ' || data[off] == '\n' || data[off] == '\r' || data[off] == '\t') {
					off++
				}
				var pc planChange
				if err := dec.Decode(&pc); err != nil {
					var ute *json.UnmarshalTypeError
					if !errors.As(err, &ute) {
						return fail(err)
					}
					line, col := posAt(data, off)
					scan.Errors = append(scan.Errors, iac.FileError{File: path, Line: line, Column: col, Msg: "unexpected resource change: " + err.Error()})
					continue
				}
				changes = append(changes, located{pc, off})
			}
			if _, err := dec.Token(); err != nil {
				return fail(err)
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return fail(err)
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return fail(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("data after the top-level object")
		}
		return fail(err)
	}
	if !hasFormat || !hasChanges {
		return false
	}

	// Users first, so that references to them resolve.
	userNames := map[string]string{} // address -> literal name
	var rs []*resource
	for _, c := range changes {
		pc := c.pc
		if pc.Mode != "" && pc.Mode != "managed" || !watched[pc.Type] {
			continue
		}
		if isDeleteOnly(pc.Change.Actions) || isNullJSON(pc.Change.After) {
			continue
		}
		line, col := posAt(data, c.off)
		r := &resource{typ: pc.Type, name: pc.Name, file: path, line: line, col: col, address: pc.Address, attrs: map[string]val{}}
		if r.address == "" {
			r.address = pc.Type + "." + pc.Name
		}
		var after map[string]any
		var unknown map[string]any
		d := json.NewDecoder(bytes.NewReader(pc.Change.After))
		d.UseNumber()
		_ = d.Decode(&after)
		_ = json.Unmarshal(pc.Change.AfterUnknown, &unknown)
		refs := config.references(pc.ModuleAddress, pc.Type+"."+pc.Name)
		for _, n := range attrNames {
			r.attrs[n] = planVal(after, unknown, n, refs[n])
		}
		if r.typ == "aws_iam_user" {
			if n := r.attrs["name"]; n.kind == valLiteral {
				userNames[r.address] = n.str
			}
			scan.Users = append(scan.Users, iac.User{Name: userNames[r.address], Location: locOf(r)})
			continue
		}
		rs = append(rs, r)
	}
	for _, r := range rs {
		mod := moduleOf(r.address)
		resolve := func(v val, _ string) (user, ref, note string) {
			switch v.kind {
			case valLiteral:
				return v.str, "", ""
			case valRef:
				if x, ok := userTarget(v.str); ok {
					ref = "aws_iam_user." + x
					if n, ok := userNames[mod+ref]; ok {
						return n, ref, ""
					}
					return "", ref, "the user's name is known only after apply"
				}
				if v.str == unknownAfterApply {
					return "", v.str, "the user is known only after apply"
				}
				return "", v.str, "the user is decided by " + v.str + ", known only after apply"
			case valAbsent, valNull:
				return "", "(not set)", "the plan does not name the user"
			}
			return "", "(unknown)", "the user is not a string"
		}
		scan.Findings = append(scan.Findings, findingsFor(r, r.address, "", resolve)...)
	}
	return true
}

const unknownAfterApply = "(known after apply)"

func locOf(r *resource) model.Location {
	return model.Location{File: r.file, Line: r.line, Column: r.col, Address: r.address}
}

// moduleOf is the module part of a resource address, with its trailing dot:
// "module.m[0]." for "module.m[0].aws_iam_user_policy.p".
func moduleOf(addr string) string {
	i := strings.LastIndex(addr, "module.")
	if i < 0 {
		return ""
	}
	// Skip the module name and its index.
	rest := addr[i+len("module."):]
	depth := 0
	for j := 0; j < len(rest); j++ {
		switch rest[j] {
		case '[':
			depth++
		case ']':
			depth--
		case '.':
			if depth == 0 {
				return addr[:i+len("module.")+j+1]
			}
		}
	}
	return ""
}

func isDeleteOnly(actions []string) bool {
	return len(actions) == 1 && (actions[0] == "delete" || actions[0] == "forget")
}

func isNullJSON(raw json.RawMessage) bool {
	s := bytes.TrimSpace(raw)
	return len(s) == 0 || string(s) == "null"
}

// planVal turns a planned value into a val: values in a plan are resolved,
// except those known only after apply, which the configuration section
// names by reference when it can.
func planVal(after, unknown map[string]any, name string, refs []string) val {
	if v, ok := after[name]; ok && v != nil {
		return jsonVal(v, unknown[name])
	}
	if u, ok := unknown[name]; ok && u != false {
		if u == true {
			return val{kind: valRef, str: bestRef(refs)}
		}
		if list, ok := u.([]any); ok { // known length, unknown elements
			out := val{kind: valList}
			for _, e := range list {
				out.elems = append(out.elems, jsonVal(nil, e))
			}
			return out
		}
	}
	if _, ok := after[name]; ok {
		return val{kind: valNull}
	}
	return val{kind: valAbsent}
}

func jsonVal(v, unknown any) val {
	if unknown == true {
		return val{kind: valRef, str: unknownAfterApply}
	}
	switch x := v.(type) {
	case nil:
		return val{kind: valNull}
	case string:
		return val{kind: valLiteral, str: x}
	case json.Number:
		return val{kind: valLiteral, str: x.String()}
	case bool:
		if x {
			return val{kind: valLiteral, str: "true"}
		}
		return val{kind: valLiteral, str: "false"}
	case []any:
		uList, _ := unknown.([]any)
		out := val{kind: valList}
		for i, e := range x {
			var u any
			if i < len(uList) {
				u = uList[i]
			}
			out.elems = append(out.elems, jsonVal(e, u))
		}
		return out
	case map[string]any:
		return val{kind: valMap, n: len(x)}
	}
	return val{kind: valRef, str: unknownAfterApply}
}

// bestRef picks the most specific reference Terraform recorded:
// ["aws_iam_user.x.name", "aws_iam_user.x"] gives the first.
func bestRef(refs []string) string {
	if len(refs) == 0 {
		return unknownAfterApply
	}
	return refs[0]
}

var moduleIndex = regexp.MustCompile(`\[[^\]]*\]`)

// references are the expression references of one configured resource.
func (c *planConfig) references(moduleAddr, addr string) map[string][]string {
	if c == nil {
		return nil
	}
	m := &c.RootModule
	if moduleAddr != "" {
		for _, part := range strings.Split(moduleIndex.ReplaceAllString(moduleAddr, ""), ".") {
			if part == "module" || part == "" {
				continue
			}
			call, ok := m.ModuleCalls[part]
			if !ok {
				return nil
			}
			m = &call.Module
		}
	}
	for _, r := range m.Resources {
		if r.Address == addr {
			out := map[string][]string{}
			for k, e := range r.Expressions {
				out[k] = e.References
			}
			return out
		}
	}
	return nil
}
