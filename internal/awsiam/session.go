package awsiam

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
)

// Options say how to reach AWS. Empty fields defer to the standard AWS
// environment variables and shared config files.
type Options struct {
	Profile string
	// Region for the SDK; IAM is global, so it matters only for the
	// partition (cn-north-1 reaches aws-cn). Default us-east-1.
	Region string
	// EndpointURL sends every service (IAM, STS, Organizations) to one
	// endpoint, as a local emulator needs. AWS_ENDPOINT_URL and the
	// per-service AWS_ENDPOINT_URL_<SERVICE> variables work too.
	EndpointURL string
	// RoleARN is assumed (with ExternalID, when set) before anything else.
	RoleARN    string
	ExternalID string
	// MaxAttempts bounds the SDK's attempts per call (default 10: IAM is a
	// low-rate API and throttles readily).
	MaxAttempts int
	// MaxBackoff caps the wait between attempts (default 5s); tests that
	// throttle thousands of calls shorten it.
	MaxBackoff time.Duration
}

// DefaultRegion is used when neither a flag nor the environment sets one.
const DefaultRegion = "us-east-1"

// Session is a configured way to call AWS, with its call counter.
type Session struct {
	Config aws.Config
	Calls  *Calls
}

// NewSession loads the SDK configuration: credentials from the standard
// chain or the profile, then the role to assume, the adaptive retryer, and
// the call counter.
func NewSession(ctx context.Context, o Options) (*Session, error) {
	if o.EndpointURL != "" {
		u, err := url.Parse(o.EndpointURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, &ConfigError{Flag: "--endpoint-url", Msg: fmt.Sprintf("%q is not a URL like https://iam.example.com or http://127.0.0.1:5000", o.EndpointURL)}
		}
	}
	if o.RoleARN != "" {
		if err := checkRoleARN(o.RoleARN); err != nil {
			return nil, err
		}
	}
	if o.ExternalID != "" && o.RoleARN == "" {
		return nil, &ConfigError{Flag: "--external-id", Msg: "needs --role-arn (the external ID is sent when assuming that role)"}
	}
	attempts := o.MaxAttempts
	if attempts == 0 {
		attempts = 10
	}
	maxBackoff := o.MaxBackoff
	if maxBackoff == 0 {
		maxBackoff = 5 * time.Second
	}
	opts := []func(*config.LoadOptions) error{
		// The SDK's own log lines (an IMDS probe on a laptop) would
		// interleave with the report; errors come back as errors.
		config.WithLogger(logging.Nop{}),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewAdaptiveMode(func(ao *retry.AdaptiveModeOptions) {
				ao.StandardOptions = append(ao.StandardOptions, func(so *retry.StandardOptions) {
					so.MaxAttempts = attempts
					// A refused connection or an unknown host will not
					// fix itself within a retry's backoff: say so at once.
					so.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(noRetryDial)}, so.Retryables...)
					so.MaxBackoff = maxBackoff
					so.Backoff = retry.NewExponentialJitterBackoff(maxBackoff)
					// The adaptive client-side rate limit paces a
					// throttled run; a retry quota on top would turn a
					// long throttled audit into failures.
					so.RateLimiter = ratelimit.None
				})
			})
		}),
	}
	if o.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.Profile))
	}
	if o.EndpointURL != "" {
		opts = append(opts, config.WithBaseEndpoint(o.EndpointURL))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		var missing config.SharedConfigProfileNotExistError
		if errors.As(err, &missing) {
			return nil, &ConfigError{Flag: "--profile", Msg: fmt.Sprintf("profile %q is not in the AWS config or credentials files; list them with `aws configure list-profiles`", o.Profile)}
		}
		return nil, &ConfigError{Msg: "load AWS configuration: " + err.Error()}
	}
	switch {
	case o.Region != "":
		cfg.Region = o.Region
	case cfg.Region == "":
		cfg.Region = DefaultRegion
	}
	calls := NewCalls()
	calls.attach(&cfg)
	if o.RoleARN != "" {
		cfg = assumeRole(cfg, o.RoleARN, o.ExternalID)
	}
	return &Session{Config: cfg, Calls: calls}, nil
}

// assumeRole returns a copy of cfg whose credentials come from assuming
// roleARN with cfg's credentials. Calls keep being counted.
func assumeRole(cfg aws.Config, roleARN, externalID string) aws.Config {
	provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), roleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "iamgroups-audit"
		o.Duration = time.Hour
		if externalID != "" {
			o.ExternalID = aws.String(externalID)
		}
	})
	out := cfg.Copy()
	out.Credentials = aws.NewCredentialsCache(provider)
	return out
}

// checkRoleARN rejects what cannot be a role ARN before any call is made.
func checkRoleARN(arn string) error {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || len(parts[4]) != 12 || !strings.HasPrefix(parts[5], "role/") {
		return &ConfigError{Flag: "--role-arn", Msg: fmt.Sprintf("%q is not a role ARN like arn:aws:iam::123456789012:role/Auditor", arn)}
	}
	return nil
}

// noRetryDial stops retries of errors that happen before a connection is
// made; it leaves every other error to the standard rules.
func noRetryDial(err error) aws.Ternary {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return aws.FalseTernary
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return aws.FalseTernary
	}
	return aws.UnknownTernary
}
