package report

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/iamgroups/iamgroups/internal/rule"
)

// tableWriter writes aligned columns for people, then the summary.
type tableWriter struct {
	color bool
}

// ANSI colours for the status column.
const (
	ansiReset   = "\x1b[0m"
	ansiRed     = "\x1b[31m"
	ansiGreen   = "\x1b[32m"
	ansiYellow  = "\x1b[33m"
	ansiMagenta = "\x1b[35m"
)

// tableGap separates columns.
const tableGap = "  "

// Write renders r as a table followed by summary lines, warnings and the
// footer.
func (tw tableWriter) Write(w io.Writer, r *Report) error {
	accounts := accountsOf(r)
	multi := len(accounts) > 1

	header := []string{"STATUS", "USER", "DIRECT POLICIES", "GROUPS", "NOTE"}
	if multi {
		header = []string{"STATUS", "ACCOUNT", "USER", "DIRECT POLICIES", "GROUPS", "NOTE"}
	}
	rows := make([][]string, 0, len(r.Results)+1)
	rows = append(rows, header)
	for i := range r.Results {
		res := &r.Results[i]
		row := make([]string, 0, len(header))
		row = append(row, string(res.Status))
		if multi {
			row = append(row, res.AccountID)
		}
		row = append(row, res.UserName, directPolicies(res), listOrDash(res.Groups), note(res))
		for j := range row {
			row[j] = printable(row[j])
		}
		rows = append(rows, row)
	}

	widths := make([]int, len(header))
	for _, row := range rows {
		for j, cell := range row {
			widths[j] = max(widths[j], utf8.RuneCountInString(cell))
		}
	}

	bw := bufio.NewWriter(w)
	if len(r.Results) > 0 {
		var line []byte
		for i, row := range rows {
			line = line[:0]
			for j, cell := range row {
				if j > 0 {
					line = append(line, tableGap...)
				}
				// Colour wraps the text only; padding is computed on the
				// plain text so escape codes never shift a column.
				if tw.color && i > 0 && j == 0 {
					line = append(line, statusColor(rule.Status(cell))...)
					line = append(line, cell...)
					line = append(line, ansiReset...)
				} else {
					line = append(line, cell...)
				}
				for n := widths[j] - utf8.RuneCountInString(cell); n > 0; n-- {
					line = append(line, ' ')
				}
			}
			// Empty last cells would leave padding at the end of the line.
			line = bytes.TrimRight(line, " ")
			bw.Write(line)
			bw.WriteByte('\n')
		}
		bw.WriteByte('\n')
	}
	if multi {
		for _, a := range accounts {
			id := a.ID
			if id == "" {
				id = "(unknown)"
			}
			fmt.Fprintf(bw, "account %s: %s", printable(id), summaryText(a.Summary))
			if a.Partial {
				bw.WriteString(" (partial)")
			}
			bw.WriteByte('\n')
		}
	}
	bw.WriteString(summaryText(r.Summary))
	if r.Partial {
		bw.WriteString(" (partial: results incomplete)")
	}
	bw.WriteByte('\n')
	for _, warning := range r.Warnings {
		bw.WriteString("warning: " + printable(warning) + "\n")
	}
	if r.Footer != "" {
		bw.WriteString(printable(r.Footer) + "\n")
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write table report: %w", err)
	}
	return nil
}

// accountsOf returns the report's accounts, or, when the caller gave none,
// one per account ID seen in the results, in order of appearance.
func accountsOf(r *Report) []AccountInfo {
	if len(r.Accounts) > 0 {
		return r.Accounts
	}
	var out []AccountInfo
	index := map[string]int{}
	for i := range r.Results {
		id := r.Results[i].AccountID
		k, ok := index[id]
		if !ok {
			k = len(out)
			index[id] = k
			out = append(out, AccountInfo{ID: id})
		}
		out[k].Summary = addToSummary(out[k].Summary, r.Results[i].Status)
	}
	return out
}

func addToSummary(s rule.Summary, status rule.Status) rule.Summary {
	s.Users++
	switch status {
	case rule.Pass:
		s.Pass++
	case rule.Fail:
		s.Fail++
	case rule.Exempt:
		s.Exempt++
	case rule.Error:
		s.Error++
	}
	return s
}

// summaryText reads like "12 users: 5 pass, 4 fail, 2 exempt, 1 error".
func summaryText(s rule.Summary) string {
	users := "users"
	if s.Users == 1 {
		users = "user"
	}
	return fmt.Sprintf("%d %s: %d pass, %d fail, %d exempt, %d error",
		s.Users, users, s.Pass, s.Fail, s.Exempt, s.Error)
}

