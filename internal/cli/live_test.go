package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/iamgroups/iamgroups/internal/mototest"
)

func TestMain(m *testing.M) { os.Exit(mototest.Main(m)) }

// emulator starts a proxy in front of a fresh moto and returns an SDK
// configuration that reaches it, for seeding.
func emulator(t *testing.T) (*mototest.Proxy, aws.Config) {
	t.Helper()
	srv := mototest.Require(t)
	p := mototest.NewProxy(t, srv)
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithBaseEndpoint(p.URL))
	if err != nil {
		t.Fatal(err)
	}
	return p, cfg
}

// seeded starts a proxy in front of a fresh moto account holding n users.
func seeded(t *testing.T, n int) (*mototest.Proxy, mototest.Seeded) {
	t.Helper()
	p, cfg := emulator(t)
	return p, mototest.Seed(t, context.Background(), cfg, n)
}

// resultsOf returns the "results" array of a JSON report, as raw bytes.
func resultsOf(t *testing.T, report string) []byte {
	t.Helper()
	var r struct {
		Results json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal([]byte(report), &r); err != nil {
		t.Fatalf("report is not JSON: %v", err)
	}
	return r.Results
}

func TestLiveAuditThenSnapshotGiveTheSameResults(t *testing.T) {
	p, seed := seeded(t, 40)
	live, errOut, code := run(t, "audit", "--endpoint-url", p.URL, "--format", "json", "--stats")
	if code != ExitFail {
		t.Fatalf("live audit: exit %d, stderr %s", code, errOut)
	}
	if !strings.Contains(errOut, "AWS API calls: 2 (GetAccountAuthorizationDetails 1, GetCallerIdentity 1)") {
		t.Errorf("--stats printed %q", errOut)
	}
	a := decodeAudit(t, live)
	if a.Summary.Fail != len(seed.Failing) || a.Summary.Users != 40 {
		t.Errorf("summary %+v, want %d failing of 40", a.Summary, len(seed.Failing))
	}
	var calls struct {
		APICalls map[string]int `json:"api_calls"`
	}
	json.Unmarshal([]byte(live), &calls)
	if calls.APICalls["GetAccountAuthorizationDetails"] != 1 {
		t.Errorf("api_calls in JSON = %v", calls.APICalls)
	}

	path := filepath.Join(t.TempDir(), "snap.json")
	out, errOut, code := run(t, "snapshot", "--endpoint-url", p.URL, "--output", path)
	if code != 0 || !strings.Contains(out, "40 users") {
		t.Fatalf("snapshot: exit %d, %s %s", code, out, errOut)
	}
	offline, _, code := run(t, "audit", "--snapshot", path, "--format", "json")
	if code != ExitFail {
		t.Fatalf("offline audit: exit %d", code)
	}
	if got, want := resultsOf(t, offline), resultsOf(t, live); !bytes.Equal(got, want) {
		t.Errorf("offline results differ from live results:\n%s\n---\n%s", got, want)
	}
	viaList, _, _ := run(t, "audit", "--endpoint-url", p.URL, "--format", "json", "--method", "list")
	if got, want := resultsOf(t, viaList), resultsOf(t, live); !bytes.Equal(got, want) {
		t.Errorf("list method results differ from gaad results")
	}
}

func TestLiveBadInput(t *testing.T) {
	p, _ := seeded(t, 1)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown profile", []string{"--profile", "nope"}, `--profile: profile "nope" is not in the AWS config`},
		{"unreachable endpoint", []string{"--endpoint-url", "http://127.0.0.1:1"}, "cannot reach the AWS endpoint"},
		{"endpoint not a URL", []string{"--endpoint-url", "moto:5000"}, "--endpoint-url:"},
		{"invalid role ARN", []string{"--endpoint-url", p.URL, "--role-arn", "arn:aws:iam::1:role/x"}, "--role-arn:"},
		{"external ID without role", []string{"--endpoint-url", p.URL, "--external-id", "x"}, "--external-id: needs --role-arn"},
		{"bad method", []string{"--endpoint-url", p.URL, "--method", "fast"}, `--method: "fast" is not a method`},
		{"accounts without org", []string{"--endpoint-url", p.URL, "--accounts", "123456789012"}, "--accounts needs --org"},
		{"bad account", []string{"--endpoint-url", p.URL, "--org", "--accounts", "12"}, `--accounts: "12" is not a 12-digit`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := run(t, append([]string{"audit"}, tt.args...)...)
			if code != ExitUsage || !strings.Contains(errOut, tt.want) || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
				t.Errorf("exit %d, stderr %q; want 2 and one line containing %q", code, errOut, tt.want)
			}
		})
	}
	p.SetRule(func(mototest.Request) mototest.Fault { return mototest.Expired })
	_, errOut, code := run(t, "audit", "--endpoint-url", p.URL)
	if code != ExitUsage || !strings.Contains(errOut, "credentials have expired") {
		t.Errorf("expired credentials: exit %d, %q", code, errOut)
	}
}

