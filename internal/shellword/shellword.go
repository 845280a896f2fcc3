// Package shellword quotes words for a POSIX shell, for the commands
// iamgroups prints for people to copy: dry-run calls, the resume and
// rollback commands, the dashboard's plan commands.
package shellword

import "strings"

// Quote returns s as it must be written on a POSIX shell's command line:
// unchanged when it holds only characters that are safe unquoted, else in
// single quotes, each ' written '\”.
func Quote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@%+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
