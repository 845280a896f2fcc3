package snapshot

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/policydoc"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func userNames(a *model.Account) []string {
	var names []string
	for _, u := range a.Users {
		names = append(names, u.Name)
	}
	return names
}

func TestLayouts(t *testing.T) {
	p1, p2 := fixture(t, "page1.json"), fixture(t, "page2.json")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(p1)
	zw.Write(p2)
	zw.Close()
	own := []byte(`{"metadata": {"account_id": "210987654321", "partition": "aws", "captured_at": "2026-11-01T08:00:00Z", "method": "gaad", "tool_version": "v0.1.0"},
	  "schema": "iamgroups.snapshot/v1", "authorization_details": [` + string(p1) + `,` + string(p2) + `]}`)

	tests := []struct {
		name        string
		data        []byte
		wantUsers   string
		wantPartial bool
		wantMethod  string
	}{
		{"one page, truncated", p1, "ana,ben", true, "gaad"},
		{"concatenated pages", append(append([]byte{}, p1...), p2...), "ana,ben,cy", false, "gaad"},
		{"array of pages", []byte("[" + string(p1) + ",\n" + string(p2) + "]"), "ana,ben,cy", false, "gaad"},
		{"gzip", gz.Bytes(), "ana,ben,cy", false, "gaad"},
		{"own format", own, "ana,ben,cy", false, "gaad"},
		{"second page only", p2, "cy", false, "gaad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			accounts, err := Decode(tt.data, "in.json", Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(accounts) != 1 {
				t.Fatalf("got %d accounts, want 1", len(accounts))
			}
			a := accounts[0]
			if got := strings.Join(userNames(a), ","); got != tt.wantUsers {
				t.Errorf("users = %s, want %s", got, tt.wantUsers)
			}
			if a.Partial != tt.wantPartial {
				t.Errorf("partial = %v, want %v (warnings %q)", a.Partial, tt.wantPartial, a.Warnings)
			}
			if tt.wantPartial && (len(a.Warnings) == 0 || !strings.Contains(a.Warnings[0], "IsTruncated")) {
				t.Errorf("warnings = %q, want one about IsTruncated", a.Warnings)
			}
			if a.ID != "210987654321" || a.Partition != "aws" || a.Source.Method != tt.wantMethod {
				t.Errorf("account %q partition %q method %q", a.ID, a.Partition, a.Source.Method)
			}
		})
	}
}

