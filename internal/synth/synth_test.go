package synth

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamgroups/iamgroups/internal/shareddata"
)

// The structs below mirror real get-account-authorization-details output,
// members in the order of the IAM service model (the order the AWS CLI
// prints). Optional members are omitempty so that re-encoding a decoded
// output reproduces it byte for byte only if the generator omitted exactly
// what real outputs omit.

type gaadJSON struct {
	UserDetailList  []userJSON          `json:"UserDetailList"`
	GroupDetailList []groupJSON         `json:"GroupDetailList"`
	RoleDetailList  []roleJSON          `json:"RoleDetailList"`
	Policies        []managedPolicyJSON `json:"Policies"`
	IsTruncated     bool                `json:"IsTruncated"`
}

type userJSON struct {
	Path                    string         `json:"Path"`
	UserName                string         `json:"UserName"`
	UserID                  string         `json:"UserId"`
	ARN                     string         `json:"Arn"`
	CreateDate              string         `json:"CreateDate"`
	UserPolicyList          []policyJSON   `json:"UserPolicyList,omitempty"`
	GroupList               []string       `json:"GroupList"`
	AttachedManagedPolicies []attachedJSON `json:"AttachedManagedPolicies"`
	PermissionsBoundary     *boundaryJSON  `json:"PermissionsBoundary,omitempty"`
	Tags                    []tagJSON      `json:"Tags,omitempty"`
}

type groupJSON struct {
	Path                    string         `json:"Path"`
	GroupName               string         `json:"GroupName"`
	GroupID                 string         `json:"GroupId"`
	ARN                     string         `json:"Arn"`
	CreateDate              string         `json:"CreateDate"`
	GroupPolicyList         []policyJSON   `json:"GroupPolicyList"`
	AttachedManagedPolicies []attachedJSON `json:"AttachedManagedPolicies"`
}

type roleJSON struct {
	Path                     string                `json:"Path"`
	RoleName                 string                `json:"RoleName"`
	RoleID                   string                `json:"RoleId"`
	ARN                      string                `json:"Arn"`
	CreateDate               string                `json:"CreateDate"`
	AssumeRolePolicyDocument json.RawMessage       `json:"AssumeRolePolicyDocument"`
	InstanceProfileList      []instanceProfileJSON `json:"InstanceProfileList"`
	RolePolicyList           []policyJSON          `json:"RolePolicyList"`
	AttachedManagedPolicies  []attachedJSON        `json:"AttachedManagedPolicies"`
	PermissionsBoundary      *boundaryJSON         `json:"PermissionsBoundary,omitempty"`
	Tags                     []tagJSON             `json:"Tags,omitempty"`
	RoleLastUsed             roleLastUsedJSON      `json:"RoleLastUsed"`
}

type instanceProfileJSON struct {
	Path                string         `json:"Path"`
	InstanceProfileName string         `json:"InstanceProfileName"`
	InstanceProfileID   string         `json:"InstanceProfileId"`
	ARN                 string         `json:"Arn"`
	CreateDate          string         `json:"CreateDate"`
	Roles               []roleHeadJSON `json:"Roles"`
}

type roleHeadJSON struct {
	Path                     string          `json:"Path"`
	RoleName                 string          `json:"RoleName"`
	RoleID                   string          `json:"RoleId"`
	ARN                      string          `json:"Arn"`
	CreateDate               string          `json:"CreateDate"`
	AssumeRolePolicyDocument json.RawMessage `json:"AssumeRolePolicyDocument"`
}

type roleLastUsedJSON struct {
	LastUsedDate string `json:"LastUsedDate,omitempty"`
	Region       string `json:"Region,omitempty"`
}

