package awsiam

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// Quotas are the account's IAM quotas as GetAccountSummary reports them;
// a zero field was not reported.
type Quotas struct {
	GroupsPerUser    int
	PoliciesPerGroup int
	Groups           int
	Policies         int
	PolicySize       int
	GroupsUsed       int
	PoliciesUsed     int
}

// AccountQuotas reads the account's quotas (iam:GetAccountSummary).
func AccountQuotas(ctx context.Context, s *Session) (Quotas, error) {
	out, err := iam.NewFromConfig(s.Config).GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
	if err != nil {
		return Quotas{}, Explain("read the account's quotas (iam:GetAccountSummary)", err)
	}
	m := out.SummaryMap
	return Quotas{
		GroupsPerUser:    int(m["GroupsPerUserQuota"]),
		PoliciesPerGroup: int(m["AttachedPoliciesPerGroupQuota"]),
		Groups:           int(m["GroupsQuota"]),
		Policies:         int(m["PoliciesQuota"]),
		PolicySize:       int(m["PolicySizeQuota"]),
		GroupsUsed:       int(m["Groups"]),
		PoliciesUsed:     int(m["Policies"]),
	}, nil
}