func TestOwnFormatMetadata(t *testing.T) {
	own := []byte(`{"schema": "iamgroups.snapshot/v1", "metadata": {"account_id": "210987654321", "partition": "aws-us-gov",
	  "captured_at": "2026-11-01T08:00:00Z", "method": "list", "tool_version": "v0.1.0"},
	  "authorization_details": {"UserDetailList": []}}`)
	accounts, err := Decode(own, "own.json", Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := accounts[0]
	if a.ID != "210987654321" || a.Partition != "aws-us-gov" || a.Source.Method != "list" ||
		a.Source.ToolVersion != "v0.1.0" || a.Source.CapturedAt.Format("2006-01-02") != "2026-11-01" {
		t.Errorf("metadata not carried: %+v", a)
	}
}

func TestBoundaryAndTagsAreEvidence(t *testing.T) {
	accounts, err := Decode(fixture(t, "page1.json"), "page1.json", Options{})
	if err != nil {
		t.Fatal(err)
	}
	ben := accounts[0].Users[1]
	if ben.PermissionsBoundary != "arn:aws:iam::210987654321:policy/boundary" || ben.DirectPolicyCount() != 0 {
		t.Errorf("ben = %+v", ben)
	}
	if v, ok := ben.TagValue("team"); !ok || v != "ops" {
		t.Errorf("tag team = %q %v", v, ok)
	}
}

func TestURLEncodedDocumentDigest(t *testing.T) {
	accounts, err := Decode(fixture(t, "page2.json"), "page2.json", Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := accounts[0].Users[0].InlinePolicies[0]
	want, err := policydoc.ParseString(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::reports/*"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != want.Digest || got.Name != "s3-reports" {
		t.Errorf("inline = %+v, want digest %s", got, want.Digest)
	}
}

func TestSeveralAccountsInOneFile(t *testing.T) {
	p2 := string(fixture(t, "page2.json"))
	other := strings.ReplaceAll(p2, "210987654321", "333344445555")
	accounts, err := Decode([]byte(p2+other), "two.json", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(accounts) != 2 || accounts[0].ID != "210987654321" || accounts[1].ID != "333344445555" {
		t.Fatalf("accounts = %d", len(accounts))
	}
}

func TestDuplicateUsersCountedOnce(t *testing.T) {
	p2 := string(fixture(t, "page2.json"))
	accounts, err := Decode([]byte(p2+p2), "dup.json", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(accounts[0].Users); n != 1 || len(accounts[0].Warnings) != 1 {
		t.Errorf("users = %d, warnings = %q; want 1 user and a warning", n, accounts[0].Warnings)
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"empty", "", "bad.json: file is empty"},
		{"blank", " \n\t", "bad.json: file is empty"},
		{"not JSON", "hello", "bad.json:1:1: invalid JSON"},
		{"broken", "{\n  \"UserDetailList\": [\n    {\"UserName\": \"a\",}\n  ]\n}", "bad.json:3:22: UserDetailList[0]: invalid JSON: unexpected '}', want a member name"},
		{"unterminated", `{"UserDetailList": [`, "bad.json:1:21: UserDetailList[0]: invalid JSON: unexpected end of input, want an object"},
		{"not GAAD", `{"Users": []}`, "is not a get-account-authorization-details output"},
		{"array of numbers", `[1, 2]`, "[0]: want an object, got number"},
		{"a string", `"x"`, "the file is not a get-account-authorization-details output"},
		{"wrong type", `{"UserDetailList": [{"UserName": 7, "Arn": "arn:aws:iam::210987654321:user/a"}]}`,
			"bad.json:1:34: UserDetailList[0].UserName: want a string, got number"},
		{"no name", `{"UserDetailList": [{"Arn": "arn:aws:iam::210987654321:user/a"}]}`, "UserDetailList[0]: user has no UserName"},
		{"no arn", `{"UserDetailList": [{"UserName": "a"}]}`, `UserDetailList[0]: user "a" has no Arn`},
		{"bad document", `{"UserDetailList": [{"UserName": "a", "Arn": "arn:aws:iam::210987654321:user/a", "UserPolicyList": [{"PolicyName": "p", "PolicyDocument": "%7Bbroken"}]}]}`,
			"UserDetailList[0].UserPolicyList[0].PolicyDocument: parse policy document"},
		{"future schema", `{"schema": "iamgroups.snapshot/v9", "authorization_details": {}}`, `"iamgroups.snapshot/v9" is not supported`},
		{"trailing garbage", `{"UserDetailList": []} ]`, "bad.json:1:24: invalid JSON"},
		{"bad gzip", "\x1f\x8b\x08\x00garbage", "bad.json: cannot decompress"},
		{"IsTruncated string", `{"UserDetailList": [], "IsTruncated": "yes"}`, "IsTruncated: want true or false, got string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.data), "bad.json", Options{})
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Errorf("error %T is not an *InputError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

func TestReadFileMissing(t *testing.T) {
	_, err := ReadFile(filepath.Join(t.TempDir(), "nope.json"), Options{})
	if err == nil || !strings.Contains(err.Error(), "nope.json: cannot read snapshot: no such file or directory") {
		t.Errorf("err = %v", err)
	}
}

func TestWriteRoundTrip(t *testing.T) {
	p1, p2 := fixture(t, "page1.json"), fixture(t, "page2.json")
	accounts, err := Decode(append(append([]byte{}, p1...), p2...), "in.json", Options{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "snap.json")
	if err := WriteFile(path, accounts[0], Metadata{Method: "gaad", ToolVersion: "test"}); err != nil {
		t.Fatal(err)
	}
	again, err := ReadFile(path, Options{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	a, b := accounts[0], again[0]
	if len(a.Users) != len(b.Users) {
		t.Fatalf("users %d != %d", len(a.Users), len(b.Users))
	}
	for i := range a.Users {
		ua, ub := a.Users[i], b.Users[i]
		if ua.ARN != ub.ARN || ua.PermissionsBoundary != ub.PermissionsBoundary || len(ua.AttachedPolicies) != len(ub.AttachedPolicies) ||
			len(ua.InlinePolicies) != len(ub.InlinePolicies) || strings.Join(ua.Groups, ",") != strings.Join(ub.Groups, ",") {
			t.Errorf("user %d differs:\n%+v\n%+v", i, ua, ub)
		}
		for j := range ua.InlinePolicies {
			if ua.InlinePolicies[j].Digest != ub.InlinePolicies[j].Digest {
				t.Errorf("inline digest changed for %s", ua.Name)
			}
		}
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("snapshot mode %v, want 0600 (it lists every user and policy)", fi.Mode().Perm())
	}
}

func TestValueAfterPageIsAnError(t *testing.T) {
	for _, tail := range []string{"null", `"x"`, "42", "true"} {
		_, err := Decode([]byte(oneUser("210987654321", "a", true)+" "+tail), "t.json", Options{})
		if err == nil || !strings.Contains(err.Error(), "value 2 of the file is not a get-account-authorization-details output") {
			t.Errorf("tail %s: err = %v", tail, err)
		}
	}
	if _, err := Decode([]byte(" [ ] "), "t.json", Options{}); err == nil {
		t.Error("an empty array was accepted")
	}
}

// oneUser is a GAAD page with one user, with or without a direct policy.
func oneUser(account, name string, direct bool) string {
	attached := ""
	if direct {
		attached = `{"PolicyName":"ReadOnlyAccess","PolicyArn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}`
	}
	return `{"UserDetailList":[{"UserName":"` + name + `","Arn":"arn:aws:iam::` + account + `:user/` + name +
		`","AttachedManagedPolicies":[` + attached + `]}]}`
}

func TestUsersBelongToTheirOwnARNsAccount(t *testing.T) {
	page := `{"UserDetailList":[
	  {"UserName":"a","Arn":"arn:aws:iam::111111111111:user/a"},
	  {"UserName":"b","Arn":"arn:aws-cn:iam::222222222222:user/b"}]}`
	accounts, err := Decode([]byte(page), "mixed.json", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(accounts) != 2 || accounts[0].ID != "111111111111" || accounts[1].ID != "222222222222" ||
		accounts[1].Partition != "aws-cn" || len(accounts[0].Users) != 1 || accounts[1].Users[0].Name != "b" {
		t.Fatalf("accounts: %+v", accounts)
	}
}

func TestPagesWithoutUsersContinueTheListing(t *testing.T) {
	// A full listing whose last pages hold only roles and AWS managed
	// policies: complete, one account.
	pages := `{"UserDetailList":[{"UserName":"a","Arn":"arn:aws:iam::111111111111:user/a"}],"IsTruncated":true,"Marker":"m1"}
	{"RoleDetailList":[{"RoleName":"r","Arn":"arn:aws:iam::111111111111:role/r"}],"Policies":[{"PolicyName":"ReadOnlyAccess","Arn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}],"IsTruncated":true,"Marker":"m2"}
	{"Policies":[{"PolicyName":"ViewOnlyAccess","Arn":"arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"}],"IsTruncated":false}`
	for _, full := range []bool{false, true} {
		accounts, err := Decode([]byte(pages), "pages.json", Options{Full: full})
		if err != nil {
			t.Fatal(err)
		}
		if len(accounts) != 1 || accounts[0].ID != "111111111111" || accounts[0].Partial {
			t.Errorf("full=%v: %d accounts, first %q partial=%v warnings %q", full, len(accounts), accounts[0].ID, accounts[0].Partial, accounts[0].Warnings)
		}
	}
}

func TestDuplicateUsersNeverHideAPolicy(t *testing.T) {
	clean, dirty := oneUser("111111111111", "a", false), oneUser("111111111111", "a", true)
	samePage := `{"UserDetailList":[{"UserName":"a","Arn":"arn:aws:iam::111111111111:user/a"},
	  {"UserName":"a","Arn":"arn:aws:iam::111111111111:user/a","AttachedManagedPolicies":[{"PolicyArn":"arn:aws:iam::aws:policy/X"}]}]}`
	for name, in := range map[string]string{"across pages": clean + dirty, "within a page": samePage} {
		accounts, err := Decode([]byte(in), "dup.json", Options{})
		if err != nil {
			t.Fatal(err)
		}
		a := accounts[0]
		if len(a.Users) != 1 || a.Users[0].DirectPolicyCount() != 1 || len(a.Warnings) != 1 || !strings.Contains(a.Warnings[0], "1 user is listed more than once") {
			t.Errorf("%s: %d users, %d direct policies, warnings %q", name, len(a.Users), a.Users[0].DirectPolicyCount(), a.Warnings)
		}
	}
}

func TestNoUsersIsAWarning(t *testing.T) {
	accounts, err := Decode([]byte(`{"RoleDetailList":[{"RoleName":"r","Arn":"arn:aws:iam::111111111111:role/r"}]}`), "roles.json", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(accounts[0].Warnings) != 1 || !strings.Contains(accounts[0].Warnings[0], "--filter User") {
		t.Errorf("warnings = %q", accounts[0].Warnings)
	}
}

func TestCompressionBombRefused(t *testing.T) {
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(bytes.Repeat([]byte(" "), minDecompressed+1))
	zw.Close()
	_, err := Decode(gz.Bytes(), "bomb.json.gz", Options{})
	if err == nil || !strings.Contains(err.Error(), "compression bomb") {
		t.Errorf("err = %v", err)
	}
}

func TestParseARNAccount(t *testing.T) {
	for arn, want := range map[string][2]string{
		"arn:aws:iam::123456789012:user/a":           {"123456789012", "aws"},
		"arn:aws-cn:iam::123456789012:user/p/a":      {"123456789012", "aws-cn"},
		"arn:aws-us-gov:iam::123456789012:group/g":   {"123456789012", "aws-us-gov"},
		"arn:aws:iam::aws:policy/ReadOnlyAccess":     {"", ""},
		"arn:aws:iam::12345678901:user/a":            {"", ""},
		"arn:aws:iam::12345678901x:user/a":           {"", ""},
		"x":                                          {"", ""},
		"arn:aws:iam:":                               {"", ""},
		"urn:aws:iam::123456789012:user/a":           {"", ""},
		"arn:aws:iam::123456789012:user/a:with:more": {"123456789012", "aws"},
	} {
		if a, p := ParseARNAccount(arn); a != want[0] || p != want[1] {
			t.Errorf("ParseARNAccount(%q) = %q, %q; want %q, %q", arn, a, p, want[0], want[1])
		}
	}
}
