package awsiam

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/aws/smithy-go"
)

// ConfigError is a problem with how AWS is reached — a flag, the
// credentials, the endpoint — that the user must fix; the CLI maps it to
// exit 2. Flag names the flag at fault, when one is.
type ConfigError struct {
	Flag string
	Msg  string
}

func (e *ConfigError) Error() string {
	if e.Flag != "" {
		return e.Flag + ": " + e.Msg
	}
	return e.Msg
}

// errorCode returns the AWS error code of err, or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// IsAccessDenied reports whether err is an authorization refusal.
func IsAccessDenied(err error) bool {
	switch errorCode(err) {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess":
		return true
	}
	return false
}

// credentialCodes are the errors that mean the credentials themselves are
// wrong or stale, whatever the call.
var credentialCodes = map[string]string{
	"ExpiredToken":                "the credentials have expired; refresh them (for example `aws sso login`, or new temporary keys) and run again",
	"ExpiredTokenException":       "the credentials have expired; refresh them (for example `aws sso login`, or new temporary keys) and run again",
	"RequestExpired":              "the request expired: check this machine's clock, then the credentials",
	"InvalidClientTokenId":        "the access key is not valid for this partition or has been deleted; check AWS_ACCESS_KEY_ID or the profile",
	"UnrecognizedClientException": "the access key is not recognised; check AWS_ACCESS_KEY_ID or the profile",
	"SignatureDoesNotMatch":       "the secret access key does not match the access key; check AWS_SECRET_ACCESS_KEY or the profile",
	"InvalidAccessKeyId":          "the access key does not exist; check AWS_ACCESS_KEY_ID or the profile",
}

// Explain turns errors that the user must fix (credentials, endpoint,
// role) into a *ConfigError with a message saying what to do; other errors
// are returned unchanged. op names what was being done.
func Explain(op string, err error) error {
	if err == nil {
		return nil
	}
	var ce *ConfigError
	if errors.As(err, &ce) {
		return err
	}
	if msg, ok := credentialCodes[errorCode(err)]; ok {
		return &ConfigError{Msg: op + ": " + msg}
	}
	// The SDK reports credential failures as wrapped text, not a type.
	if strings.Contains(err.Error(), "failed to retrieve credentials") || strings.Contains(err.Error(), "failed to refresh cached credentials") {
		if strings.Contains(err.Error(), "AssumeRole") {
			return &ConfigError{Flag: "--role-arn", Msg: op + ": the role could not be assumed (" + lastLine(err) + "); check the role ARN, its trust policy and --external-id"}
		}
		return &ConfigError{Msg: op + ": no usable AWS credentials (" + lastLine(err) + "); set AWS_PROFILE or --profile, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"}
	}
	var dns *net.DNSError
	var op2 *net.OpError
	if errors.As(err, &dns) || errors.As(err, &op2) {
		return &ConfigError{Msg: op + ": cannot reach the AWS endpoint (" + lastLine(err) + "); check --endpoint-url, AWS_ENDPOINT_URL and the network"}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// lastLine returns the innermost part of a long SDK error message.
func lastLine(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && len(msg)-i > 12 {
		msg = msg[i+2:]
	}
	return strings.TrimSpace(msg)
}
