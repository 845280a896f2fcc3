package snapshot

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/iamgroups/iamgroups/internal/jsonscan"
	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/policydoc"
)

// page is one GetAccountAuthorizationDetails response.
type page struct {
	users    []*model.User
	groups   []model.Group
	policies []model.ManagedPolicy
	hasGAAD  bool // at least one GAAD member was present
	hasUsers bool // the UserDetailList member was present
	// hasGroups and hasPolicies: the GroupDetailList and Policies members
	// were present (the output was not filtered to users).
	hasGroups, hasPolicies bool
	truncated              bool
	marker                 string
}

// decoder turns GAAD JSON into model values. It is not safe for concurrent
// use; parallel decoding gives each goroutine its own.
type decoder struct {
	d    *jsonscan.Decoder
	full bool // decode groups and policies too (planning), not only users
	// docs memoises parsed documents by their raw text: real accounts copy
	// the same inline policy to many users.
	docs map[string]policydoc.Document
	// spec holds users decoded ahead in parallel; nil when sequential.
	spec *speculator
	// arena holds copies of the strings kept (see keep); interned maps
	// each repeated value to its copy.
	arena    []byte
	interned map[string]string
}

func newDecoder(data []byte, full bool) *decoder {
	return &decoder{d: jsonscan.NewDecoder(data), full: full,
		docs: map[string]policydoc.Document{}, interned: map[string]string{}}
}

// str reads a string member that repeats across entities (paths, group
// and policy names and ARNs, tags): one copy of each value is kept.
func (x *decoder) str() (string, error) {
	s, err := x.raw()
	if err != nil || s == "" {
		return "", err
	}
	if v, ok := x.interned[s]; ok {
		return v, nil
	}
	v := x.keep(s)
	x.interned[v] = v
	return v, nil
}

// unique reads a string member that is unique to its entity (names, ARNs,
// IDs, dates): it is copied without interning.
func (x *decoder) unique() (string, error) {
	s, err := x.raw()
	if err != nil || s == "" {
		return "", err
	}
	return x.keep(s), nil
}

// raw reads a string (null reads as empty) that may share memory with the
// input.
func (x *decoder) raw() (string, error) {
	if x.d.Peek() != jsonscan.String {
		if x.d.Peek() == jsonscan.Null {
			return "", x.d.ReadNull()
		}
		return "", wantError(x.d, "a string")
	}
	return x.d.ReadString()
}

// arenaSize is the size of the blocks decoded strings are copied into.
const arenaSize = 64 << 10

// keep copies s out of the input into the decoder's string arena, so that
// the decoded accounts do not hold on to the input: a large snapshot can
// be freed as soon as it is decoded. Copying into blocks costs one
// allocation per block, not one per string.
func (x *decoder) keep(s string) string {
	if !utf8.ValidString(s) {
		// JSON text is UTF-8; replace what is not, as encoding/json does,
		// so that a snapshot written back reads the same.
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) > arenaSize/4 {
		return strings.Clone(s)
	}
	if len(x.arena)+len(s) > cap(x.arena) {
		x.arena = make([]byte, 0, arenaSize)
	}
	start := len(x.arena)
	x.arena = append(x.arena, s...)
	return unsafe.String(&x.arena[start], len(s))
}

// list reads an array, or a single element where an array belongs: real
// outputs contain both (the AWS CLI documentation shows a group's
// AttachedManagedPolicies as one object).
func (x *decoder) list(elem func(i int) error) error {
	switch x.d.Peek() {
	case jsonscan.Array:
		i := 0
		return x.d.Array(func() error {
			err := elem(i)
			if err != nil {
				err = index(err, i)
			}
			i++
			return err
		})
	case jsonscan.Null:
		return x.d.ReadNull()
	case jsonscan.Object, jsonscan.String:
		return elem(0)
	}
	return wantError(x.d, "an array")
}

func (x *decoder) object(member func(key string) error) error {
	if x.d.Peek() != jsonscan.Object {
		return wantError(x.d, "an object")
	}
	return x.d.Object(func(key string) error {
		if err := member(key); err != nil {
			return at(err, "."+key)
		}
		return nil
	})
}

// page decodes one GAAD response object.
func (x *decoder) page(p *page) error {
	return x.object(func(key string) error { return x.pageMember(p, key) })
}