func TestOrgAuditWithAnUnreachableMember(t *testing.T) {
	p, cfg := emulator(t)
	ctx := context.Background()
	members := mototest.MakeOrg(t, cfg, 5)
	mototest.Seed(t, ctx, cfg, 3)
	p.SetRule(func(r mototest.Request) mototest.Fault {
		if r.Op == "AssumeRole" && strings.Contains(r.Params.Get("RoleArn"), members[4]) {
			return mototest.Deny
		}
		return mototest.None
	})
	out, errOut, code := run(t, "audit", "--endpoint-url", p.URL, "--org", "--format", "json", "--concurrency", "2")
	if code != ExitPartial {
		t.Fatalf("exit %d, want 3; stderr %s", code, errOut)
	}
	var rep struct {
		Accounts []struct {
			AccountID string `json:"account_id"`
		} `json:"accounts"`
		Results []struct {
			AccountID string `json:"account_id"`
			Status    string `json:"status"`
			Message   string `json:"message"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Accounts) != 6 {
		t.Errorf("%d accounts in the report, want 6", len(rep.Accounts))
	}
	var sawError bool
	for _, r := range rep.Results {
		if r.AccountID == "" {
			t.Errorf("a result without account_id: %+v", r)
		}
		if r.AccountID == members[4] {
			sawError = r.Status == "ERROR" && strings.Contains(r.Message, "cannot assume role")
		}
	}
	if !sawError {
		t.Errorf("no ERROR result for the unreachable account %s", members[4])
	}
	table, _, _ := run(t, "audit", "--endpoint-url", p.URL, "--org")
	if !strings.Contains(table, "account "+members[0]) || !strings.Contains(table, "account "+members[4]) {
		t.Errorf("the table has no per-account summary:\n%s", table)
	}
}

func TestRoleARNAuditsTheAssumedAccount(t *testing.T) {
	p, cfg := emulator(t)
	ctx := context.Background()
	members := mototest.MakeOrg(t, cfg, 1)
	mototest.Seed(t, ctx, cfg, 2) // users of the management account, which must not show
	role := "arn:aws:iam::" + members[0] + ":role/Auditor"
	var externalID string
	p.SetRule(func(r mototest.Request) mototest.Fault {
		if r.Op == "AssumeRole" {
			externalID = r.Params.Get("ExternalId")
		}
		return mototest.None
	})
	out, errOut, code := run(t, "audit", "--endpoint-url", p.URL, "--role-arn", role, "--external-id", "ext-123", "--format", "json", "--stats")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Accounts []struct {
			AccountID string `json:"account_id"`
		} `json:"accounts"`
		Summary struct{ Users int } `json:"summary"`
	}
	json.Unmarshal([]byte(out), &rep)
	if len(rep.Accounts) != 1 || rep.Accounts[0].AccountID != members[0] || rep.Summary.Users != 0 {
		t.Errorf("audited %+v, want the empty member account %s", rep, members[0])
	}
	if externalID != "ext-123" {
		t.Errorf("AssumeRole was sent external ID %q, want ext-123", externalID)
	}
	if !strings.Contains(errOut, "AssumeRole 1") {
		t.Errorf("--stats does not show the AssumeRole call: %s", errOut)
	}
	p.SetRule(func(r mototest.Request) mototest.Fault {
		if r.Op == "AssumeRole" {
			return mototest.Deny
		}
		return mototest.None
	})
	_, errOut, code = run(t, "audit", "--endpoint-url", p.URL, "--role-arn", role)
	if code != ExitUsage || !strings.Contains(errOut, "--role-arn") || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
		t.Errorf("denied role: exit %d, %q", code, errOut)
	}
}

func TestLivePlan(t *testing.T) {
	p, seed := seeded(t, 30)
	path := filepath.Join(t.TempDir(), "plan.json")
	out, errOut, code := run(t, "plan", "--endpoint-url", p.URL, "--out", path, "--stats")
	if code != 0 || !strings.Contains(out, "Plan: ") {
		t.Fatalf("exit %d, stderr %s\n%s", code, errOut, out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var pl struct {
		AccountID string `json:"account_id"`
		Users     []struct{ Name string }
		Unplanned []struct{ Name string }
	}
	if err := json.Unmarshal(data, &pl); err != nil {
		t.Fatal(err)
	}
	if pl.AccountID != "123456789012" || len(pl.Users)+len(pl.Unplanned) != len(seed.Failing) {
		t.Errorf("plan for %s: %d planned + %d unplanned, want %d failing users", pl.AccountID, len(pl.Users), len(pl.Unplanned), len(seed.Failing))
	}
	if c := p.Calls(); c["GetAccountSummary"] != 1 || c["GetAccountAuthorizationDetails"] != 1 {
		t.Errorf("calls = %v: want GAAD once (with groups and policies) and the quotas once", c)
	}
}

func TestLiveAccountThatCannotBeReadIsError(t *testing.T) {
	p, _ := seeded(t, 3)
	p.SetRule(func(r mototest.Request) mototest.Fault {
		if r.Op == "GetAccountAuthorizationDetails" {
			// An error the SDK does not retry stands for one that
			// failed on every retry (awsiam's tests cover retries).
			return mototest.Invalid
		}
		return mototest.None
	})
	out, errOut, code := run(t, "audit", "--endpoint-url", p.URL, "--method", "gaad", "--format", "json")
	if code != ExitPartial {
		t.Fatalf("exit %d, want 3; stderr %s", code, errOut)
	}
	a := decodeAudit(t, out)
	if a.Summary.Error != 1 || len(a.Results) != 1 || a.Results[0].Status != "ERROR" {
		t.Errorf("summary %+v: want one ERROR result for the account", a.Summary)
	}
}

func TestLivePlanRefusesWithoutGAAD(t *testing.T) {
	p, _ := seeded(t, 4)
	p.SetRule(func(r mototest.Request) mototest.Fault {
		if r.Op == "GetAccountAuthorizationDetails" {
			return mototest.Deny
		}
		return mototest.None
	})
	_, errOut, code := run(t, "plan", "--endpoint-url", p.URL)
	if code != ExitUsage || !strings.Contains(errOut, "without its groups") {
		t.Errorf("exit %d, %q: planning from the per-user listing must be refused", code, errOut)
	}
	// An audit still works, through the list method.
	out, _, code := run(t, "audit", "--endpoint-url", p.URL, "--format", "json")
	if code != ExitFail || !strings.Contains(out, "GetAccountAuthorizationDetails was denied") {
		t.Errorf("audit with GAAD denied: exit %d", code)
	}
}