type managedPolicyJSON struct {
	PolicyName                    string              `json:"PolicyName"`
	PolicyID                      string              `json:"PolicyId"`
	ARN                           string              `json:"Arn"`
	Path                          string              `json:"Path"`
	DefaultVersionID              string              `json:"DefaultVersionId"`
	AttachmentCount               int                 `json:"AttachmentCount"`
	PermissionsBoundaryUsageCount int                 `json:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool                `json:"IsAttachable"`
	CreateDate                    string              `json:"CreateDate"`
	UpdateDate                    string              `json:"UpdateDate"`
	PolicyVersionList             []policyVersionJSON `json:"PolicyVersionList"`
}

type policyVersionJSON struct {
	Document         json.RawMessage `json:"Document"`
	VersionID        string          `json:"VersionId"`
	IsDefaultVersion bool            `json:"IsDefaultVersion"`
	CreateDate       string          `json:"CreateDate"`
}

type policyJSON struct {
	PolicyName     string          `json:"PolicyName"`
	PolicyDocument json.RawMessage `json:"PolicyDocument"`
}

type attachedJSON struct {
	PolicyName string `json:"PolicyName"`
	PolicyArn  string `json:"PolicyArn"`
}

type boundaryJSON struct {
	PermissionsBoundaryType string `json:"PermissionsBoundaryType"`
	PermissionsBoundaryArn  string `json:"PermissionsBoundaryArn"`
}

type tagJSON struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

func write(t testing.TB, o Options) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, o); err != nil {
		t.Fatalf("Write(%+v): %v", o, err)
	}
	return b.Bytes()
}

func decodeStrict(t testing.TB, data []byte) gaadJSON {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	var g gaadJSON
	if err := d.Decode(&g); err != nil {
		t.Fatalf("decode output: %v", err)
	}
	if _, err := d.Token(); err != io.EOF {
		t.Fatalf("decode output: trailing data after the object (%v)", err)
	}
	return g
}

// failing is IAM-071 computed independently of the generator.
func failing(g gaadJSON) []string {
	var names []string
	for _, u := range g.UserDetailList {
		if len(u.AttachedManagedPolicies) > 0 || len(u.UserPolicyList) > 0 {
			names = append(names, u.UserName)
		}
	}
	slices.Sort(names)
	return names
}

// sharedGAAD is the folder of real GAAD outputs; tests that need it skip
// without it, except under CI.
func sharedGAAD(t *testing.T) string {
	t.Helper()
	return shareddata.Path(t, "gaad")
}

func TestMirrorStructsMatchRealOutput(t *testing.T) {
	// The mirror structs must know every member a real output has, so that
	// decoding the generator's output strictly proves it uses real names.
	data, err := os.ReadFile(filepath.Join(sharedGAAD(t), "cloudsplaining-example-authz-details.json"))
	if err != nil {
		t.Fatal(err)
	}
	g := decodeStrict(t, data)
	want := []string{"biden", "obama", "userwithlotsofpermissions"}
	if got := failing(g); !slices.Equal(got, want) {
		t.Errorf("failing users of the real sample = %v, want %v", got, want)
	}
	// Real outputs omit UserPolicyList for a user without inline policies
	// (obama, the first user), which the generator must reproduce.
	first, _, _ := bytes.Cut(data, []byte(`"UserName": "userwithlotsofpermissions"`))
	if !bytes.Contains(first, []byte(`"UserName": "obama"`)) || bytes.Contains(first, []byte("UserPolicyList")) {
		t.Errorf("real sample: expected obama first and without a UserPolicyList key")
	}
}

func TestFormatMatchesAWSCLI(t *testing.T) {
	// The AWS CLI prints with Python's json.dumps(indent=4,
	// ensure_ascii=False); reformatting our output that way must not change
	// a byte.
	python, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python3 missing")
		}
		t.Skip("python3 not installed; skipping")
	}
	for _, o := range []Options{{Users: 1000, Seed: 5, Indent: true}, {Users: 300, Seed: 6, Indent: true, URLEncode: true}} {
		out := write(t, o)
		cmd := exec.Command(python, "-c", "import json,sys; d=json.load(sys.stdin); sys.stdout.write(json.dumps(d, indent=4, ensure_ascii=False) + '\\n')")
		cmd.Stdin = bytes.NewReader(out)
		cmd.Stderr = os.Stderr
		got, err := cmd.Output()
		if err != nil {
			t.Fatalf("python3: %v", err)
		}
		if !bytes.Equal(got, out) {
			t.Errorf("%+v: json.dumps reformats the output", o)
		}
	}
}

func TestDeterministic(t *testing.T) {
	for _, o := range []Options{
		{Users: 300, Seed: 7, Indent: true},
		{Users: 300, Seed: 7},
		{Users: 300, Seed: 7, URLEncode: true, Indent: true},
		{Users: 300, Seed: 7, AccountID: "210987654321", Partition: "aws-cn"},
	} {
		a, b := write(t, o), write(t, o)
		if !bytes.Equal(a, b) {
			t.Errorf("%+v: two runs differ", o)
		}
		if !slices.Equal(Expected(o), Expected(o)) {
			t.Errorf("%+v: Expected differs between runs", o)
		}
		o2 := o
		o2.Seed++
		if bytes.Equal(a, write(t, o2)) {
			t.Errorf("%+v: seeds %d and %d give the same output", o, o.Seed, o2.Seed)
		}
	}
	// The format options change the printing, not the account.
	base := Options{Users: 200, Seed: 3}
	for _, o := range []Options{{Users: 200, Seed: 3, Indent: true}, {Users: 200, Seed: 3, URLEncode: true}} {
		if !slices.Equal(Expected(o), Expected(base)) {
			t.Errorf("%+v: Expected differs from %+v", o, base)
		}
	}
}

func TestOutputReencodesIdentically(t *testing.T) {
	// Decoding strictly into the mirror structs and encoding them again
	// gives the same bytes: no unknown members, members in service-model
	// order, optional members omitted exactly when empty, and the AWS CLI's
	// formatting (4 spaces, ": ", "[]" for empty lists).
	for _, o := range []Options{
		{Users: 500, Seed: 1, Indent: true},
		{Users: 500, Seed: 2},
		{Users: 500, Seed: 3, Indent: true, URLEncode: true},
		{Users: 500, Seed: 4, URLEncode: true},
		{Users: 0, Seed: 5, Indent: true},
	} {
		out := write(t, o)
		if !json.Valid(out) {
			t.Fatalf("%+v: output is not valid JSON", o)
		}
		g := decodeStrict(t, out)
		var again []byte
		var err error
		if o.Indent {
			again, err = json.MarshalIndent(g, "", "    ")
		} else {
			again, err = json.Marshal(g)
		}
		if err != nil {
			t.Fatal(err)
		}
		again = append(again, '\n')
		if !bytes.Equal(out, again) {
			i := 0
			for i < len(out) && i < len(again) && out[i] == again[i] {
				i++
			}
			lo := max(0, i-200)
			t.Fatalf("%+v: re-encoding differs at byte %d:\noutput: %q\nre-encoded: %q", o, i,
				out[lo:min(len(out), i+100)], again[lo:min(len(again), i+100)])
		}
	}
}

var (
	userIDPattern   = regexp.MustCompile(`^AIDA[A-Z0-9]{17}$`)
	groupIDPattern  = regexp.MustCompile(`^AGPA[A-Z0-9]{17}$`)
	roleIDPattern   = regexp.MustCompile(`^AROA[A-Z0-9]{17}$`)
	policyIDPattern = regexp.MustCompile(`^ANPA[A-Z0-9]{17}$`)
	userNamePattern = regexp.MustCompile(`^[a-z]+-[a-z]+-[0-9]{4,}$`)
	pathPattern     = regexp.MustCompile(`^/([A-Za-z0-9._-]+/)*$`)
)

func compact(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func checkDate(t *testing.T, what, s string) {
	t.Helper()
	if _, err := time.Parse(time.RFC3339, s); err != nil || !strings.HasSuffix(s, "Z") || len(s) != 20 {
		t.Errorf("%s: date %q is not ISO 8601 UTC with Z", what, s)
	}
}

func TestShape(t *testing.T) {
	const acct, part = "210987654321", "aws-us-gov"
	o := Options{Users: 2000, Seed: 11, AccountID: acct, Partition: part, Indent: true}
	out := write(t, o)
	g := decodeStrict(t, out)
	if len(g.UserDetailList) != o.Users {
		t.Fatalf("%d users, want %d", len(g.UserDetailList), o.Users)
	}
	if n := len(g.RoleDetailList); n != o.Users/50 {
		t.Errorf("%d roles, want %d", n, o.Users/50)
	}
	if n := len(g.GroupDetailList); n != 20 {
		t.Errorf("%d groups, want 20", n)
	}
	if g.IsTruncated {
		t.Error("IsTruncated is true")
	}
	if n := bytes.Count(out, []byte(`"UserPolicyList": []`)); n != 0 {
		t.Errorf("%d users with an empty UserPolicyList; real outputs omit the key", n)
	}

	prefix := "arn:" + part + ":iam::" + acct + ":"
	awsPrefix := "arn:" + part + ":iam::aws:policy/"
	groups := map[string]bool{}
	for _, gr := range g.GroupDetailList {
		groups[gr.GroupName] = true
		if !groupIDPattern.MatchString(gr.GroupID) || gr.ARN != prefix+"group"+gr.Path+gr.GroupName || !pathPattern.MatchString(gr.Path) {
			t.Errorf("group %+v: bad ID, path or ARN", gr)
		}
		checkDate(t, gr.GroupName, gr.CreateDate)
	}
	policies := map[string]managedPolicyJSON{}
	for _, p := range g.Policies {
		policies[p.ARN] = p
		if !policyIDPattern.MatchString(p.PolicyID) || p.ARN != prefix+"policy"+p.Path+p.PolicyName {
			t.Errorf("policy %s: bad ID or ARN", p.PolicyName)
		}
		if p.DefaultVersionID != "v1" || len(p.PolicyVersionList) != 1 || p.PolicyVersionList[0].VersionID != "v1" ||
			!p.PolicyVersionList[0].IsDefaultVersion || !p.IsAttachable {
			t.Errorf("policy %s: want one default version v1", p.PolicyName)
		}
		checkDate(t, p.PolicyName, p.CreateDate)
		checkDate(t, p.PolicyName, p.UpdateDate)
		if p.UpdateDate < p.CreateDate {
			t.Errorf("policy %s updated before created", p.PolicyName)
		}
	}
	attachments := map[string]int{}
	boundaryUses := map[string]int{}
	checkAttached := func(who string, as []attachedJSON) {
		for _, a := range as {
			if !strings.HasSuffix(a.PolicyArn, "/"+a.PolicyName) {
				t.Errorf("%s: ARN %s does not end with name %s", who, a.PolicyArn, a.PolicyName)
			}
			switch {
			case strings.HasPrefix(a.PolicyArn, awsPrefix):
			case strings.HasPrefix(a.PolicyArn, prefix+"policy/"):
				if _, ok := policies[a.PolicyArn]; !ok {
					t.Errorf("%s: customer managed %s missing from Policies", who, a.PolicyArn)
				}
				attachments[a.PolicyArn]++
			default:
				t.Errorf("%s: policy ARN %s has a wrong partition or account", who, a.PolicyArn)
			}
		}
	}
	checkBoundary := func(who string, b *boundaryJSON) {
		if b == nil {
			return
		}
		if b.PermissionsBoundaryType != "Policy" {
			t.Errorf("%s: boundary type %q", who, b.PermissionsBoundaryType)
		}
		if strings.HasPrefix(b.PermissionsBoundaryArn, prefix) {
			boundaryUses[b.PermissionsBoundaryArn]++
		}
	}

	names := map[string]bool{}
	ids := map[string]bool{}
	var paths, withBoundary, withTags int
	for i, u := range g.UserDetailList {
		if names[u.UserName] || ids[u.UserID] {
			t.Errorf("duplicate user name or ID: %s %s", u.UserName, u.UserID)
		}
		names[u.UserName], ids[u.UserID] = true, true
		if i > 0 && g.UserDetailList[i-1].UserName >= u.UserName {
			t.Errorf("users not sorted at %s", u.UserName)
		}
		if !userNamePattern.MatchString(u.UserName) || !userIDPattern.MatchString(u.UserID) {
			t.Errorf("user %s %s: bad name or ID", u.UserName, u.UserID)
		}
		if !pathPattern.MatchString(u.Path) || u.ARN != prefix+"user"+u.Path+u.UserName {
			t.Errorf("user %s: path %q, ARN %q", u.UserName, u.Path, u.ARN)
		}
		if u.Path != "/" {
			paths++
		}
		checkDate(t, u.UserName, u.CreateDate)
		for _, gn := range u.GroupList {
			if !groups[gn] {
				t.Errorf("user %s: unknown group %s", u.UserName, gn)
			}
		}
		if u.UserPolicyList != nil && len(u.UserPolicyList) == 0 {
			t.Errorf("user %s: empty UserPolicyList present", u.UserName)
		}
		seen := map[string]bool{}
		for _, p := range u.UserPolicyList {
			if seen[p.PolicyName] {
				t.Errorf("user %s: inline policy %s twice", u.UserName, p.PolicyName)
			}
			seen[p.PolicyName] = true
		}
		if len(u.AttachedManagedPolicies) > 3 || len(u.UserPolicyList) > 2 {
			t.Errorf("user %s: %d managed, %d inline", u.UserName, len(u.AttachedManagedPolicies), len(u.UserPolicyList))
		}
		checkAttached(u.UserName, u.AttachedManagedPolicies)
		checkBoundary(u.UserName, u.PermissionsBoundary)
		if u.PermissionsBoundary != nil {
			withBoundary++
		}
		if len(u.Tags) > 0 {
			withTags++
		}
	}
	for _, gr := range g.GroupDetailList {
		checkAttached(gr.GroupName, gr.AttachedManagedPolicies)
	}
	for _, r := range g.RoleDetailList {
		if !roleIDPattern.MatchString(r.RoleID) || r.ARN != prefix+"role"+r.Path+r.RoleName {
			t.Errorf("role %s: bad ID or ARN %s", r.RoleName, r.ARN)
		}
		checkDate(t, r.RoleName, r.CreateDate)
		if (r.RoleLastUsed.LastUsedDate == "") != (r.RoleLastUsed.Region == "") {
			t.Errorf("role %s: half a RoleLastUsed", r.RoleName)
		}
		if r.RoleLastUsed.LastUsedDate != "" && r.RoleLastUsed.LastUsedDate < r.CreateDate {
			t.Errorf("role %s used before created", r.RoleName)
		}
		for _, ip := range r.InstanceProfileList {
			if len(ip.Roles) != 1 || ip.Roles[0].RoleName != r.RoleName || compact(t, ip.Roles[0].AssumeRolePolicyDocument) != compact(t, r.AssumeRolePolicyDocument) {
				t.Errorf("role %s: instance profile does not hold the role", r.RoleName)
			}
		}
		checkAttached(r.RoleName, r.AttachedManagedPolicies)
		checkBoundary(r.RoleName, r.PermissionsBoundary)
	}
	for arn, p := range policies {
		if p.AttachmentCount != attachments[arn] || p.PermissionsBoundaryUsageCount != boundaryUses[arn] {
			t.Errorf("policy %s: counts %d/%d, observed %d/%d", arn, p.AttachmentCount,
				p.PermissionsBoundaryUsageCount, attachments[arn], boundaryUses[arn])
		}
		if p.AttachmentCount+p.PermissionsBoundaryUsageCount == 0 {
			t.Errorf("policy %s is listed but not used", arn)
		}
	}
	n := float64(o.Users)
	for _, c := range []struct {
		what     string
		got      int
		min, max float64
	}{
		{"users with a permissions boundary", withBoundary, 0.03, 0.07},
		{"users with tags", withTags, 0.15, 0.25},
		{"users outside path /", paths, 0.12, 0.28},
	} {
		if f := float64(c.got) / n; f < c.min || f > c.max {
			t.Errorf("%s: %.3f, want %.2f..%.2f", c.what, f, c.min, c.max)
		}
	}
}

func TestMix(t *testing.T) {
	for _, n := range []int{100, 1000, 4321} {
		g := decodeStrict(t, write(t, Options{Users: n, Seed: int64(n)}))
		acctPolicy := "arn:aws:iam::" + DefaultAccountID + ":policy/"
		counts := map[string]int{}
		docs := map[string]int{}
		for _, u := range g.UserDetailList {
			var aws, cust bool
			for _, a := range u.AttachedManagedPolicies {
				if strings.HasPrefix(a.PolicyArn, acctPolicy) {
					cust = true
				} else {
					aws = true
				}
			}
			inline := len(u.UserPolicyList) > 0
			switch {
			case inline && (aws || cust):
				counts["both"]++
			case inline:
				counts["inline"]++
			case aws && cust:
				t.Errorf("user %s: AWS and customer managed but no inline policy", u.UserName)
			case aws:
				counts["aws"]++
			case cust:
				counts["cust"]++
			default:
				counts["compliant"]++
			}
			for _, p := range u.UserPolicyList {
				docs[string(p.PolicyDocument)]++
			}
		}
		// Exact shares, rounded by largest remainder.
		want := map[string]int{"compliant": n * 55 / 100, "aws": n * 20 / 100, "cust": n * 5 / 100, "inline": n * 12 / 100, "both": n * 8 / 100}
		total := 0
		for k, v := range counts {
			if d := v - want[k]; d < 0 || d > 1 {
				t.Errorf("n=%d: %s users %d, want %d (+1 for rounding)", n, k, v, want[k])
			}
			total += v
		}
		if total != n {
			t.Errorf("n=%d: categories cover %d users", n, total)
		}
		if n >= 1000 {
			var once, all int
			for _, c := range docs {
				all += c
				if c == 1 {
					once++
				}
			}
			if f := float64(once) / float64(all); f < 0.12 || f > 0.30 {
				t.Errorf("n=%d: %.2f of inline documents are unique, want about 0.20", n, f)
			}
		}
	}
}

func TestExpectedMatchesDecodedOutput(t *testing.T) {
	for _, o := range []Options{
		{Users: 0, Seed: 1},
		{Users: 1, Seed: 1},
		{Users: 7, Seed: 2, Indent: true},
		{Users: 1000, Seed: 3, URLEncode: true},
		{Users: 3000, Seed: -9, AccountID: "000000000001", Partition: "aws-cn", Indent: true},
	} {
		got := Expected(o)
		want := failing(decodeStrict(t, write(t, o)))
		if !slices.Equal(got, want) {
			t.Errorf("%+v: Expected gives %d users, the output %d", o, len(got), len(want))
		}
		if !slices.IsSorted(got) {
			t.Errorf("%+v: Expected is not sorted", o)
		}
	}
}

var percentEncoded = regexp.MustCompile(`^(?:[A-Za-z0-9._~-]|%[0-9A-F]{2})+$`)

// decodeDocs replaces every percent-encoded document in a decoded output
// by the JSON value it encodes.
func decodeDocs(t *testing.T, v any, n *int) any {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if k != "PolicyDocument" && k != "AssumeRolePolicyDocument" && k != "Document" {
				v[k] = decodeDocs(t, x, n)
				continue
			}
			s, ok := x.(string)
			if !ok {
				t.Fatalf("%s is %T, want a percent-encoded string", k, x)
			}
			if !percentEncoded.MatchString(s) {
				t.Fatalf("%s %q: characters outside RFC 3986 percent-encoding", k, s)
			}
			text, err := url.PathUnescape(s)
			if err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			if q, err := url.QueryUnescape(s); err != nil || q != text {
				t.Fatalf("%s: query and path unescaping disagree", k)
			}
			var doc any
			if err := json.Unmarshal([]byte(text), &doc); err != nil {
				t.Fatalf("%s: decoded text is not JSON: %v\n%s", k, err, text)
			}
			v[k] = doc
			*n++
		}
	case []any:
		for i := range v {
			v[i] = decodeDocs(t, v[i], n)
		}
	}
	return v
}

func TestURLEncodeRoundTrip(t *testing.T) {
	plain := Options{Users: 800, Seed: 21, Indent: true}
	encoded := plain
	encoded.URLEncode = true
	var want, got any
	if err := json.Unmarshal(write(t, plain), &want); err != nil {
		t.Fatal(err)
	}
	out := write(t, encoded)
	if !bytes.Contains(out, []byte(`"%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A`)) {
		t.Error("no compact percent-encoded document like IAM returns")
	}
	if !bytes.Contains(out, []byte(`"%7B%0A%20%20%20%20%22Version%22%3A%20%222012-10-17%22`)) {
		t.Error("no console-formatted percent-encoded document")
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	n := 0
	got = decodeDocs(t, got, &n)
	if n < 100 {
		t.Errorf("only %d documents decoded", n)
	}
	if !reflect.DeepEqual(got, want) {
		t.Error("URL-encoded output does not decode to the plain output")
	}
}

