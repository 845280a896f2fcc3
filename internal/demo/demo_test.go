package demo

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// snapshotFile mirrors the iamgroups.snapshot/v1 format and the
// get-account-authorization-details page it wraps, field for field, so that
// decoding with DisallowUnknownFields catches a misspelt key.
type snapshotFile struct {
	Schema   string `json:"schema"`
	Metadata struct {
		AccountID   string `json:"account_id"`
		Partition   string `json:"partition"`
		CapturedAt  string `json:"captured_at"`
		Method      string `json:"method"`
		ToolVersion string `json:"tool_version"`
	} `json:"metadata"`
	AuthorizationDetails gaad `json:"authorization_details"`
}

type gaad struct {
	UserDetailList  []userDetail    `json:"UserDetailList"`
	GroupDetailList []groupDetail   `json:"GroupDetailList"`
	RoleDetailList  []roleDetail    `json:"RoleDetailList"`
	Policies        []managedPolicy `json:"Policies"`
	IsTruncated     *bool           `json:"IsTruncated"`
	Marker          *string         `json:"Marker"`
}

type attachedPolicy struct {
	PolicyName string `json:"PolicyName"`
	PolicyArn  string `json:"PolicyArn"`
}

type inlinePolicy struct {
	PolicyName     string          `json:"PolicyName"`
	PolicyDocument json.RawMessage `json:"PolicyDocument"`
}

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type boundary struct {
	PermissionsBoundaryType string `json:"PermissionsBoundaryType"`
	PermissionsBoundaryArn  string `json:"PermissionsBoundaryArn"`
}

type userDetail struct {
	Path                    string            `json:"Path"`
	UserName                string            `json:"UserName"`
	UserID                  string            `json:"UserId"`
	Arn                     string            `json:"Arn"`
	CreateDate              string            `json:"CreateDate"`
	UserPolicyList          *[]inlinePolicy   `json:"UserPolicyList"`
	GroupList               []string          `json:"GroupList"`
	AttachedManagedPolicies *[]attachedPolicy `json:"AttachedManagedPolicies"`
	PermissionsBoundary     *boundary         `json:"PermissionsBoundary"`
	Tags                    []tag             `json:"Tags"`
	// EvaluationError is the iamgroups snapshot's record of a user that
	// could not be read completely (ERROR in the audit).
	EvaluationError string `json:"EvaluationError"`
}

func (u *userDetail) inline() []inlinePolicy {
	if u.UserPolicyList == nil {
		return nil
	}
	return *u.UserPolicyList
}

func (u *userDetail) attached() []attachedPolicy {
	if u.AttachedManagedPolicies == nil {
		return nil
	}
	return *u.AttachedManagedPolicies
}

type groupDetail struct {
	Path                    string           `json:"Path"`
	GroupName               string           `json:"GroupName"`
	GroupID                 string           `json:"GroupId"`
	Arn                     string           `json:"Arn"`
	CreateDate              string           `json:"CreateDate"`
	GroupPolicyList         []inlinePolicy   `json:"GroupPolicyList"`
	AttachedManagedPolicies []attachedPolicy `json:"AttachedManagedPolicies"`
}

type roleBase struct {
	Path                     string          `json:"Path"`
	RoleName                 string          `json:"RoleName"`
	RoleID                   string          `json:"RoleId"`
	Arn                      string          `json:"Arn"`
	CreateDate               string          `json:"CreateDate"`
	AssumeRolePolicyDocument json.RawMessage `json:"AssumeRolePolicyDocument"`
}

type roleDetail struct {
	roleBase
	InstanceProfileList []struct {
		Path                string     `json:"Path"`
		InstanceProfileName string     `json:"InstanceProfileName"`
		InstanceProfileID   string     `json:"InstanceProfileId"`
		Arn                 string     `json:"Arn"`
		CreateDate          string     `json:"CreateDate"`
		Roles               []roleBase `json:"Roles"`
	} `json:"InstanceProfileList"`
	RolePolicyList          []inlinePolicy   `json:"RolePolicyList"`
	AttachedManagedPolicies []attachedPolicy `json:"AttachedManagedPolicies"`
	PermissionsBoundary     *boundary        `json:"PermissionsBoundary"`
	Tags                    []tag            `json:"Tags"`
	RoleLastUsed            struct {
		LastUsedDate string `json:"LastUsedDate"`
		Region       string `json:"Region"`
	} `json:"RoleLastUsed"`
}