// pageMember decodes one member of a GAAD response object.
func (x *decoder) pageMember(p *page, key string) error {
	switch key {
	case "UserDetailList":
		p.hasGAAD, p.hasUsers = true, true
		return x.userList(p)
	case "GroupDetailList":
		p.hasGAAD, p.hasGroups = true, true
		if !x.full {
			return x.d.Skip()
		}
		return x.list(func(int) error {
			p.groups = append(p.groups, model.Group{})
			return x.group(&p.groups[len(p.groups)-1])
		})
	case "Policies":
		p.hasGAAD, p.hasPolicies = true, true
		if !x.full {
			return x.d.Skip()
		}
		return x.list(func(int) error {
			p.policies = append(p.policies, model.ManagedPolicy{})
			return x.policy(&p.policies[len(p.policies)-1])
		})
	case "RoleDetailList":
		p.hasGAAD = true
		return x.d.Skip()
	case "IsTruncated":
		if x.d.Peek() != jsonscan.Bool {
			return wantError(x.d, "true or false")
		}
		v, err := x.d.ReadBool()
		p.truncated = v
		return err
	case "Marker":
		v, err := x.str()
		p.marker = v
		return err
	}
	return x.d.Skip()
}

// userList decodes a UserDetailList, adopting the runs of users other
// goroutines decoded ahead (see parallel.go).
func (x *decoder) userList(p *page) error {
	var users userBlocks
	defer func() { p.users = users.appendTo(p.users) }()
	if x.d.Peek() != jsonscan.Array {
		return x.list(func(int) error { return x.user(users.next()) })
	}
	x.d.Consume('[')
	if x.d.Consume(']') {
		return nil
	}
	for {
		x.d.Peek()
		if chain := x.spec.adopt(x.d.Pos()); chain != nil {
			for _, c := range chain {
				users.adopt(&c.users)
				x.d.Seek(c.end)
			}
			if chain[len(chain)-1].handoff {
				// The chunk after it met an error and was left to this
				// pass: carry on from the start of its first element.
				continue
			}
		} else if err := x.user(users.next()); err != nil {
			return index(err, users.n-1)
		}
		switch {
		case x.d.Consume(','):
		case x.d.Consume(']'):
			return nil
		default:
			return index(x.d.Unexpected("',' or ']'"), users.n-1)
		}
	}
}

// blockSize is the number of users per block of a userBlocks.
const blockSize = 1024

// userBlocks collects decoded users in fixed-size blocks, so that a long
// list is never copied as it grows (a model.User is a large value), runs
// decoded by other goroutines join without a copy, and users are not
// allocated one by one.
type userBlocks struct {
	blocks [][]model.User
	n      int
}

// next returns a new zero user at the end of the list.
func (b *userBlocks) next() *model.User {
	if len(b.blocks) == 0 || len(b.blocks[len(b.blocks)-1]) == blockSize {
		b.blocks = append(b.blocks, make([]model.User, 0, blockSize))
	}
	last := &b.blocks[len(b.blocks)-1]
	*last = append(*last, model.User{})
	b.n++
	return &(*last)[len(*last)-1]
}

// adopt moves the users of o to the end of b.
func (b *userBlocks) adopt(o *userBlocks) {
	for _, blk := range o.blocks {
		// A partly filled block is full as far as b is concerned.
		b.blocks = append(b.blocks, blk[:len(blk):len(blk)])
	}
	b.n += o.n
	*o = userBlocks{}
}

// appendTo appends pointers to the users to dst; the blocks stay their
// storage.
func (b *userBlocks) appendTo(dst []*model.User) []*model.User {
	if b.n == 0 {
		return dst
	}
	dst = slices.Grow(dst, b.n)
	for _, blk := range b.blocks {
		for i := range blk {
			dst = append(dst, &blk[i])
		}
	}
	return dst
}

func (x *decoder) user(u *model.User) error {
	err := x.object(func(key string) error {
		var err error
		switch key {
		case "UserName":
			u.Name, err = x.unique()
		case "Arn":
			u.ARN, err = x.unique()
		// An audit reports none of these; a snapshot written back and a
		// plan keep them.
		case "UserId":
			if !x.full {
				return x.d.Skip()
			}
			u.ID, err = x.unique()
		case "Path":
			if !x.full {
				return x.d.Skip()
			}
			u.Path, err = x.str()
		case "CreateDate":
			if !x.full {
				return x.d.Skip()
			}
			u.CreateDate, err = x.unique()
		case "GroupList":
			err = x.list(func(int) error {
				g, err := x.str()
				u.Groups = append(u.Groups, g)
				return err
			})
		case "AttachedManagedPolicies":
			u.AttachedPolicies, err = x.attached(u.AttachedPolicies)
		case "UserPolicyList":
			u.InlinePolicies, err = x.inline(u.InlinePolicies)
		case "PermissionsBoundary":
			err = x.object(func(key string) error {
				if key == "PermissionsBoundaryArn" {
					var err error
					u.PermissionsBoundary, err = x.str()
					return err
				}
				return x.d.Skip()
			})
		case "EvaluationError":
			// Not a GAAD member: iamgroups snapshots record here why a
			// user could not be read completely.
			u.Error, err = x.str()
		case "Tags":
			err = x.list(func(int) error {
				var t model.Tag
				err := x.object(func(key string) error {
					var err error
					switch key {
					case "Key":
						t.Key, err = x.str()
					case "Value":
						t.Value, err = x.str()
					default:
						err = x.d.Skip()
					}
					return err
				})
				u.Tags = append(u.Tags, t)
				return err
			})
		default:
			err = x.d.Skip()
		}
		return err
	})
	if err != nil {
		return err
	}
	switch {
	case u.Name == "":
		return &pathError{offset: x.d.Pos(), msg: "user has no UserName"}
	case u.ARN == "":
		return &pathError{offset: x.d.Pos(), msg: fmt.Sprintf("user %q has no Arn", u.Name)}
	}
	return nil
}

