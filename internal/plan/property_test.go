package plan

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/rule"
)

// randomAccount builds an account with overlapping direct policy sets,
// existing groups, duplicated inline documents, exempt policies and users
// at the edges of small quotas.
func randomAccount(rng *rand.Rand) (*model.Account, []rule.Result, Quotas) {
	const acct = "210987654321"
	nManaged, nDocs := 2+rng.IntN(14), 1+rng.IntN(6)
	managed := func(i int) model.AttachedPolicy {
		return model.AttachedPolicy{Name: fmt.Sprintf("P%d", i), ARN: fmt.Sprintf("arn:aws:iam::aws:policy/P%d", i)}
	}
	doc := func(i int) model.InlinePolicy {
		size := 100 + i*50
		if i == 0 && rng.IntN(4) == 0 {
			size = 9000 // too large for a managed policy
		}
		return model.InlinePolicy{Name: fmt.Sprintf("inline-%d", i), Digest: fmt.Sprintf("%064x", i+1),
			Canonical: fmt.Sprintf(`{"Statement":[{"Effect":"Allow","Action":["s3:Get%d"],"Resource":["*"]}]}`, i), Size: size}
	}
	a := &model.Account{ID: acct, Partition: "aws", GroupsKnown: true}
	// Existing customer managed policies, some named like the inline
	// policies the plan turns into managed ones (IAM names ignore case).
	for i := range rng.IntN(4) {
		a.Policies = append(a.Policies, model.ManagedPolicy{Name: fmt.Sprintf("INLINE-%d", i),
			ARN: fmt.Sprintf("arn:aws:iam::%s:policy/INLINE-%d", acct, i)})
	}
	if rng.IntN(4) == 0 {
		a.Groups = append(a.Groups, model.Group{Name: "P0+P1", ARN: "arn:aws:iam::" + acct + ":group/P0+P1"})
	}
	for g := range rng.IntN(5) {
		grp := model.Group{Name: fmt.Sprintf("Existing%d", g), ARN: fmt.Sprintf("arn:aws:iam::%s:group/Existing%d", acct, g)}
		for i := range nManaged {
			if rng.IntN(4) == 0 {
				grp.AttachedPolicies = append(grp.AttachedPolicies, managed(i))
			}
		}
		if rng.IntN(3) == 0 {
			grp.InlinePolicies = append(grp.InlinePolicies, doc(rng.IntN(nDocs)))
		}
		a.Groups = append(a.Groups, grp)
	}
	// A few typical policy sets, which users take with variations.
	var profiles [][]int
	for range 1 + rng.IntN(5) {
		var prof []int
		for i := range nManaged + nDocs {
			if rng.IntN(3) == 0 {
				prof = append(prof, i)
			}
		}
		profiles = append(profiles, prof)
	}
	for u := range 1 + rng.IntN(40) {
		name := fmt.Sprintf("user%02d", u)
		user := &model.User{Name: name, ARN: fmt.Sprintf("arn:aws:iam::%s:user/%s", acct, name)}
		for _, g := range a.Groups {
			if rng.IntN(3) == 0 {
				user.Groups = append(user.Groups, g.Name)
			}
		}
		chosen := map[int]bool{}
		for _, i := range profiles[rng.IntN(len(profiles))] {
			chosen[i] = rng.IntN(8) != 0
		}
		if rng.IntN(3) == 0 {
			chosen[rng.IntN(nManaged+nDocs)] = true
		}
		for i := range nManaged + nDocs {
			if !chosen[i] {
				continue
			}
			if i < nManaged {
				user.AttachedPolicies = append(user.AttachedPolicies, managed(i))
			} else {
				d := doc(i - nManaged)
				if rng.IntN(4) == 0 {
					d.Name = fmt.Sprintf("copy-of-%d", i) // same document, another name
				}
				user.InlinePolicies = append(user.InlinePolicies, d)
			}
		}
		a.Users = append(a.Users, user)
	}
	results := rule.IAM071.Check(a)
	for i := range results {
		for j := range results[i].Violations {
			if results[i].Violations[j].Name == "P0" && rng.IntN(2) == 0 {
				results[i].Violations[j].Exemption = &rule.Exemption{ID: "#1", Reason: "allowed directly"}
			}
		}
	}
	q := Quotas{GroupsPerUser: 1 + rng.IntN(10), PoliciesPerGroup: 1 + rng.IntN(10), GroupsPerAccount: 3 + rng.IntN(40),
		PoliciesPerAccount: 1 + rng.IntN(10), PolicySize: 6144}
	if rng.IntN(3) == 0 {
		q = DefaultQuotas()
	}
	return a, results, q
}

func TestPlanInvariantsOnRandomAccounts(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 200
	}
	var total Stats
	defer func() {
		// The accounts must exercise every path, or the test proves little.
		t.Logf("over %d accounts: %+v", n, total)
		if total.PlannedUsers == 0 || total.UnplannedUsers == 0 || total.ReusedGroups == 0 || total.NewPolicies == 0 || total.Deletions == 0 {
			t.Errorf("the random accounts miss a case: %+v", total)
		}
	}()
	for seed := range n {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		acct, results, q := randomAccount(rng)
		p, err := Make(acct, results, Options{Quotas: q, GroupPrefix: "ig-"})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		checkInvariants(t, acct, results, p)
		total.PlannedUsers += p.Stats.PlannedUsers
		total.UnplannedUsers += p.Stats.UnplannedUsers
		total.ReusedGroups += p.Stats.ReusedGroups
		total.NewPolicies += p.Stats.NewPolicies
		total.NewGroups += p.Stats.NewGroups
		total.Deletions += p.Stats.Deletions
		again, _ := Make(acct, results, Options{Quotas: q, GroupPrefix: "ig-"})
		b1, _ := p.Encode()
		b2, _ := again.Encode()
		if !bytes.Equal(b1, b2) {
			t.Fatalf("seed %d: two plans of the same input differ", seed)
		}
		if t.Failed() {
			t.Fatalf("seed %d failed (quotas %+v)", seed, q)
		}
	}
}
