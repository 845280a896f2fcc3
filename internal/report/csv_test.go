package report

import (
	"bytes"
	"encoding/csv"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/iamgroups/iamgroups/internal/rule"
)

func readCSV(t *testing.T, out []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("output is not CSV: %v\n%s", err, out)
	}
	return rows
}

func TestCSVFields(t *testing.T) {
	r := fixture()
	rows := readCSV(t, render(t, "csv", Options{}, r))
	if !slices.Equal(rows[0], csvHeader) {
		t.Errorf("header = %q", rows[0])
	}
	if len(rows) != len(r.Results)+1 {
		t.Fatalf("%d rows, want %d", len(rows), len(r.Results)+1)
	}
	col := map[string]int{}
	for i, h := range csvHeader {
		col[h] = i
	}
	bob := rows[2]
	for name, want := range map[string]string{
		"status":            "FAIL",
		"groups":            "Developers",
		"attached_policies": "arn:aws:iam::aws:policy/ReadOnlyAccess",
		"inline_policies":   "S3Access",
		"fingerprint":       r.Results[1].Fingerprint(),
	} {
		if got := bob[col[name]]; got != want {
			t.Errorf("bob %s = %q, want %q", name, got, want)
		}
	}
	if got := rows[1][col["groups"]]; got != "Admins;Developers" {
		t.Errorf("alice groups = %q", got)
	}
	if got := rows[5][col["attached_policies"]]; got != "arn:aws:iam::aws:policy/IAMUserChangePassword;arn:aws:iam::aws:policy/PowerUserAccess" {
		t.Errorf("frank attached_policies = %q", got)
	}
	carol := rows[3]
	if carol[col["exemption_reason"]] != "break-glass account, reviewed quarterly" || carol[col["exemption_expires"]] != "2030-01-01" {
		t.Errorf("carol exemption = %q, %q", carol[col["exemption_reason"]], carol[col["exemption_expires"]])
	}
}

func TestCSVFormulaInjection(t *testing.T) {
	cases := map[string]string{
		"=HYPERLINK(\"http://x\")": "'=HYPERLINK(\"http://x\")",
		"+cmd":                     "'+cmd",
		"-2+3":                     "'-2+3",
		"@SUM(A1)":                 "'@SUM(A1)",
		"\tx":                      "'\tx",
		"\rx":                      "'\rx",
		"alice":                    "alice",
		"a=b":                      "a=b",
		"":                         "",
	}
	for in, want := range cases {
		r := &Report{Results: []rule.Result{{
			RuleID: "IAM-071", Status: rule.Fail, UserName: in, Message: in,
			Groups: []string{in, "ok"},
		}}}
		rows := readCSV(t, render(t, "csv", Options{}, r))
		row := rows[1]
		if got := row[4]; got != want {
			t.Errorf("user_name %q written as %q, want %q", in, got, want)
		}
		if got := row[12]; got != want {
			t.Errorf("message %q written as %q, want %q", in, got, want)
		}
		if got := row[6]; in != "" && !strings.HasPrefix(got, want) {
			t.Errorf("groups starting with %q written as %q", in, got)
		}
	}
}

func TestCSVWriteError(t *testing.T) {
	err := (csvWriter{}).Write(&failAfter{n: 10}, fixture())
	if !errors.Is(err, errDiskFull) || !strings.HasPrefix(err.Error(), "write csv report: ") {
		t.Errorf("err = %v", err)
	}
}
