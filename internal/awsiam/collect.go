package awsiam

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/policydoc"
)

// Method is how users are collected.
type Method string

// The collection methods.
const (
	// MethodAuto uses GAAD and falls back to the per-user listing when
	// GAAD is denied.
	MethodAuto Method = "auto"
	// MethodGAAD uses GetAccountAuthorizationDetails only.
	MethodGAAD Method = "gaad"
	// MethodList uses the per-user listing calls only.
	MethodList Method = "list"
)

// ParseMethod validates a --method value.
func ParseMethod(s string) (Method, error) {
	switch m := Method(s); m {
	case MethodAuto, MethodGAAD, MethodList:
		return m, nil
	}
	return "", &ConfigError{Flag: "--method", Msg: fmt.Sprintf("%q is not a method; use auto, gaad or list", s)}
}

// CollectOptions say what to collect and how.
type CollectOptions struct {
	Method Method
	// Full collects groups and customer managed policies too, as planning
	// and snapshots need; an audit needs only users.
	Full bool
	// Concurrency bounds the users listed at once by the list method
	// (default 4).
	Concurrency int
	// now is the capture time recorded on the account; tests set it.
	now func() time.Time
}

// identityAPI is the STS call that names the account.
type identityAPI interface {
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// Collect reads one account's IAM users (and, with Full, groups and
// customer managed policies) through the session's credentials.
func Collect(ctx context.Context, s *Session, o CollectOptions) (*model.Account, error) {
	id, partition, err := identify(ctx, sts.NewFromConfig(s.Config))
	if err != nil {
		return nil, err
	}
	a, err := collectAccount(ctx, iam.NewFromConfig(s.Config), id, partition, o)
	if err != nil && !fatal(ctx, err) {
		// The account was reached but not read (a page that failed
		// after every retry): its users are unevaluated, ERROR, not a
		// usage error.
		return &model.Account{ID: id, Partition: partition, Source: model.Source{Kind: "live", Name: id},
			Error: err.Error()}, nil
	}
	return a, err
}

// fatal reports errors that stop a run rather than mark an account
// unreadable: what the user must fix, refusals, and cancellation.
func fatal(ctx context.Context, err error) bool {
	var ce *ConfigError
	return errors.As(err, &ce) || IsAccessDenied(err) || ctx.Err() != nil
}

// identify returns the account ID and partition of the credentials.
func identify(ctx context.Context, api identityAPI) (account, partition string, err error) {
	out, err := api.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", "", Explain("identify the account (sts:GetCallerIdentity)", err)
	}
	arn := aws.ToString(out.Arn)
	partition = "aws"
	if p, ok := arnField(arn, 1); ok {
		partition = p
	}
	return aws.ToString(out.Account), partition, nil
}

// iamAPI is every IAM call collection makes.
type iamAPI interface {
	gaadAPI
	listAPI
}

func collectAccount(ctx context.Context, api iamAPI, id, partition string, o CollectOptions) (*model.Account, error) {
	now := time.Now
	if o.now != nil {
		now = o.now
	}
	a := &model.Account{ID: id, Partition: partition,
		Source: model.Source{Kind: "live", Name: id, CapturedAt: now().UTC().Truncate(time.Second)}}
	method := o.Method
	if method == "" {
		method = MethodAuto
	}
	var err error
	if method != MethodList {
		err = collectGAAD(ctx, api, a, o.Full)
		switch {
		case err == nil:
			a.Source.Method = string(MethodGAAD)
			a.GroupsKnown = o.Full
			normalize(a)
			return a, nil
		case method == MethodAuto && IsAccessDenied(err):
			a.Warnings = append(a.Warnings, fmt.Sprintf(
				"account %s: GetAccountAuthorizationDetails was denied, so users were listed one by one (list method); "+
					"allow iam:GetAccountAuthorizationDetails for an audit in a few calls", id))
			*a = model.Account{ID: a.ID, Partition: a.Partition, Source: a.Source, Warnings: a.Warnings}
		default:
			return nil, Explain(fmt.Sprintf("account %s: get account authorization details", id), err)
		}
	}
	if err := collectList(ctx, api, a, o); err != nil {
		return nil, Explain(fmt.Sprintf("account %s: list users", id), err)
	}
	if o.Full {
		// The per-user method serves audits; planning needs the groups
		// and policies that GAAD returns in bulk.
		a.Warnings = append(a.Warnings, fmt.Sprintf("account %s: the list method does not collect groups and customer managed policies", id))
	}
	a.Source.Method = string(MethodList)
	normalize(a)
	return a, nil
}

// normalize puts users, and each user's groups and policies, in a fixed
// order, so that both methods (which list in different orders) give the
// same account.
func normalize(a *model.Account) {
	slices.SortFunc(a.Users, func(x, y *model.User) int {
		return cmp.Or(strings.Compare(x.Name, y.Name), strings.Compare(x.ARN, y.ARN))
	})
	for _, u := range a.Users {
		slices.Sort(u.Groups)
		slices.SortFunc(u.AttachedPolicies, func(x, y model.AttachedPolicy) int { return strings.Compare(x.ARN, y.ARN) })
		slices.SortFunc(u.InlinePolicies, func(x, y model.InlinePolicy) int { return strings.Compare(x.Name, y.Name) })
	}
	slices.SortFunc(a.Groups, func(x, y model.Group) int { return strings.Compare(x.Name, y.Name) })
	slices.SortFunc(a.Policies, func(x, y model.ManagedPolicy) int { return strings.Compare(x.ARN, y.ARN) })
}

// docCache parses each distinct policy document once.
type docCache map[string]cachedDoc

type cachedDoc struct {
	policydoc.Document
	// text is the document as IAM holds it, URL-decoded: what apply
	// backs up and rollback puts back.
	text string
}

func (c docCache) inline(name string, doc *string) (model.InlinePolicy, error) {
	raw := aws.ToString(doc)
	d, ok := c[raw]
	if !ok {
		parsed, err := policydoc.ParseString(raw)
		if err != nil {
			return model.InlinePolicy{}, fmt.Errorf("policy %q: %w", name, err)
		}
		text := raw
		if strings.HasPrefix(raw, "%") {
			// ParseString has just decoded it without error.
			text, _ = url.PathUnescape(raw)
		}
		d = cachedDoc{parsed, text}
		c[raw] = d
	}
	return model.InlinePolicy{Name: name, Digest: d.Digest, Canonical: d.Canonical, Size: d.Size, Document: d.text}, nil
}

func attached(ps []types.AttachedPolicy) []model.AttachedPolicy {
	if len(ps) == 0 {
		return nil
	}
	out := make([]model.AttachedPolicy, 0, len(ps))
	for _, p := range ps {
		out = append(out, model.AttachedPolicy{Name: aws.ToString(p.PolicyName), ARN: aws.ToString(p.PolicyArn)})
	}
	return out
}

func tags(ts []types.Tag) []model.Tag {
	if len(ts) == 0 {
		return nil
	}
	out := make([]model.Tag, 0, len(ts))
	for _, t := range ts {
		out = append(out, model.Tag{Key: aws.ToString(t.Key), Value: aws.ToString(t.Value)})
	}
	return out
}

func date(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// arnField returns field i of an ARN (1 is the partition, 4 the account).
func arnField(arn string, i int) (string, bool) {
	start := 0
	for field := 0; ; field++ {
		end := start
		for end < len(arn) && arn[end] != ':' {
			end++
		}
		if field == i {
			return arn[start:end], end > start
		}
		if end >= len(arn) {
			return "", false
		}
		start = end + 1
	}
}

var errNoMarker = errors.New("a page says IsTruncated but gives no Marker")
