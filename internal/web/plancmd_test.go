package web

import (
	"testing"
	"time"

	"github.com/iamgroups/iamgroups/internal/store"
)

func TestPlanCommand(t *testing.T) {
	for _, tc := range []struct {
		target Target
		want   string
	}{
		{Target{Flags: []string{"--profile", "prod-audit"}}, "iamgroups plan --profile prod-audit --out plan.json"},
		{Target{}, "iamgroups plan --out plan.json"},
		{Target{Flags: []string{"--role-arn", "arn:aws:iam::123456789012:role/Auditor", "--external-id", "8d1f 2a"}},
			"iamgroups plan --role-arn arn:aws:iam::123456789012:role/Auditor --external-id '8d1f 2a' --out plan.json"},
		{Target{Flags: []string{"--endpoint-url", "http://127.0.0.1:5000", "--profile", "emu"}},
			"iamgroups plan --endpoint-url http://127.0.0.1:5000 --profile emu --out plan.json"},
		{Target{Flags: []string{"--snapshot", "snaps/prod $(date).json"}},
			"iamgroups plan --snapshot 'snaps/prod $(date).json' --out plan.json"},
		// Organization targets: plan reads one account through the member role.
		{Target{Org: true, Flags: []string{"--profile", "mgmt"}},
			"iamgroups plan --profile mgmt --role-arn arn:aws:iam::210987654321:role/OrganizationAccountAccessRole --out plan-210987654321.json"},
		{Target{Flags: []string{"--profile", "mgmt", "--org", "--org-role-name", "Auditor", "--concurrency=4", "--accounts", "1,2"}},
			"iamgroups plan --profile mgmt --role-arn arn:aws:iam::210987654321:role/Auditor --out plan-210987654321.json"},
		{Target{Org: true, OrgRoleName: "Audit", Flags: []string{"--role-arn=arn:aws:iam::111111111111:role/Mgmt", "--external-id", "x"}},
			"iamgroups plan --role-arn arn:aws:iam::210987654321:role/Audit --out plan-210987654321.json"},
	} {
		if got := planCommand(tc.target, "210987654321"); got != tc.want {
			t.Errorf("planCommand(%+v)\n got %s\nwant %s", tc.target, got, tc.want)
		}
	}
}

func TestTrendChart(t *testing.T) {
	if newTrendChart(nil) != nil {
		t.Errorf("chart of nothing")
	}
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	var points []store.TrendPoint
	for i, fails := range []int{10, 8, 3} {
		for _, acct := range []string{acctOrgA, acctOrgB} {
			p := store.TrendPoint{RunID: int64(i + 1), At: at(i * 24), Target: "org", AccountID: acct}
			p.Fail, p.Users = fails, 20
			points = append(points, p)
		}
	}
	c := newTrendChart(points)
	if len(c.Series) != 1 || len(c.Series[0].Points) != 3 || c.Points != 3 {
		t.Fatalf("series %+v", c.Series)
	}
	// Accounts are summed per run: 20, 16, 6 failing; the axis tops at 20.
	s := c.Series[0]
	if s.Points[0].X != "52.0" || s.Points[2].X != "744.0" || s.Points[0].Y != "14.0" || s.Points[2].Y != "151.2" {
		t.Errorf("points %+v", s.Points)
	}
	if s.Line != "52.0,14.0 398.0,53.2 744.0,151.2" {
		t.Errorf("line %q", s.Line)
	}
	if c.YTicks[len(c.YTicks)-1].Label != "20" || c.XTicks[0].Label != "Mar 1 06:00" {
		t.Errorf("ticks %+v %+v", c.YTicks, c.XTicks)
	}
	for _, tc := range [][2]int{{0, 4}, {3, 4}, {7, 8}, {20, 20}, {150, 160}, {4999, 6000}, {600, 600}, {21, 24}, {1000, 1000}} {
		if got := niceCeil(tc[0]); got != tc[1] {
			t.Errorf("niceCeil(%d) = %d, want %d", tc[0], got, tc[1])
		}
	}
}
