package synth

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// account is one generated account, everything Write prints.
type account struct {
	users    []user
	groups   []group
	roles    []role
	policies []*custPolicy // the customer managed policies in use, by name
}

type user struct {
	path, name, id, created string
	inline                  []inlinePolicy
	groups                  []string
	attached                []attachedPolicy
	boundary                string
	tags                    []tag
}

// fails reports whether the user holds a policy directly (IAM-071 FAIL).
func (u *user) fails() bool { return len(u.attached) > 0 || len(u.inline) > 0 }

type group struct {
	path, name, id, created string
	inline                  []inlinePolicy
	attached                []attachedPolicy
}

type role struct {
	path, name, id, created string
	trust                   *document
	profiles                []instanceProfile
	inline                  []inlinePolicy
	attached                []attachedPolicy
	boundary                string
	tags                    []tag
	lastUsed, lastRegion    string // empty when never used
}

type instanceProfile struct {
	path, name, id, created string
}

type custPolicy struct {
	name, path, id, created, updated string
	doc                              *document
	attachments, boundaryUses        int
}

type inlinePolicy struct {
	name string
	doc  *document
}

type attachedPolicy struct {
	name, arn string
}

type tag struct {
	key, value string
}

// document is a policy document and the text its author submitted, which
// IAM keeps and returns percent-encoded.
type document struct {
	tree obj
	unit int    // author's formatting: 0 compact, else spaces per level
	enc  string // percent-encoded text, made on first use
}

func (d *document) encoded() string {
	if d.enc == "" {
		d.enc = percentEncode(docText(d.tree, d.unit))
	}
	return d.enc
}

// docUnits are the formats authors submit documents in: compact (SDKs,
// Terraform jsonencode), four spaces (the console), two spaces (Terraform's
// aws_iam_policy_document).
var docUnits = [3]int{0, 4, 2}

// category is what a user holds directly.
type category int

const (
	compliant  category = iota // groups only, or nothing
	awsDirect                  // AWS managed policies attached to the user
	custDirect                 // customer managed policies attached to the user
	inlineOnly                 // inline user policies
	both                       // managed and inline
)

// mix is the share of users in each category, in percent.
var mix = [...]struct {
	c   category
	pct int
}{{compliant, 55}, {awsDirect, 20}, {custDirect, 5}, {inlineOnly, 12}, {both, 8}}

// Probabilities, in percent, of the user attributes that do not decide the
// verdict.
const (
	pctNoGroups      = 15 // of compliant users: in no group at all
	pctTeamGroup     = 90 // in their team's group
	pctMFAGroup      = 35 // in EnforceMFA
	pctExtraGroup    = 12 // in one of extraGroups
	pctContractor    = 8  // path /contractors/
	pctEngineering   = 40 // of eng and plat users: path /engineering/
	pctBoundary      = 5  // with a permissions boundary
	pctTags          = 20 // with tags
	pctUniqueInline  = 20 // of inline documents: unique to the user
	pctRoleTags      = 40
	pctRoleLastUsed  = 70
	pctAWSInBoth     = 75 // of managed policies of "both" users: AWS managed
	pctTwoInline     = 20 // of users with inline policies: two of them
	pctRoleBoundary  = 10
	firstDate        = 1420070400 // 2015-01-01
	lastDate         = 1751241600 // 2025-06-30
	idAlphabet       = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	idLen            = 17
	dateLayout       = "2006-01-02T15:04:05Z"
	rolesPerUsers    = 50
	minRoles         = 5
	streamGroups     = 1
	streamPolicies   = 2
	streamUsers      = 3
	streamRoles      = 4
	streamDocs       = 5
	seedStreamOffset = 0x9e3779b97f4a7c15
)

// stream returns an independent random stream per section, so that, for
// one seed, the groups and policies do not change with the number of users.
func stream(seed int64, section uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), seedStreamOffset+section))
}

// builder holds what generation shares across sections.
type builder struct {
	e        env
	pool     []*document // inlinePool documents, same order
	poolName []string
	cust     []*custPolicy // custSpecs, same order
}

