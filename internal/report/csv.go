package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// csvHeader names the CSV columns, one row per result.
var csvHeader = []string{
	"rule_id", "status", "risk", "account_id", "user_name", "user_arn",
	"groups", "attached_policies", "inline_policies", "permissions_boundary",
	"exemption_reason", "exemption_expires", "message", "fingerprint",
}

// csvWriter writes one row per result for spreadsheets. List cells are
// joined with ";": groups by name, attached policies by ARN, inline
// policies by name.
type csvWriter struct{}

// Write renders r as CSV with a header row.
func (csvWriter) Write(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return fmt.Errorf("write csv report: %w", err)
	}
	row := make([]string, len(csvHeader))
	for i := range r.Results {
		res := &r.Results[i]
		var attached, inline []string
		for _, v := range res.Violations {
			if v.Kind == "managed" {
				attached = append(attached, v.ARN)
			} else {
				inline = append(inline, v.Name)
			}
		}
		var reason, expires string
		if res.Exemption != nil {
			reason, expires = res.Exemption.Reason, res.Exemption.Expires
		}
		row = append(row[:0],
			res.RuleID, string(res.Status), string(res.Risk), res.AccountID,
			res.UserName, res.UserARN, strings.Join(res.Groups, ";"),
			strings.Join(attached, ";"), strings.Join(inline, ";"),
			res.PermissionsBoundary, reason, expires, res.Message, res.Fingerprint(),
		)
		for j := range row {
			row[j] = defuseFormula(row[j])
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write csv report: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv report: %w", err)
	}
	return nil
}

// defuseFormula keeps spreadsheets from running a cell as a formula (CSV
// injection): IAM user names may begin with '=', '+', '-' or '@', and
// snapshots and templates can hold anything. Such a cell gets a leading
// single quote, which spreadsheets read as "text".
func defuseFormula(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