func (x *decoder) attached(out []model.AttachedPolicy) ([]model.AttachedPolicy, error) {
	err := x.list(func(int) error {
		var p model.AttachedPolicy
		err := x.object(func(key string) error {
			var err error
			switch key {
			case "PolicyName":
				p.Name, err = x.str()
			case "PolicyArn":
				p.ARN, err = x.str()
			default:
				err = x.d.Skip()
			}
			return err
		})
		if err == nil && p.ARN == "" {
			err = &pathError{offset: x.d.Pos(), msg: "attached policy has no PolicyArn"}
		}
		if p.Name == "" {
			p.Name = p.ARN[strings.LastIndexByte(p.ARN, '/')+1:]
		}
		out = append(out, p)
		return err
	})
	return out, err
}

func (x *decoder) inline(out []model.InlinePolicy) ([]model.InlinePolicy, error) {
	err := x.list(func(int) error {
		var p model.InlinePolicy
		seen := false
		err := x.object(func(key string) error {
			var err error
			switch key {
			case "PolicyName":
				p.Name, err = x.str()
			case "PolicyDocument":
				seen = true
				err = x.document(&p)
			default:
				err = x.d.Skip()
			}
			return err
		})
		if err == nil && !seen {
			err = &pathError{offset: x.d.Pos(), msg: fmt.Sprintf("inline policy %q has no PolicyDocument", p.Name)}
		}
		out = append(out, p)
		return err
	})
	return out, err
}

// document reads a policy document (an object, or a string holding the
// possibly URL-encoded JSON) and fills in its digest.
func (x *decoder) document(p *model.InlinePolicy) error {
	start := x.d.Pos()
	raw, err := x.d.Raw()
	if err != nil {
		return err
	}
	// The input is never modified, so the raw text can key the memo
	// without a copy.
	key := unsafe.String(unsafe.SliceData(raw), len(raw))
	doc, ok := x.docs[key]
	if !ok {
		doc, err = policydoc.Parse(raw)
		if err != nil {
			return &pathError{offset: start, msg: err.Error()}
		}
		x.docs[key] = doc
	}
	p.Digest, p.Canonical, p.Size = doc.Digest, doc.Canonical, doc.Size
	return nil
}

func (x *decoder) group(g *model.Group) error {
	return x.object(func(key string) error {
		var err error
		switch key {
		case "GroupName":
			g.Name, err = x.str()
		case "GroupId":
			g.ID, err = x.str()
		case "Arn":
			g.ARN, err = x.str()
		case "Path":
			g.Path, err = x.str()
		case "AttachedManagedPolicies":
			g.AttachedPolicies, err = x.attached(g.AttachedPolicies)
		case "GroupPolicyList":
			g.InlinePolicies, err = x.inline(g.InlinePolicies)
		default:
			err = x.d.Skip()
		}
		return err
	})
}

func (x *decoder) policy(p *model.ManagedPolicy) error {
	defer func() {
		if p.Name == "" { // some emulators omit it; the ARN ends with it
			p.Name = p.ARN[strings.LastIndexByte(p.ARN, '/')+1:]
		}
	}()
	return x.object(func(key string) error {
		var err error
		switch key {
		case "PolicyName":
			p.Name, err = x.str()
		case "Arn":
			p.ARN, err = x.str()
		case "Path":
			p.Path, err = x.str()
		case "DefaultVersionId":
			p.DefaultVersionID, err = x.str()
		case "AttachmentCount":
			if x.d.Peek() != jsonscan.Number {
				return wantError(x.d, "a number")
			}
			var n string
			n, err = x.d.ReadNumber()
			if err == nil {
				_, err = fmt.Sscan(n, &p.AttachmentCount)
			}
		case "PolicyVersionList":
			err = x.list(func(int) error {
				var v model.InlinePolicy
				isDefault := false
				err := x.object(func(key string) error {
					switch key {
					case "Document":
						return x.document(&v)
					case "IsDefaultVersion":
						if x.d.Peek() != jsonscan.Bool {
							return wantError(x.d, "true or false")
						}
						var err error
						isDefault, err = x.d.ReadBool()
						return err
					}
					return x.d.Skip()
				})
				if isDefault && v.Digest != "" {
					p.Document, p.Digest = v.Canonical, v.Digest
				}
				return err
			})
		default:
			err = x.d.Skip()
		}
		return err
	})
}
