package plan

import (
	"strings"
	"testing"
	"time"

	"github.com/iamgroups/iamgroups/internal/demo"
	"github.com/iamgroups/iamgroups/internal/exempt"
	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/rule"
	"github.com/iamgroups/iamgroups/internal/snapshot"
)

// demoAccount is the demo account with its audit results, exemptions
// applied as of its capture date.
func demoAccount(t testing.TB) (*model.Account, []rule.Result) {
	t.Helper()
	accounts, err := snapshot.Decode(demo.Account, "demo", snapshot.Options{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := exempt.Parse(demo.Exemptions, "demo")
	if err != nil {
		t.Fatal(err)
	}
	results := rule.IAM071.Check(accounts[0])
	cfg.Apply(accounts, results, time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC))
	return accounts[0], results
}

func TestDemoPlan(t *testing.T) {
	acct, results := demoAccount(t)
	p, err := Make(acct, results, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := p.Encode()
	t.Logf("%s\n%s", p.Summary(), b)
	if p.Stats.PlannedUsers == 0 || !strings.HasPrefix(p.Summary(), "Plan: ") {
		t.Errorf("summary %q", p.Summary())
	}
	checkInvariants(t, acct, results, p)
}