type managedPolicy struct {
	PolicyName                    string `json:"PolicyName"`
	PolicyID                      string `json:"PolicyId"`
	Arn                           string `json:"Arn"`
	Path                          string `json:"Path"`
	DefaultVersionID              string `json:"DefaultVersionId"`
	AttachmentCount               int    `json:"AttachmentCount"`
	PermissionsBoundaryUsageCount int    `json:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool   `json:"IsAttachable"`
	Description                   string `json:"Description"`
	CreateDate                    string `json:"CreateDate"`
	UpdateDate                    string `json:"UpdateDate"`
	PolicyVersionList             []struct {
		Document         json.RawMessage `json:"Document"`
		VersionID        string          `json:"VersionId"`
		IsDefaultVersion bool            `json:"IsDefaultVersion"`
		CreateDate       string          `json:"CreateDate"`
	} `json:"PolicyVersionList"`
}

const accountID = "111122223333"

// The intended verdicts before exemptions: users holding a policy directly
// (FAIL before exemptions) and users holding none (PASS).
var (
	wantDirect = []string{
		"amelia.chen", "break-glass-admin", "ci-deployer", "diego.ramirez",
		"emma.johansson", "ethan.brooks", "fatima.zahra", "grace.okafor",
		"hana.sato", "julia.novak", "kenji.watanabe", "kestrel-auditor",
		"legacy-etl", "martin.lewis", "mia.lindqvist", "oliver.grant",
		"sofia.russo",
	}
	wantNoDirect = []string{
		"ben.walker", "chloe.martin", "li.wei", "nadia.haddad", "noah.kim",
		"oscar.reyes", "priya.nair", "sam.taylor", "tomas.berg",
	}
	// wantExempt are the users exemptions.yaml is meant to cover (whole
	// user, by tag, and by policy, in that order); all other users with
	// direct policies remain FAIL, including ci-deployer whose exemption
	// expired.
	wantExempt = []string{"break-glass-admin", "kestrel-auditor", "emma.johansson"}
)

var (
	idPattern   = regexp.MustCompile(`^[A-Z][A-Z0-9]{20}$`)
	pathPattern = regexp.MustCompile(`^/([A-Za-z0-9+=,.@_-]+/)*$`)
	namePattern = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,128}$`)
)