func generate(o Options) *account {
	o = o.withDefaults()
	b := &builder{e: env{part: o.Partition, acct: o.AccountID, region: regionFor(o.Partition)}}
	for i, p := range inlinePool(b.e) {
		b.pool = append(b.pool, &document{tree: p.tree, unit: docUnits[i%len(docUnits)]})
		b.poolName = append(b.poolName, p.name)
	}
	a := &account{}
	b.genPolicies(stream(o.Seed, streamPolicies))
	a.groups = b.genGroups(stream(o.Seed, streamGroups))
	a.users = b.genUsers(stream(o.Seed, streamUsers), max(o.Users, 0))
	a.roles = b.genRoles(stream(o.Seed, streamRoles), max(minRoles, o.Users/rolesPerUsers))
	for _, p := range b.cust {
		if p.attachments > 0 || p.boundaryUses > 0 {
			a.policies = append(a.policies, p)
		}
	}
	slices.SortFunc(a.policies, func(x, y *custPolicy) int { return cmp.Compare(x.name, y.name) })
	return a
}

func randomID(r *rand.Rand, prefix string) string {
	b := make([]byte, len(prefix)+idLen)
	copy(b, prefix)
	for i := len(prefix); i < len(b); i++ {
		b[i] = idAlphabet[r.IntN(len(idAlphabet))]
	}
	return string(b)
}

func randomUnix(r *rand.Rand, from, to int64) int64 {
	return from + r.Int64N(to-from)
}

func formatUnix(t int64) string {
	return time.Unix(t, 0).UTC().Format(dateLayout)
}

func randomDate(r *rand.Rand) string {
	return formatUnix(randomUnix(r, firstDate, lastDate))
}

// skewed draws an index below n, the lower ones more often (density ∝
// 1/√x), as a few policies are far more common than the rest.
func skewed(r *rand.Rand, n int) int {
	u := r.Float64()
	return int(float64(n) * u * u)
}

func pct(r *rand.Rand, p int) bool { return r.IntN(100) < p }

func (b *builder) awsARN(pathName string) string {
	return "arn:" + b.e.part + ":iam::aws:policy/" + pathName
}

func (b *builder) custARN(p *custPolicy) string {
	return "arn:" + b.e.part + ":iam::" + b.e.acct + ":policy" + p.path + p.name
}

func awsName(pathName string) string {
	for i := len(pathName) - 1; i >= 0; i-- {
		if pathName[i] == '/' {
			return pathName[i+1:]
		}
	}
	return pathName
}

func (b *builder) attachAWS(pathName string) attachedPolicy {
	return attachedPolicy{name: awsName(pathName), arn: b.awsARN(pathName)}
}

func (b *builder) attachCust(i int) attachedPolicy {
	p := b.cust[i]
	p.attachments++
	return attachedPolicy{name: p.name, arn: b.custARN(p)}
}

// attachSpec attaches "path/Name" (AWS managed) or "cust:Name".
func (b *builder) attachSpec(s string) attachedPolicy {
	if name, ok := cutPrefix(s, "cust:"); ok {
		return b.attachCust(b.custIndex(name))
	}
	return b.attachAWS(s)
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return s, false
}

func (b *builder) custIndex(name string) int {
	for i, p := range b.cust {
		if p.name == name {
			return i
		}
	}
	panic("synth: unknown customer managed policy " + name)
}

func (b *builder) poolPolicy(name string) inlinePolicy {
	for i, n := range b.poolName {
		if n == name {
			return inlinePolicy{name: n, doc: b.pool[i]}
		}
	}
	panic("synth: unknown pool document " + name)
}

func (b *builder) boundaryCust(i int) string {
	p := b.cust[i]
	p.boundaryUses++
	return b.custARN(p)
}

func (b *builder) genPolicies(r *rand.Rand) {
	for i, s := range custSpecs {
		created := randomUnix(r, firstDate, lastDate)
		updated := created
		if pct(r, 40) {
			updated = randomUnix(r, created, lastDate+1)
		}
		b.cust = append(b.cust, &custPolicy{
			name:    s.name,
			path:    s.path,
			id:      randomID(r, "ANPA"),
			created: formatUnix(created),
			updated: formatUnix(updated),
			doc:     &document{tree: b.poolPolicy(s.doc).doc.tree, unit: docUnits[(i+1)%len(docUnits)]},
		})
	}
}

