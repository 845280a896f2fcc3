// Package snapshot reads and writes offline copies of IAM data.
//
// It reads `aws iam get-account-authorization-details` output the way
// people really have it — one page, a JSON array of pages, pages
// concatenated in one file, gzip-compressed files, documents decoded (CLI)
// or URL-encoded (API, SDKs) — and its own format: the same GAAD body under
// a small metadata header (account, partition, capture time, method, tool
// version). Every input becomes model.Account values.
//
// Large snapshots (an Organization's worth of users) are decoded with the
// project's validating pull decoder (jsonscan), several goroutines working
// on different parts of the user list at once.
//
// It imports model, policydoc and jsonscan; never the AWS SDK.
package snapshot

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/iamgroups/iamgroups/internal/jsonscan"
	"github.com/iamgroups/iamgroups/internal/model"
)

// Schema identifies the project's own snapshot format.
const Schema = "iamgroups.snapshot/v1"

// schemaPrefix is shared by every version of the format.
const schemaPrefix = "iamgroups.snapshot/"

// Metadata is the header of the project's own snapshot format.
type Metadata struct {
	AccountID   string    `json:"account_id"`
	Partition   string    `json:"partition"`
	CapturedAt  time.Time `json:"captured_at"`
	Method      string    `json:"method"`
	ToolVersion string    `json:"tool_version"`
}

// Options controls reading.
type Options struct {
	// Full decodes groups and managed policies too, as planning needs;
	// an audit needs only users.
	Full bool
	// Kind names the source kind recorded on the accounts ("snapshot" if
	// empty).
	Kind string
}

// ReadFile reads a snapshot file (optionally gzip-compressed).
func ReadFile(path string, opts Options) ([]*model.Account, error) {
	data, mapped, release, err := readInput(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &InputError{File: path, Msg: fmt.Sprintf("cannot read snapshot: %v", err)}
	}
	// Decoding keeps nothing that points into data, so it can go at once.
	defer release()
	return decodeInput(data, path, opts, mapped)
}

// maxRatio bounds how many times its size a compressed snapshot may
// expand to (GAAD output compresses about 10 to 20 times); minDecompressed
// keeps small files from a limit that is too tight.
const (
	maxRatio        = 100
	minDecompressed = 64 << 20
)

// Decode reads a snapshot held in memory; name is used in messages. The
// returned accounts do not refer to data, which the caller may reuse or
// drop once Decode returns.
func Decode(data []byte, name string, opts Options) ([]*model.Account, error) {
	return decodeInput(data, name, opts, false)
}

// decodeInput decodes data; mapped says that data is a file mapping,
// whose pages can vanish if the file is truncated meanwhile.
func decodeInput(data []byte, name string, opts Options, mapped bool) (_ []*model.Account, err error) {
	defer func() {
		if errors.Is(err, errFileChanged) {
			err = &InputError{File: name, Msg: errFileChanged.Error()}
		}
	}()
	defer guardFaults(mapped, &err)()
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, &InputError{File: name, Msg: fmt.Sprintf("not a valid gzip file: %v", err)}
		}
		limit := max(int64(minDecompressed), int64(len(data))*maxRatio)
		plain, err := io.ReadAll(io.LimitReader(zr, limit+1))
		if err != nil {
			return nil, &InputError{File: name, Msg: fmt.Sprintf("cannot decompress: %v", err)}
		}
		if int64(len(plain)) > limit {
			return nil, &InputError{File: name, Msg: fmt.Sprintf(
				"decompresses to more than %d MiB (%d times its size): refusing what looks like a compression bomb; decompress it yourself if it is genuine", limit>>20, maxRatio)}
		}
		data = plain
	}
	accounts, err := decode(data, name, opts, mapped)
	if err != nil {
		return nil, inputError(name, data, err)
	}
	return accounts, nil
}