func statusColor(s rule.Status) string {
	switch s {
	case rule.Fail:
		return ansiRed
	case rule.Pass:
		return ansiGreen
	case rule.Exempt:
		return ansiYellow
	case rule.Error:
		return ansiMagenta
	}
	return ""
}

// maxListed bounds the policy names a table row shows, so that one user
// with many policies does not widen the column for every row; the JSON and
// CSV formats list them all.
const maxListed = 3

// directPolicies reads like "managed: ReadOnlyAccess, inline: S3Access",
// or "managed: A, B, C (+9 more), inline: E" for a long list.
func directPolicies(res *rule.Result) string {
	var managed, inline []string
	for _, v := range res.Violations {
		if v.Kind == "managed" {
			managed = append(managed, v.Name)
		} else {
			inline = append(inline, v.Name)
		}
	}
	var parts []string
	if len(managed) > 0 {
		parts = append(parts, "managed: "+shortList(managed))
	}
	if len(inline) > 0 {
		parts = append(parts, "inline: "+shortList(inline))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func shortList(names []string) string {
	if len(names) <= maxListed {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:maxListed], ", ") + " (+" + strconv.Itoa(len(names)-maxListed) + " more)"
}

// note explains what the status column cannot: why a user is ERROR, which
// exemption applies or has expired, and the permissions boundary.
func note(res *rule.Result) string {
	var parts []string
	if res.Status == rule.Error {
		parts = append(parts, res.Message)
	}
	if e := res.Exemption; e != nil {
		parts = append(parts, exemptionNote("", e))
	}
	for _, v := range res.Violations {
		// A policy exemption that made the whole result EXEMPT is
		// already said.
		if v.Exemption != nil && (res.Exemption == nil || v.Exemption.ID != res.Exemption.ID) {
			parts = append(parts, exemptionNote(v.Name+" ", v.Exemption))
		}
	}
	if res.PermissionsBoundary != "" {
		parts = append(parts, "boundary: "+policyName(res.PermissionsBoundary))
	}
	// Where IaC declares the policies (or the file that could not be read).
	var at []string
	for _, v := range res.Violations {
		if l := v.Location; l != nil && l.File != "" && len(at) < maxListed {
			at = append(at, fmt.Sprintf("%s:%d", l.File, l.Line))
		}
	}
	if res.Status == rule.Error && res.Location != nil && res.Location.File != "" {
		at = append(at, fmt.Sprintf("%s:%d", res.Location.File, res.Location.Line))
	}
	if len(at) > 0 {
		parts = append(parts, "at "+strings.Join(at, ", "))
	}
	seen := map[string]bool{}
	for _, v := range res.Violations {
		if v.Note != "" && !seen[v.Note] {
			seen[v.Note] = true
			parts = append(parts, v.Note)
		}
	}
	return strings.Join(parts, "; ")
}

// exemptionNote reads like "exempt: break-glass (expires 2030-01-01)" or,
// once expired, "exemption expired 2024-01-01: break-glass". A policy
// exemption starts with the policy's name and a space (subject).
func exemptionNote(subject string, e *rule.Exemption) string {
	if e.Expired {
		return subject + "exemption expired " + e.Expires + ": " + e.Reason
	}
	if e.Expires != "" {
		return subject + "exempt: " + e.Reason + " (expires " + e.Expires + ")"
	}
	return subject + "exempt: " + e.Reason
}

// policyName is the last path element of a policy ARN, which is its name.
func policyName(arn string) string {
	if i := strings.LastIndexByte(arn, '/'); i >= 0 && i < len(arn)-1 {
		return arn[i+1:]
	}
	return arn
}

func listOrDash(xs []string) string {
	if len(xs) == 0 {
		return "-"
	}
	return strings.Join(xs, ", ")
}

// printable makes s safe to print on a terminal: names come from snapshots
// and templates that anyone can write, and a control character would break
// the columns or, worse, drive the terminal. Control and bidirectional
// formatting characters and invalid UTF-8 are shown as Go escapes.
func printable(s string) string {
	clean := true
	for _, r := range s {
		if unsafeRune(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])|0x100, 16)[1:])
		case unsafeRune(r):
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	switch {
	case r == utf8.RuneError:
		return true
	case unicode.IsControl(r):
		return true
	case r == '\u2028' || r == '\u2029':
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}