func (b *builder) genGroups(r *rand.Rand) []group {
	gs := make([]group, 0, len(groupSpecs))
	for _, s := range groupSpecs {
		g := group{path: s.path, name: s.name, id: randomID(r, "AGPA"), created: randomDate(r)}
		for _, m := range s.managed {
			g.attached = append(g.attached, b.attachSpec(m))
		}
		for _, n := range s.inline {
			g.inline = append(g.inline, b.poolPolicy(n))
		}
		gs = append(gs, g)
	}
	slices.SortFunc(gs, func(x, y group) int { return cmp.Compare(x.name, y.name) })
	return gs
}

// allocate assigns exact category counts (largest remainder), shuffled.
func allocate(r *rand.Rand, n int) []category {
	counts := make([]int, len(mix))
	rem := make([]int, len(mix))
	total := 0
	for i, m := range mix {
		counts[i] = n * m.pct / 100
		rem[i] = n * m.pct % 100
		total += counts[i]
	}
	for total < n {
		best := 0
		for i := range rem {
			if rem[i] > rem[best] {
				best = i
			}
		}
		counts[best]++
		rem[best] = -1
		total++
	}
	cats := make([]category, 0, n)
	for i, m := range mix {
		for range counts[i] {
			cats = append(cats, m.c)
		}
	}
	r.Shuffle(len(cats), func(i, j int) { cats[i], cats[j] = cats[j], cats[i] })
	return cats
}

func pickTeam(r *rand.Rand) team {
	total := 0
	for _, t := range teams {
		total += t.weight
	}
	x := r.IntN(total)
	for _, t := range teams {
		if x < t.weight {
			return t
		}
		x -= t.weight
	}
	return teams[len(teams)-1]
}

func (b *builder) genUsers(r *rand.Rand, n int) []user {
	cats := allocate(r, n)
	users := make([]user, n)
	for i := range users {
		u := &users[i]
		t := pickTeam(r)
		contractor := pct(r, pctContractor)
		engineering := pct(r, pctEngineering)
		u.path = "/"
		switch {
		case contractor:
			u.path = "/contractors/"
		case engineering && (t.name == "eng" || t.name == "plat"):
			u.path = "/engineering/"
		}
		first := firstInitials[r.IntN(len(firstInitials))]
		last := lastNames[r.IntN(len(lastNames))]
		u.name = fmt.Sprintf("%c%s-%s-%04d", first, last, t.name, i+1)
		u.id = randomID(r, "AIDA")
		u.created = randomDate(r)

		cat := cats[i]
		if !(cat == compliant && pct(r, pctNoGroups)) {
			b.genMemberships(r, u, t, contractor)
		}
		switch cat {
		case awsDirect:
			b.attachAWSDirect(r, u, 1+skewed(r, 3))
		case custDirect:
			b.attachCustDirect(r, u, 1+skewed(r, 2))
		case inlineOnly:
			b.addInline(r, u)
		case both:
			k := 1 + skewed(r, 2)
			for range k {
				if pct(r, pctAWSInBoth) {
					b.attachAWSDirect(r, u, 1)
				} else {
					b.attachCustDirect(r, u, 1)
				}
			}
			b.addInline(r, u)
		}
		if pct(r, pctBoundary) {
			switch {
			case contractor:
				u.boundary = b.boundaryCust(custContractorBoundary)
			case pct(r, 75):
				u.boundary = b.boundaryCust(custDeveloperBoundary)
			default:
				u.boundary = b.awsARN("PowerUserAccess")
			}
		}
		if pct(r, pctTags) {
			u.tags = append(u.tags, tag{"team", t.name})
			if pct(r, 60) {
				u.tags = append(u.tags, tag{"CostCenter", fmt.Sprintf("cc-%04d", 1000+r.IntN(9000))})
			}
			if pct(r, 40) {
				u.tags = append(u.tags, tag{"email", fmt.Sprintf("%c.%s@example.com", first, last)})
			}
		}
	}
	slices.SortFunc(users, func(x, y user) int { return cmp.Compare(x.name, y.name) })
	return users
}