func decode(data []byte, name string, opts Options, mapped bool) ([]*model.Account, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &InputError{File: name, Msg: "file is empty; expected the JSON output of `aws iam get-account-authorization-details` or an iamgroups snapshot"}
	}
	x := newDecoder(data, opts.Full)
	x.spec = speculate(data, opts.Full, mapped)
	defer x.spec.wait()
	var pages []page
	var meta *Metadata
	own := false
	for n := 0; !x.d.AtEOF(); n++ {
		switch x.d.Peek() {
		case jsonscan.Array:
			i := 0
			err := x.d.Array(func() error {
				var p page
				if err := x.page(&p); err != nil {
					return index(err, i)
				}
				if !p.hasGAAD {
					return notGAAD(x.d.Pos(), fmt.Sprintf("element %d of the array", i))
				}
				pages = append(pages, p)
				i++
				return nil
			})
			if err != nil {
				return nil, err
			}
		case jsonscan.Object:
			start := x.d.Pos()
			var p page
			m, isOwn, err := x.top(&p)
			if err != nil {
				return nil, err
			}
			if isOwn {
				if n > 0 || !x.d.AtEOF() {
					return nil, &pathError{offset: start, msg: "an iamgroups snapshot must be the only value in its file"}
				}
				own, meta = true, m
			} else if !p.hasGAAD {
				return nil, notGAAD(start, "the object")
			}
			pages = append(pages, p)
		default:
			start := x.d.Pos()
			if _, err := x.d.Raw(); err != nil {
				return nil, err
			}
			what := "the file"
			if n > 0 {
				what = fmt.Sprintf("value %d of the file", n+1)
			}
			return nil, notGAAD(start, what)
		}
	}
	if len(pages) == 0 {
		return nil, notGAAD(0, "the file (an empty array)")
	}
	kind := opts.Kind
	if kind == "" {
		kind = "snapshot"
	}
	src := model.Source{Kind: kind, Name: name, Method: "gaad"}
	if own && meta != nil {
		src.Method, src.CapturedAt, src.ToolVersion = meta.Method, meta.CapturedAt, meta.ToolVersion
	}
	return assemble(pages, meta, src)
}

func notGAAD(offset int, what string) error {
	return &pathError{offset: offset, msg: what + " is not a get-account-authorization-details output " +
		"(no UserDetailList, GroupDetailList, RoleDetailList or Policies member); " +
		"create one with `aws iam get-account-authorization-details > FILE` or `iamgroups snapshot`"}
}

// top decodes a top-level object: a GAAD page, or the project's format
// whose body may itself be one page or an array of pages (merged into p).
func (x *decoder) top(p *page) (*Metadata, bool, error) {
	var meta *Metadata
	schema := ""
	hasBody := false
	err := x.object(func(key string) error {
		switch key {
		case "schema":
			s, err := x.str()
			schema = s
			return err
		case "metadata":
			meta = &Metadata{}
			return x.metadata(meta)
		case "authorization_details":
			hasBody = true
			if x.d.Peek() == jsonscan.Array {
				return x.list(func(int) error {
					var q page
					if err := x.page(&q); err != nil {
						return err
					}
					mergePage(p, &q)
					return nil
				})
			}
			return x.page(p)
		case "UserDetailList", "GroupDetailList", "RoleDetailList", "Policies", "IsTruncated", "Marker":
			// A GAAD page: decode this member and the rest as one.
			return x.pageMember(p, key)
		}
		return x.d.Skip()
	})
	if err != nil {
		return nil, false, err
	}
	if schema == "" {
		return nil, false, nil
	}
	if !strings.HasPrefix(schema, schemaPrefix) {
		return nil, false, &pathError{msg: fmt.Sprintf("schema %q is not an iamgroups snapshot", schema)}
	}
	if schema != Schema {
		return nil, false, &pathError{msg: fmt.Sprintf("snapshot schema %q is not supported; this version reads %q", schema, Schema)}
	}
	if !hasBody {
		return nil, false, &pathError{msg: "snapshot has no authorization_details member"}
	}
	p.hasGAAD = true
	return meta, true, nil
}

// mergePage appends q to p; q continues p (a later page of the same
// listing), so p takes q's truncation state.
func mergePage(p, q *page) {
	p.users = append(p.users, q.users...)
	p.groups = append(p.groups, q.groups...)
	p.policies = append(p.policies, q.policies...)
	p.hasGAAD = p.hasGAAD || q.hasGAAD
	p.hasUsers = p.hasUsers || q.hasUsers
	p.hasGroups = p.hasGroups || q.hasGroups
	p.hasPolicies = p.hasPolicies || q.hasPolicies
	p.truncated, p.marker = q.truncated, q.marker
}

func (x *decoder) metadata(m *Metadata) error {
	return x.object(func(key string) error {
		var err error
		switch key {
		case "account_id":
			m.AccountID, err = x.str()
		case "partition":
			m.Partition, err = x.str()
		case "method":
			m.Method, err = x.str()
		case "tool_version":
			m.ToolVersion, err = x.str()
		case "captured_at":
			var s string
			if s, err = x.str(); err == nil && s != "" {
				m.CapturedAt, err = time.Parse(time.RFC3339, s)
				if err != nil {
					err = &pathError{offset: x.d.Pos(), msg: fmt.Sprintf("%q is not an RFC 3339 time", s)}
				}
			}
		default:
			err = x.d.Skip()
		}
		return err
	})
}