func TestSizes(t *testing.T) {
	sizes := []struct {
		users    int
		indent   bool
		min, max int
	}{
		{5000, true, 3_500_000, 4_200_000},
		{5000, false, 1_800_000, 2_200_000},
		{100000, true, 70_000_000, 84_000_000},
		{100000, false, 36_000_000, 42_000_000},
	}
	for _, s := range sizes {
		if s.users > 5000 && testing.Short() {
			continue
		}
		var c countingWriter
		if err := Write(&c, Options{Users: s.users, Seed: 1, Indent: s.indent}); err != nil {
			t.Fatal(err)
		}
		t.Logf("users=%d indent=%v: %d bytes (%.0f per user)", s.users, s.indent, c.n, float64(c.n)/float64(s.users))
		if c.n < s.min || c.n > s.max {
			t.Errorf("users=%d indent=%v: %d bytes, want %d..%d", s.users, s.indent, c.n, s.min, s.max)
		}
	}
}

type countingWriter struct{ n int }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += len(p)
	return len(p), nil
}

type failingWriter struct{ after int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.after < len(p) {
		return 0, errors.New("disk full")
	}
	f.after -= len(p)
	return len(p), nil
}

func TestWriteErrors(t *testing.T) {
	if err := Write(&failingWriter{after: 100_000}, Options{Users: 2000, Seed: 1}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("write to a failing writer: %v", err)
	}
	for _, o := range []Options{
		{Users: -1},
		{Users: 1, AccountID: "12345"},
		{Users: 1, AccountID: "12345678901x"},
		{Users: 1, Partition: "AWS"},
	} {
		err := Write(io.Discard, o)
		if !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%+v: error %v, want ErrInvalidOptions", o, err)
		}
		if Expected(o) != nil {
			t.Errorf("%+v: Expected is not nil", o)
		}
	}
}

