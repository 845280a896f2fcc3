package synth

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// Options say what account to generate and how to print it.
type Options struct {
	// Users is the number of IAM users.
	Users int
	// Seed selects the account; the same Options give the same bytes.
	Seed int64
	// AccountID is the 12-digit account ID; "" means "123456789012".
	AccountID string
	// Partition is the ARN partition; "" means "aws".
	Partition string
	// URLEncode prints policy documents as RFC 3986 percent-encoded JSON
	// text, as the IAM API and SDKs return them, instead of JSON objects as
	// the AWS CLI prints them.
	URLEncode bool
	// Indent prints with four-space indentation like the AWS CLI's default
	// output; false prints compact JSON without any whitespace.
	Indent bool
}

// Defaults for the zero values of Options.
const (
	DefaultAccountID = "123456789012"
	DefaultPartition = "aws"
)

// ErrInvalidOptions is wrapped by the errors of Options.Validate.
var ErrInvalidOptions = errors.New("invalid synthetic account options")

func (o Options) withDefaults() Options {
	if o.AccountID == "" {
		o.AccountID = DefaultAccountID
	}
	if o.Partition == "" {
		o.Partition = DefaultPartition
	}
	return o
}

// Validate reports whether Write can use the options.
func (o Options) Validate() error {
	o = o.withDefaults()
	if o.Users < 0 {
		return fmt.Errorf("validate options: users %d is negative: %w", o.Users, ErrInvalidOptions)
	}
	if len(o.AccountID) != 12 || !allBytes(o.AccountID, func(c byte) bool { return '0' <= c && c <= '9' }) {
		return fmt.Errorf("validate options: account ID %q is not 12 digits: %w", o.AccountID, ErrInvalidOptions)
	}
	if !allBytes(o.Partition, func(c byte) bool { return 'a' <= c && c <= 'z' || c == '-' }) {
		return fmt.Errorf("validate options: partition %q is not lower-case letters and hyphens: %w", o.Partition, ErrInvalidOptions)
	}
	return nil
}

func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// Write writes one get-account-authorization-details output object: all
// pages merged into UserDetailList, GroupDetailList, RoleDetailList and
// Policies, then "IsTruncated": false, and a newline. Policies holds the
// customer managed policies in use; a real unfiltered output also lists
// the AWS managed policies in use, left out here to keep sizes predictable.
// The AWS CLI's own page merging drops IsTruncated; a single untruncated
// page (an SDK call, --no-paginate) carries it, and readers accept both.
func Write(w io.Writer, o Options) error {
	if err := o.Validate(); err != nil {
		return err
	}
	a := generate(o)
	o = o.withDefaults()
	unit := 0
	if o.Indent {
		unit = 4
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	p := &printer{emitter: newEmitter(bw, unit), urlEncode: o.URLEncode, partition: o.Partition, acct: o.AccountID}
	p.account(a)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write synthetic account: %w", err)
	}
	return nil
}

// Expected returns, sorted, the names of the users that Write prints with
// at least one managed policy attached directly or one inline policy: the
// users an IAM-071 audit of the output must fail. It returns nil for
// options that Write rejects.
func Expected(o Options) []string {
	if o.Validate() != nil {
		return nil
	}
	var names []string
	for _, u := range generate(o).users {
		if u.fails() {
			names = append(names, u.name)
		}
	}
	return names
}
