package report

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/rule"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// fixture is a report that exercises every part of every format: each
// status, two accounts (one partial), a warning, API call counts, a footer,
// a permissions boundary, exemptions current and expired, a policy
// exemption and source locations.
func fixture() *Report {
	prodCaptured := time.Date(2025, 5, 31, 10, 30, 0, 0, time.FixedZone("CEST", 2*60*60))
	results := []rule.Result{
		{
			RuleID: "IAM-071", Status: rule.Pass, Risk: rule.Medium,
			AccountID: "111111111111", UserName: "alice",
			UserARN:             "arn:aws:iam::111111111111:user/alice",
			Groups:              []string{"Admins", "Developers"},
			PermissionsBoundary: "arn:aws:iam::111111111111:policy/boundaries/DevBoundary",
			Message:             "no direct policies",
		},
		{
			RuleID: "IAM-071", Status: rule.Fail, Risk: rule.Medium,
			AccountID: "111111111111", UserName: "bob",
			UserARN: "arn:aws:iam::111111111111:user/eng/bob",
			Groups:  []string{"Developers"},
			Violations: []rule.Violation{
				{Kind: "managed", Name: "ReadOnlyAccess", ARN: "arn:aws:iam::aws:policy/ReadOnlyAccess",
					Location: &model.Location{File: "snap-prod.json", Line: 131, Column: 11}},
				{Kind: "inline", Name: "S3Access", Digest: "sha256:3f1c0a9e5b7d2c4f6a8e0b1d3c5f7a9e2b4d6f8a0c2e4b6d8f0a1c3e5b7d9f1a"},
			},
			Location: &model.Location{File: "snap-prod.json", Line: 120, Column: 7},
		},
		{
			RuleID: "IAM-071", Status: rule.Exempt, Risk: rule.Medium,
			AccountID: "111111111111", UserName: "carol",
			UserARN: "arn:aws:iam::111111111111:user/carol",
			Violations: []rule.Violation{
				{Kind: "managed", Name: "AdministratorAccess", ARN: "arn:aws:iam::aws:policy/AdministratorAccess"},
			},
			Exemption: &rule.Exemption{ID: "exemptions[0] user carol", Reason: "break-glass account, reviewed quarterly", Expires: "2030-01-01"},
		},
		{
			RuleID: "IAM-071", Status: rule.Fail, Risk: rule.Medium,
			AccountID: "222222222222", UserName: "erin",
			UserARN: "arn:aws:iam::222222222222:user/erin",
			Groups:  []string{"Ops"},
			Violations: []rule.Violation{
				{Kind: "inline", Name: "LegacyDeploy", Digest: "sha256:9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b"},
			},
			Exemption: &rule.Exemption{ID: "exemptions[1] user erin", Reason: "migration to groups in progress", Expires: "2024-01-01", Expired: true},
		},
		{
			RuleID: "IAM-071", Status: rule.Fail, Risk: rule.Medium,
			AccountID: "222222222222", UserName: "frank",
			UserARN: "arn:aws:iam::222222222222:user/frank",
			Violations: []rule.Violation{
				{Kind: "managed", Name: "IAMUserChangePassword", ARN: "arn:aws:iam::aws:policy/IAMUserChangePassword",
					Exemption: &rule.Exemption{ID: "exemptions[2] policy IAMUserChangePassword", Reason: "users change their own password"}},
				{Kind: "managed", Name: "PowerUserAccess", ARN: "arn:aws:iam::aws:policy/PowerUserAccess"},
			},
		},
		{
			RuleID: "IAM-071", Status: rule.Error, Risk: rule.Medium,
			AccountID: "222222222222", UserName: "grace",
			UserARN: "arn:aws:iam::222222222222:user/grace",
			Message: "could not be evaluated: AccessDenied: iam:ListAttachedUserPolicies",
		},
	}
	for i := range results {
		if results[i].Status == rule.Fail && results[i].Message == "" {
			results[i].Message = rule.FailMessage(results[i].Violations)
		}
		if results[i].Status == rule.Exempt {
			results[i].Message = rule.FailMessage(results[i].Violations)
		}
	}
	return &Report{
		GeneratedAt: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC),
		ToolVersion: "1.2.3",
		Accounts: []AccountInfo{
			{
				ID:      "111111111111",
				Source:  model.Source{Kind: "snapshot", Name: "snap-prod.json", Method: "gaad", CapturedAt: prodCaptured, ToolVersion: "1.2.0"},
				Summary: rule.Summarize(results[:3]),
			},
			{
				ID:      "222222222222",
				Source:  model.Source{Kind: "live", Name: "dev", Method: "list"},
				Partial: true,
				Summary: rule.Summarize(results[3:]),
			},
		},
		Results:  results,
		Summary:  rule.Summarize(results),
		Partial:  true,
		Warnings: []string{"account 222222222222: GetAccountAuthorizationDetails denied; used the per-user listing"},
		APICalls: map[string]int{
			"ListUsers": 1, "ListAttachedUserPolicies": 3, "ListUserPolicies": 3,
			"GetUserPolicy": 1, "ListGroupsForUser": 3, "GetAccountAuthorizationDetails": 2,
		},
		Footer: "Run `iamgroups plan` to design the groups that replace these direct policies.",
	}
}

func render(t testing.TB, format string, opts Options, r *Report) []byte {
	t.Helper()
	w, err := New(format, opts)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := w.Write(&buf, r); err != nil {
		t.Fatalf("%s: %v", format, err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	cases := []struct {
		name   string
		format string
		opts   Options
	}{
		{"table", "table", Options{}},
		{"table_color", "table", Options{Color: true}},
		{"json", "json", Options{}},
		{"csv", "csv", Options{}},
		{"sarif", "sarif", Options{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := render(t, c.format, c.opts, fixture())
			path := filepath.Join("testdata", "golden", c.name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run `go test ./internal/report -run TestGolden -update` to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (rerun with -update if the change is intended):\n%s",
					c.name, path, firstDifference(want, got))
			}
		})
	}
}

// firstDifference describes where got first departs from want, line by
// line, with escapes visible.
func firstDifference(want, got []byte) string {
	wl := strings.SplitAfter(string(want), "\n")
	gl := strings.SplitAfter(string(got), "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n  want %q\n  got  %q", i+1, w, g)
		}
	}
	return "no difference"
}

func TestFormats(t *testing.T) {
	if got, want := Formats(), []string{"table", "json", "csv", "sarif"}; !slices.Equal(got, want) {
		t.Errorf("Formats() = %q, want %q", got, want)
	}
	if len(writers) != len(formats) {
		t.Errorf("%d writers for %d format names", len(writers), len(formats))
	}
	for _, f := range Formats() {
		if w, err := New(f, Options{}); err != nil || w == nil {
			t.Errorf("New(%q) = %v, %v", f, w, err)
		}
	}
	if _, err := New("yaml", Options{}); err == nil || !strings.Contains(err.Error(), "table, json, csv") {
		t.Errorf("New(yaml) error = %v, want one listing the formats", err)
	}
}

// failAfter is a writer that fails once n bytes have been written.
type failAfter struct {
	n       int
	written int
}

var errDiskFull = fmt.Errorf("disk full")

func (f *failAfter) Write(p []byte) (int, error) {
	if f.written+len(p) > f.n {
		return 0, errDiskFull
	}
	f.written += len(p)
	return len(p), nil
}
