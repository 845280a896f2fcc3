package apply

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/iamgroups/iamgroups/internal/shellword"
)

// The calls a run makes: the plan's own operations (plan.Op*), and the ones
// rollback adds to undo them.
const (
	OpCreatePolicy      = "create-policy"
	OpCreateGroup       = "create-group"
	OpAttachGroupPolicy = "attach-group-policy"
	OpAddUserToGroup    = "add-user-to-group"
	OpDetachUserPolicy  = "detach-user-policy"
	OpDeleteUserPolicy  = "delete-user-policy"

	OpAttachUserPolicy    = "attach-user-policy"
	OpPutUserPolicy       = "put-user-policy"
	OpRemoveUserFromGroup = "remove-user-from-group"
	OpDetachGroupPolicy   = "detach-group-policy"
	OpDeleteGroup         = "delete-group"
	OpDeletePolicy        = "delete-policy"
)

// Call is one IAM write. Only the fields its Op needs are set.
type Call struct {
	Op    string `json:"op"`
	User  string `json:"user,omitempty"`
	Group string `json:"group,omitempty"`
	// Path of a policy or group to create.
	Path string `json:"path,omitempty"`
	// PolicyARN of a managed policy; PolicyName of an inline policy or of
	// a managed policy to create.
	PolicyARN   string `json:"policy_arn,omitempty"`
	PolicyName  string `json:"policy_name,omitempty"`
	Description string `json:"description,omitempty"`
	// Document of a policy to create or an inline policy to put.
	Document string `json:"document,omitempty"`
}

// String renders the call as an aws CLI command, every value quoted, for
// dry runs and messages. Documents are elided.
func (c Call) String() string {
	var b strings.Builder
	b.WriteString("aws iam " + c.Op)
	arg := func(flag, v string) {
		if v != "" {
			b.WriteString(" --" + flag + " " + shellword.Quote(v))
		}
	}
	switch c.Op {
	case OpCreatePolicy:
		arg("policy-name", c.PolicyName)
		arg("path", c.Path)
		arg("description", c.Description)
		if c.Document != "" {
			b.WriteString(" --policy-document '<" + fmt.Sprint(len(c.Document)) + " bytes>'")
		}
		return b.String()
	case OpCreateGroup:
		arg("group-name", c.Group)
		arg("path", c.Path)
		return b.String()
	case OpPutUserPolicy:
		arg("user-name", c.User)
		arg("policy-name", c.PolicyName)
		b.WriteString(" --policy-document '<" + fmt.Sprint(len(c.Document)) + " bytes>'")
		return b.String()
	}
	arg("user-name", c.User)
	arg("group-name", c.Group)
	arg("policy-arn", c.PolicyARN)
	arg("policy-name", c.PolicyName)
	return b.String()
}

// Writer makes IAM writes. internal/awsiam implements it against the real
// API; the wrappers below add dry-run, rate limiting and logging.
//
// Errors keep the service's error code reachable through errors.As with
// an interface{ ErrorCode() string }, as the AWS SDK's API errors do:
// apply accepts "EntityAlreadyExists" and "NoSuchEntity" answers where the
// call's effect is already in place.
type Writer interface {
	Do(ctx context.Context, c Call) error
}

// WriterFunc adapts a function to Writer.
type WriterFunc func(ctx context.Context, c Call) error

// Do calls f.
func (f WriterFunc) Do(ctx context.Context, c Call) error { return f(ctx, c) }

// DryRun returns a Writer that prints every call to out and makes none.
func DryRun(out io.Writer) Writer {
	var mu sync.Mutex
	return WriterFunc(func(ctx context.Context, c Call) error {
		mu.Lock()
		defer mu.Unlock()
		_, err := fmt.Fprintln(out, c.String())
		return err
	})
}

// RateLimit returns a Writer that makes at most perSecond calls a second
// through w (no limit when perSecond <= 0). IAM is a low-rate global API:
// pacing writes keeps a large run from spending its time in throttling
// retries.
func RateLimit(w Writer, perSecond float64) Writer {
	if perSecond <= 0 {
		return w
	}
	lim := rate.NewLimiter(rate.Limit(perSecond), 1)
	return WriterFunc(func(ctx context.Context, c Call) error {
		if err := lim.Wait(ctx); err != nil {
			return fmt.Errorf("%s: %w", c.Op, err)
		}
		return w.Do(ctx, c)
	})
}

// Logged returns a Writer that prints each call through w, with its outcome
// and duration, to out.
func Logged(w Writer, out io.Writer) Writer {
	var mu sync.Mutex
	return WriterFunc(func(ctx context.Context, c Call) error {
		start := time.Now()
		err := w.Do(ctx, c)
		d := time.Since(start).Round(time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		switch code := errorCode(err); {
		case err == nil:
			fmt.Fprintf(out, "  ok      %s (%s)\n", c.String(), d)
		case code == codeExists:
			fmt.Fprintf(out, "  exists  %s (%s)\n", c.String(), d)
		case code == codeNoSuchEntity:
			fmt.Fprintf(out, "  absent  %s (%s)\n", c.String(), d)
		default:
			fmt.Fprintf(out, "  FAILED  %s (%s): %v\n", c.String(), d, err)
		}
		return err
	})
}

// The service error codes apply interprets.
const (
	codeExists       = "EntityAlreadyExists"
	codeNoSuchEntity = "NoSuchEntity"
)

// errorCode returns the service error code of err, or "".
func errorCode(err error) string {
	var coded interface{ ErrorCode() string }
	if errors.As(err, &coded) {
		return coded.ErrorCode()
	}
	return ""
}