func (b *builder) genMemberships(r *rand.Rand, u *user, t team, contractor bool) {
	add := func(g string) {
		if !slices.Contains(u.groups, g) {
			u.groups = append(u.groups, g)
		}
	}
	if pct(r, pctTeamGroup) {
		add(t.group)
	}
	if contractor {
		add("Contractors")
	}
	if pct(r, pctMFAGroup) {
		add("EnforceMFA")
	}
	if pct(r, pctExtraGroup) {
		add(extraGroups[r.IntN(len(extraGroups))])
	}
}

// attachAWSDirect attaches k more distinct AWS managed policies.
func (b *builder) attachAWSDirect(r *rand.Rand, u *user, k int) {
	for added := 0; added < k; {
		p := awsManaged[skewed(r, len(awsManaged))]
		a := b.attachAWS(p.path + p.name)
		if hasArn(u.attached, a.arn) {
			continue
		}
		u.attached = append(u.attached, a)
		added++
	}
}

func (b *builder) attachCustDirect(r *rand.Rand, u *user, k int) {
	for added := 0; added < k; {
		i := skewed(r, custUserAttachable)
		if hasArn(u.attached, b.custARN(b.cust[i])) {
			continue
		}
		u.attached = append(u.attached, b.attachCust(i))
		added++
	}
}

func hasArn(as []attachedPolicy, arn string) bool {
	for _, a := range as {
		if a.arn == arn {
			return true
		}
	}
	return false
}

// addInline gives the user one or two inline policies with distinct names.
func (b *builder) addInline(r *rand.Rand, u *user) {
	k := 1
	if pct(r, pctTwoInline) {
		k = 2
	}
	for len(u.inline) < k {
		var p inlinePolicy
		if pct(r, pctUniqueInline) {
			name, tree := uniqueDoc(b.e, r.IntN(4), u.name)
			p = inlinePolicy{name: name, doc: &document{tree: tree, unit: docUnits[r.IntN(len(docUnits))]}}
		} else {
			p = b.poolPolicy(userInline[skewed(r, len(userInline))])
		}
		if slices.ContainsFunc(u.inline, func(q inlinePolicy) bool { return q.name == p.name }) {
			continue
		}
		u.inline = append(u.inline, p)
	}
}

func (b *builder) genRoles(r *rand.Rand, n int) []role {
	roles := make([]role, 0, n)
	nslr := min(len(serviceLinkedRoles), max(1, n/4))
	trusts := map[string]*document{} // one document per service, looked up, never iterated
	serviceDoc := func(service string, sid bool) *document {
		k := fmt.Sprint(service, sid)
		if d, ok := trusts[k]; ok {
			return d
		}
		d := &document{tree: serviceTrust(service, sid), unit: docUnits[len(trusts)%len(docUnits)]}
		trusts[k] = d
		return d
	}
	for i := range n {
		created := randomUnix(r, firstDate, lastDate)
		ro := role{path: "/", id: randomID(r, "AROA"), created: formatUnix(created)}
		if i < nslr {
			s := serviceLinkedRoles[i]
			ro.name = s.name
			ro.path = "/aws-service-role/" + s.service + "/"
			ro.trust = serviceDoc(s.service, false)
			ro.attached = append(ro.attached, b.attachAWS("aws-service-role/"+s.policy))
		} else {
			b.genWorkloadRole(r, &ro, i, serviceDoc)
		}
		if ro.boundary == "" && pct(r, pctRoleBoundary) {
			ro.boundary = b.boundaryCust(custDeveloperBoundary)
		}
		if pct(r, pctRoleTags) {
			envs := [3]string{"prod", "staging", "dev"}
			ro.tags = append(ro.tags, tag{"Environment", envs[r.IntN(3)]})
			if pct(r, 50) {
				ro.tags = append(ro.tags, tag{"ManagedBy", "terraform"})
			}
		}
		if pct(r, pctRoleLastUsed) {
			ro.lastUsed = formatUnix(randomUnix(r, created, lastDate+86400))
			ro.lastRegion = regionsFor(b.e.part)[r.IntN(4)]
		}
		roles = append(roles, ro)
	}
	slices.SortFunc(roles, func(x, y role) int { return cmp.Compare(x.name, y.name) })
	return roles
}

