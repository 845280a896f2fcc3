package plan

import (
	"bytes"
	"testing"

	"github.com/iamgroups/iamgroups/internal/rule"
	"github.com/iamgroups/iamgroups/internal/snapshot"
	"github.com/iamgroups/iamgroups/internal/synth"
)

// BenchmarkRoleMining solves each HP Labs dataset without quotas and
// reports the groups found.
func BenchmarkRoleMining(b *testing.B) {
	for _, file := range []string{"hc.txt", "domino.txt", "emea.txt", "fire2.txt"} {
		classes, n := dataset(b, file)
		b.Run(file, func(b *testing.B) {
			var roles []bitset
			for b.Loop() {
				roles = solve(n, classes, 0)
			}
			b.ReportMetric(float64(len(roles)), "groups")
		})
	}
}

// BenchmarkPlanSynthetic plans synthetic accounts of 1,000 and 5,000
// users with IAM's default quotas, from decoded account to plan.
func BenchmarkPlanSynthetic(b *testing.B) {
	for _, users := range []int{1000, 5000} {
		var buf bytes.Buffer
		if err := synth.Write(&buf, synth.Options{Users: users, Seed: 1}); err != nil {
			b.Fatal(err)
		}
		accounts, err := snapshot.Decode(buf.Bytes(), "synth.json", snapshot.Options{Full: true})
		if err != nil {
			b.Fatal(err)
		}
		acct := accounts[0]
		results := rule.IAM071.Check(acct)
		b.Run(map[int]string{1000: "1k-users", 5000: "5k-users"}[users], func(b *testing.B) {
			b.ReportAllocs()
			var p *Plan
			for b.Loop() {
				p, err = Make(acct, results, Options{})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(p.Stats.NewGroups), "groups")
			b.ReportMetric(float64(p.Stats.PlannedUsers), "planned")
			b.ReportMetric(float64(p.Stats.UnplannedUsers), "unplanned")
		})
	}
}