func decodeAccount(t *testing.T) *snapshotFile {
	t.Helper()
	if !json.Valid(Account) {
		t.Fatal("account.json is not valid JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(Account))
	dec.DisallowUnknownFields()
	var s snapshotFile
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("decode account.json: %v", err)
	}
	if dec.More() {
		t.Fatal("account.json: data after the top-level object")
	}
	return &s
}

func checkDate(t *testing.T, what, s string, notAfter time.Time) {
	t.Helper()
	d, err := time.Parse(time.RFC3339, s)
	if err != nil || !strings.HasSuffix(s, "Z") {
		t.Errorf("%s: date %q is not ISO 8601 UTC (…Z)", what, s)
		return
	}
	if d.After(notAfter) {
		t.Errorf("%s: date %s is after the capture time %s", what, s, notAfter.Format(time.RFC3339))
	}
}

func checkID(t *testing.T, what, id, prefix string, seen map[string]string) {
	t.Helper()
	if !strings.HasPrefix(id, prefix) || !idPattern.MatchString(id) {
		t.Errorf("%s: id %q is not %s followed by 17 upper-case letters or digits", what, id, prefix)
	}
	if prev, ok := seen[id]; ok {
		t.Errorf("%s: id %q already used by %s", what, id, prev)
	}
	seen[id] = what
}

func checkPathName(t *testing.T, what, path, name string) {
	t.Helper()
	if !pathPattern.MatchString(path) {
		t.Errorf("%s: path %q must start and end with /", what, path)
	}
	if !namePattern.MatchString(name) {
		t.Errorf("%s: name %q has characters IAM does not allow", what, name)
	}
}

// document decodes a policy document and re-encodes it with sorted keys, so
// that documents differing only in key order compare equal.
func document(t *testing.T, what string, raw json.RawMessage) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: document is not a JSON object (want it decoded, as the CLI prints it)", what)
	}
	if m["Version"] != "2012-10-17" {
		t.Errorf("%s: Version is %v", what, m["Version"])
	}
	if _, ok := m["Statement"]; !ok {
		t.Errorf("%s: no Statement", what)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAccount(t *testing.T) {
	s := decodeAccount(t)
	if s.Schema != "iamgroups.snapshot/v1" {
		t.Errorf("schema = %q", s.Schema)
	}
	m := s.Metadata
	if m.AccountID != accountID || m.Partition != "aws" || m.Method != "demo" || m.ToolVersion != "demo" {
		t.Errorf("metadata = %+v", m)
	}
	captured, err := time.Parse(time.RFC3339, m.CapturedAt)
	if err != nil {
		t.Fatalf("metadata.captured_at: %v", err)
	}
	g := &s.AuthorizationDetails
	if g.IsTruncated == nil || *g.IsTruncated || g.Marker != nil {
		t.Error("authorization_details must be one complete page: IsTruncated false, no Marker")
	}
	if len(g.UserDetailList) < 20 || len(g.GroupDetailList) < 5 || len(g.RoleDetailList) < 3 || len(g.Policies) < 3 {
		t.Errorf("too small: %d users, %d groups, %d roles, %d policies",
			len(g.UserDetailList), len(g.GroupDetailList), len(g.RoleDetailList), len(g.Policies))
	}

	ids := map[string]string{}
	customerPrefix := "arn:aws:iam::" + accountID + ":policy/"
	policies := map[string]*managedPolicy{}
	for i := range g.Policies {
		p := &g.Policies[i]
		what := "policy " + p.PolicyName
		checkPathName(t, what, p.Path, p.PolicyName)
		checkID(t, what, p.PolicyID, "ANPA", ids)
		if want := customerPrefix + strings.TrimPrefix(p.Path, "/") + p.PolicyName; p.Arn != want {
			t.Errorf("%s: Arn %q, want %q", what, p.Arn, want)
		}
		if policies[p.Arn] != nil {
			t.Errorf("%s: duplicate ARN", what)
		}
		policies[p.Arn] = p
		checkDate(t, what, p.CreateDate, captured)
		checkDate(t, what, p.UpdateDate, captured)
		if p.UpdateDate < p.CreateDate {
			t.Errorf("%s: updated before created", what)
		}
		defaults := 0
		for _, v := range p.PolicyVersionList {
			checkDate(t, what+" "+v.VersionID, v.CreateDate, captured)
			document(t, what+" "+v.VersionID, v.Document)
			if v.IsDefaultVersion {
				defaults++
				if v.VersionID != p.DefaultVersionID {
					t.Errorf("%s: default version is %s but DefaultVersionId is %s", what, v.VersionID, p.DefaultVersionID)
				}
			}
		}
		if defaults != 1 {
			t.Errorf("%s: %d default versions in PolicyVersionList, want 1", what, defaults)
		}
	}

	// Count attachments as we go, to check AttachmentCount and
	// PermissionsBoundaryUsageCount.
	attachments := map[string]int{}
	boundaries := map[string]int{}
	checkAttached := func(what string, list []attachedPolicy) {
		t.Helper()
		seen := map[string]bool{}
		for _, a := range list {
			if seen[a.PolicyArn] {
				t.Errorf("%s: %s attached twice", what, a.PolicyArn)
			}
			seen[a.PolicyArn] = true
			attachments[a.PolicyArn]++
			switch {
			case strings.HasPrefix(a.PolicyArn, "arn:aws:iam::aws:policy/"):
			case strings.HasPrefix(a.PolicyArn, customerPrefix):
				if policies[a.PolicyArn] == nil {
					t.Errorf("%s: customer managed policy %s is not in Policies", what, a.PolicyArn)
				}
			default:
				t.Errorf("%s: %s is not a managed policy ARN of this account or AWS", what, a.PolicyArn)
			}
			if i := strings.LastIndexByte(a.PolicyArn, '/'); a.PolicyArn[i+1:] != a.PolicyName {
				t.Errorf("%s: PolicyName %q does not match %s", what, a.PolicyName, a.PolicyArn)
			}
		}
	}
	checkBoundary := func(what string, b *boundary) {
		t.Helper()
		if b == nil {
			return
		}
		if b.PermissionsBoundaryType != "Policy" {
			t.Errorf("%s: PermissionsBoundaryType %q", what, b.PermissionsBoundaryType)
		}
		boundaries[b.PermissionsBoundaryArn]++
		if strings.HasPrefix(b.PermissionsBoundaryArn, customerPrefix) && policies[b.PermissionsBoundaryArn] == nil {
			t.Errorf("%s: boundary %s is not in Policies", what, b.PermissionsBoundaryArn)
		}
	}

	groups := map[string]bool{}
	for _, gr := range g.GroupDetailList {
		what := "group " + gr.GroupName
		checkPathName(t, what, gr.Path, gr.GroupName)
		checkID(t, what, gr.GroupID, "AGPA", ids)
		if want := "arn:aws:iam::" + accountID + ":group" + gr.Path + gr.GroupName; gr.Arn != want {
			t.Errorf("%s: Arn %q, want %q", what, gr.Arn, want)
		}
		if groups[gr.GroupName] {
			t.Errorf("%s: duplicate group name", what)
		}
		groups[gr.GroupName] = true
		checkDate(t, what, gr.CreateDate, captured)
		checkAttached(what, gr.AttachedManagedPolicies)
		for _, p := range gr.GroupPolicyList {
			document(t, what+" inline "+p.PolicyName, p.PolicyDocument)
		}
	}

	for _, r := range g.RoleDetailList {
		what := "role " + r.RoleName
		checkPathName(t, what, r.Path, r.RoleName)
		checkID(t, what, r.RoleID, "AROA", ids)
		if want := "arn:aws:iam::" + accountID + ":role" + r.Path + r.RoleName; r.Arn != want {
			t.Errorf("%s: Arn %q, want %q", what, r.Arn, want)
		}
		checkDate(t, what, r.CreateDate, captured)
		document(t, what+" trust policy", r.AssumeRolePolicyDocument)
		for _, ip := range r.InstanceProfileList {
			checkID(t, what+" instance profile", ip.InstanceProfileID, "AIPA", ids)
			if len(ip.Roles) != 1 || ip.Roles[0].Arn != r.Arn || ip.Roles[0].RoleID != r.RoleID {
				t.Errorf("%s: instance profile %s does not hold the role", what, ip.InstanceProfileName)
			}
		}
		for _, p := range r.RolePolicyList {
			document(t, what+" inline "+p.PolicyName, p.PolicyDocument)
		}
		checkAttached(what, r.AttachedManagedPolicies)
		checkBoundary(what, r.PermissionsBoundary)
		if r.RoleLastUsed.LastUsedDate != "" {
			checkDate(t, what+" last used", r.RoleLastUsed.LastUsedDate, captured)
		}
	}

	names := map[string]bool{}
	var direct, noDirect, withBoundary, unevaluated []string
	for i := range g.UserDetailList {
		u := &g.UserDetailList[i]
		what := "user " + u.UserName
		checkPathName(t, what, u.Path, u.UserName)
		checkID(t, what, u.UserID, "AIDA", ids)
		if want := "arn:aws:iam::" + accountID + ":user" + u.Path + u.UserName; u.Arn != want {
			t.Errorf("%s: Arn %q, want %q", what, u.Arn, want)
		}
		if names[u.UserName] {
			t.Errorf("%s: duplicate user name", what)
		}
		names[u.UserName] = true
		checkDate(t, what, u.CreateDate, captured)
		for _, gn := range u.GroupList {
			if !groups[gn] {
				t.Errorf("%s: group %q is not in GroupDetailList", what, gn)
			}
		}
		if u.GroupList == nil || u.AttachedManagedPolicies == nil {
			t.Errorf("%s: GroupList and AttachedManagedPolicies must be present (possibly empty)", what)
		}
		if u.UserPolicyList != nil && len(*u.UserPolicyList) == 0 {
			t.Errorf("%s: an empty UserPolicyList is omitted in real outputs", what)
		}
		checkAttached(what, u.attached())
		checkBoundary(what, u.PermissionsBoundary)
		inlineNames := map[string]bool{}
		for _, p := range u.inline() {
			if inlineNames[p.PolicyName] {
				t.Errorf("%s: inline policy %q twice", what, p.PolicyName)
			}
			inlineNames[p.PolicyName] = true
			document(t, what+" inline "+p.PolicyName, p.PolicyDocument)
		}
		if u.EvaluationError != "" {
			unevaluated = append(unevaluated, u.UserName)
		} else if len(u.attached())+len(u.inline()) > 0 {
			direct = append(direct, u.UserName)
		} else {
			noDirect = append(noDirect, u.UserName)
		}
		if u.PermissionsBoundary != nil {
			withBoundary = append(withBoundary, u.UserName)
		}
	}
	if !slices.IsSorted(direct) || !slices.IsSorted(noDirect) {
		t.Error("UserDetailList is not sorted by user name")
	}
	if want := []string{"vendor-sync"}; !slices.Equal(unevaluated, want) {
		t.Errorf("users that could not be evaluated: got %q, want %q", unevaluated, want)
	}
	if !slices.Equal(direct, wantDirect) {
		t.Errorf("users with direct policies:\n got %q\nwant %q", direct, wantDirect)
	}
	if !slices.Equal(noDirect, wantNoDirect) {
		t.Errorf("users without direct policies:\n got %q\nwant %q", noDirect, wantNoDirect)
	}
	// One boundary user passes and one fails: a boundary is evidence only.
	if want := []string{"chloe.martin", "julia.novak", "sam.taylor"}; !slices.Equal(withBoundary, want) {
		t.Errorf("users with a permissions boundary: got %q, want %q", withBoundary, want)
	}
	if pass, fail := len(noDirect), len(direct)-len(wantExempt); pass != 9 || fail != 14 {
		t.Errorf("after exemptions: %d PASS, %d FAIL, want 9 and 14", pass, fail)
	}

	for arn, p := range policies {
		if p.AttachmentCount != attachments[arn] {
			t.Errorf("policy %s: AttachmentCount %d, but attached %d times", p.PolicyName, p.AttachmentCount, attachments[arn])
		}
		if p.PermissionsBoundaryUsageCount != boundaries[arn] {
			t.Errorf("policy %s: PermissionsBoundaryUsageCount %d, but used %d times", p.PolicyName, p.PermissionsBoundaryUsageCount, boundaries[arn])
		}
	}
}

func user(t *testing.T, s *snapshotFile, name string) *userDetail {
	t.Helper()
	for i := range s.AuthorizationDetails.UserDetailList {
		if u := &s.AuthorizationDetails.UserDetailList[i]; u.UserName == name {
			return u
		}
	}
	t.Fatalf("no user %q", name)
	return nil
}

// TestAccountShapes checks the features the demo exists to show.
func TestAccountShapes(t *testing.T) {
	s := decodeAccount(t)

	// The same inline document copied across users, under different names
	// and once with its keys in another order.
	byDoc := map[string][]string{}
	statementObject, actionString := false, false
	for _, u := range s.AuthorizationDetails.UserDetailList {
		for _, p := range u.inline() {
			doc := document(t, u.UserName+" "+p.PolicyName, p.PolicyDocument)
			byDoc[doc] = append(byDoc[doc], u.UserName)
			var d struct {
				Statement json.RawMessage
			}
			if err := json.Unmarshal(p.PolicyDocument, &d); err != nil {
				t.Fatal(err)
			}
			if bytes.HasPrefix(bytes.TrimSpace(d.Statement), []byte("{")) {
				statementObject = true
				var st struct{ Action json.RawMessage }
				if err := json.Unmarshal(d.Statement, &st); err != nil {
					t.Fatal(err)
				}
				actionString = actionString || bytes.HasPrefix(st.Action, []byte(`"`))
			}
		}
	}
	athena := user(t, s, "amelia.chen").inline()[0]
	got := byDoc[document(t, "athena", athena.PolicyDocument)]
	want := []string{"amelia.chen", "diego.ramirez", "hana.sato", "kenji.watanabe", "legacy-etl", "oliver.grant"}
	if !slices.Equal(got, want) {
		t.Errorf("users holding the athena-results document: got %q, want %q", got, want)
	}
	if user(t, s, "hana.sato").inline()[0].PolicyName == athena.PolicyName {
		t.Error("hana.sato should hold the athena-results document under another name")
	}
	sandbox := user(t, s, "ethan.brooks").inline()[0]
	if got := byDoc[document(t, "sandbox", sandbox.PolicyDocument)]; !slices.Equal(got, []string{"ethan.brooks", "fatima.zahra"}) {
		t.Errorf("users holding the sandbox document: %q", got)
	}
	if !statementObject || !actionString {
		t.Error("want an inline policy whose Statement is an object and whose Action is a string")
	}

	// legacy-etl stresses the 10-managed-policies-per-group quota.
	if n := len(user(t, s, "legacy-etl").attached()); n < 11 {
		t.Errorf("legacy-etl has %d managed policies, want at least 11", n)
	}

	// The four analysts and three finance users share one direct set each.
	sets := func(names ...string) {
		t.Helper()
		key := func(u *userDetail) string {
			var k []string
			for _, a := range u.attached() {
				k = append(k, a.PolicyArn)
			}
			for _, p := range u.inline() {
				k = append(k, document(t, "", p.PolicyDocument))
			}
			slices.Sort(k)
			return strings.Join(k, "\n")
		}
		first := key(user(t, s, names[0]))
		for _, n := range names[1:] {
			if key(user(t, s, n)) != first {
				t.Errorf("%s and %s should hold the same direct policies", names[0], n)
			}
		}
	}
	sets("amelia.chen", "diego.ramirez", "hana.sato", "oliver.grant")
	sets("grace.okafor", "martin.lewis", "sofia.russo")

	bg := user(t, s, "break-glass-admin")
	if !slices.Contains(bg.Tags, tag{"iamgroups:exempt", "break-glass"}) {
		t.Error("break-glass-admin lacks the iamgroups:exempt=break-glass tag")
	}
	if a := bg.attached(); len(a) != 1 || a[0].PolicyArn != "arn:aws:iam::aws:policy/AdministratorAccess" {
		t.Errorf("break-glass-admin: attached %v", a)
	}
	if a := user(t, s, "emma.johansson").attached(); len(a) != 1 || a[0].PolicyName != "IAMUserChangePassword" {
		t.Errorf("emma.johansson should hold only IAMUserChangePassword directly, has %v", a)
	}
}

// TestExemptions checks exemptions.yaml is valid YAML and that each entry
// points at something in the demo account.
func TestExemptions(t *testing.T) {
	var cfg map[string]any
	if err := yaml.Unmarshal(Exemptions, &cfg); err != nil {
		t.Fatalf("exemptions.yaml: %v", err)
	}
	if cfg["version"] != 1 {
		t.Errorf("version = %v, want 1", cfg["version"])
	}
	entries, ok := cfg["exemptions"].([]any)
	if !ok || len(entries) != 4 {
		t.Fatalf("exemptions: want a list of 4 entries, got %T %v", cfg["exemptions"], cfg["exemptions"])
	}

	s := decodeAccount(t)
	captured, _ := time.Parse(time.RFC3339, s.Metadata.CapturedAt)
	users := s.AuthorizationDetails.UserDetailList
	strs := func(v any) []string {
		list, _ := v.([]any)
		var out []string
		for _, x := range list {
			str, ok := x.(string)
			if !ok {
				t.Errorf("want a list of strings, got %v", v)
			}
			out = append(out, str)
		}
		return out
	}

	var matched []string // the users each entry matches, in order
	expired := 0
	for i, e := range entries {
		m, ok := e.(map[string]any)
		if !ok {
			t.Fatalf("entry %d is not a mapping", i)
		}
		for k := range m {
			if !slices.Contains([]string{"users", "tags", "policies", "reason", "expires"}, k) {
				t.Errorf("entry %d: unknown key %q", i, k)
			}
		}
		if r, _ := m["reason"].(string); r == "" {
			t.Errorf("entry %d: no reason", i)
		}
		if x, ok := m["expires"]; ok {
			var d time.Time
			switch v := x.(type) {
			case time.Time:
				d = v
			case string:
				var err error
				if d, err = time.Parse(time.DateOnly, v); err != nil {
					t.Errorf("entry %d: expires %q: %v", i, v, err)
				}
			default:
				t.Errorf("entry %d: expires %v is not a date", i, x)
			}
			if d.Before(captured) {
				expired++
			}
		}
		var who []string
		for _, u := range users {
			hit := false
			for _, n := range strs(m["users"]) {
				hit = hit || n == u.UserName || n == u.Arn
			}
			for _, kv := range strs(m["tags"]) {
				k, v, _ := strings.Cut(kv, "=")
				hit = hit || slices.Contains(u.Tags, tag{k, v})
			}
			for _, p := range strs(m["policies"]) {
				for _, a := range u.attached() {
					hit = hit || a.PolicyArn == p
				}
			}
			if hit {
				who = append(who, u.UserName)
			}
		}
		matched = append(matched, strings.Join(who, ","))
	}
	want := []string{"break-glass-admin", "kestrel-auditor", "emma.johansson,fatima.zahra", "ci-deployer"}
	if !slices.Equal(matched, want) {
		t.Errorf("users matched by each exemption: got %q, want %q", matched, want)
	}
	if expired != 1 {
		t.Errorf("%d expired exemptions, want 1", expired)
	}
}