// roleInline are the pool documents workload roles carry inline.
var roleInline = []string{
	"dynamodb-orders-rw", "sqs-jobs-consume", "secrets-read-app", "kinesis-put",
	"sns-publish-alerts", "s3-reports-read", "kms-decrypt-app", "ssm-params-read",
}

func (b *builder) genWorkloadRole(r *rand.Rand, ro *role, i int, serviceDoc func(string, bool) *document) {
	app := apps[r.IntN(len(apps))]
	num := fmt.Sprintf("%03d", i)
	inline := func() { ro.inline = append(ro.inline, b.poolPolicy(roleInline[r.IntN(len(roleInline))])) }
	profile := func() {
		ro.profiles = append(ro.profiles, instanceProfile{path: ro.path, name: ro.name, id: randomID(r, "AIPA"), created: ro.created})
	}
	switch r.IntN(7) {
	case 0:
		if pct(r, 50) {
			ro.path = "/service-role/"
		}
		ro.name = app + "-lambda-exec-" + num
		ro.trust = serviceDoc("lambda.amazonaws.com", false)
		ro.attached = append(ro.attached, b.attachAWS("service-role/AWSLambdaBasicExecutionRole"))
		if pct(r, 30) {
			ro.attached = append(ro.attached, b.attachCust(b.custIndex("SQSJobsConsumer")))
		}
		inline()
	case 1:
		ro.name = app + "-ec2-" + num
		ro.trust = serviceDoc("ec2.amazonaws.com", true)
		ro.attached = append(ro.attached, b.attachAWS("AmazonSSMManagedInstanceCore"), b.attachAWS("CloudWatchAgentServerPolicy"))
		if pct(r, 50) {
			ro.inline = append(ro.inline, b.poolPolicy("s3-deploy-artifacts"))
		}
		profile()
	case 2:
		ro.name = app + "-ecs-task-" + num
		ro.trust = serviceDoc("ecs-tasks.amazonaws.com", false)
		ro.attached = append(ro.attached, b.attachAWS("service-role/AmazonECSTaskExecutionRolePolicy"), b.attachCust(b.custIndex("AppSecretsRead")))
		inline()
		if pct(r, 30) {
			inline()
			if ro.inline[0].name == ro.inline[1].name {
				ro.inline = ro.inline[:1]
			}
		}
	case 3:
		ro.name = "gha-deploy-" + app + "-" + num
		ro.trust = &document{tree: githubTrust(b.e, app), unit: 2}
		ro.attached = append(ro.attached, b.attachCust(b.custIndex("ECRPush")), b.attachCust(b.custIndex("CIArtifactsWrite")))
		if pct(r, 50) {
			ro.boundary = b.boundaryCust(custDeveloperBoundary)
		}
	case 4:
		ro.name = app + "-cross-account-" + num
		other := fmt.Sprintf("%012d", r.Int64N(1_000_000_000_000))
		ext := fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64())
		ro.trust = &document{tree: crossAccountTrust(b.e, other, ext), unit: 4}
		if pct(r, 50) {
			ro.attached = append(ro.attached, b.attachAWS("SecurityAudit"))
		} else {
			ro.attached = append(ro.attached, b.attachAWS("ReadOnlyAccess"))
		}
	case 5:
		ro.path = "/service-role/"
		ro.name = "AWSGlueServiceRole-" + app + num
		ro.trust = serviceDoc("glue.amazonaws.com", false)
		ro.attached = append(ro.attached, b.attachAWS("service-role/AWSGlueServiceRole"))
		ro.inline = append(ro.inline, b.poolPolicy("s3-reports-read"))
	default:
		ro.name = app + "-eks-node-" + num
		ro.trust = serviceDoc("ec2.amazonaws.com", false)
		ro.attached = append(ro.attached, b.attachAWS("AmazonEKSWorkerNodePolicy"), b.attachAWS("AmazonEKS_CNI_Policy"),
			b.attachAWS("AmazonEC2ContainerRegistryReadOnly"))
		profile()
	}
}