func TestQuote(t *testing.T) {
	for _, s := range []string{"", "plain", `quo"te`, `back\slash`, "new\nline\ttab\r\b\f", "\x00\x01\x1f\x7f", "ünïcödé ☃", "<&>", "${aws:username}"} {
		var b bytes.Buffer
		w := bufio.NewWriter(&b)
		newEmitter(w, 4).str(s)
		w.Flush()
		var got string
		if err := json.Unmarshal(b.Bytes(), &got); err != nil || got != s {
			t.Errorf("quote(%q) = %s, decodes to %q (%v)", s, b.Bytes(), got, err)
		}
	}
}

func FuzzPercentEncode(f *testing.F) {
	f.Add([]byte(`{"Version": "2012-10-17", "Statement": {"Action": "s3:*", "Resource": "*"}}`))
	f.Add([]byte("a b+c%d/é~"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := percentEncode(b)
		got, err := url.PathUnescape(s)
		if err != nil || got != string(b) {
			t.Fatalf("PathUnescape(percentEncode(%q)) = %q, %v", b, got, err)
		}
		if len(b) > 0 && !percentEncoded.MatchString(s) {
			t.Fatalf("percentEncode(%q) = %q has reserved characters", b, s)
		}
	})
}

func BenchmarkWrite(b *testing.B) {
	for _, o := range []Options{
		{Users: 5000, Seed: 1, Indent: true},
		{Users: 5000, Seed: 1, URLEncode: true},
	} {
		name := "indent"
		if o.URLEncode {
			name = "urlencode"
		}
		b.Run(name, func(b *testing.B) {
			var c countingWriter
			if err := Write(&c, o); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(c.n))
			b.ReportAllocs()
			for b.Loop() {
				if err := Write(io.Discard, o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
