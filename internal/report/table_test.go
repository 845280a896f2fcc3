package report

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/iamgroups/iamgroups/internal/rule"
)

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

func TestTableColorKeepsAlignment(t *testing.T) {
	plain := render(t, "table", Options{}, fixture())
	color := render(t, "table", Options{Color: true}, fixture())
	if !ansi.Match(color) {
		t.Fatal("no colour codes with Options.Color")
	}
	if ansi.Match(plain) {
		t.Error("colour codes without Options.Color")
	}
	if got := ansi.ReplaceAll(color, nil); string(got) != string(plain) {
		t.Errorf("coloured table without its codes differs from the plain one:\n%s", firstDifference(plain, got))
	}
}

func TestTableSingleAccount(t *testing.T) {
	r := fixture()
	r.Results = r.Results[:3]
	r.Accounts = r.Accounts[:1]
	r.Summary = rule.Summarize(r.Results)
	r.Partial, r.Warnings, r.Footer = false, nil, ""
	got := string(render(t, "table", Options{}, r))
	want := `STATUS  USER   DIRECT POLICIES                            GROUPS              NOTE
PASS    alice  -                                          Admins, Developers  boundary: DevBoundary
FAIL    bob    managed: ReadOnlyAccess, inline: S3Access  Developers          at snap-prod.json:131
EXEMPT  carol  managed: AdministratorAccess               -                   exempt: break-glass account, reviewed quarterly (expires 2030-01-01)

3 users: 1 pass, 1 fail, 1 exempt, 0 error
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestTableAccountsFromResults(t *testing.T) {
	r := fixture()
	r.Accounts = nil
	got := string(render(t, "table", Options{}, r))
	for _, want := range []string{
		"STATUS  ACCOUNT  ",
		"account 111111111111: 3 users: 1 pass, 1 fail, 1 exempt, 0 error\n",
		"account 222222222222: 3 users: 0 pass, 2 fail, 0 exempt, 1 error\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in:\n%s", want, got)
		}
	}
}

func TestTableEmpty(t *testing.T) {
	got := string(render(t, "table", Options{}, &Report{}))
	if want := "0 users: 0 pass, 0 fail, 0 exempt, 0 error\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	one := &Report{Summary: rule.Summary{Users: 1, Pass: 1}}
	if got := string(render(t, "table", Options{}, one)); !strings.HasPrefix(got, "1 user: ") {
		t.Errorf("got %q, want singular user", got)
	}
}

func TestTableHostileNames(t *testing.T) {
	r := fixture()
	r.Results[0].UserName = "evil\x1b]0;pwned\x07\nname\tx"
	r.Results[1].Groups = []string{"bad\xffutf8", "rtl\u202egnp.exe"}
	r.Warnings = []string{"line one\nline two"}
	out := string(render(t, "table", Options{}, r))
	if strings.ContainsAny(out, "\x1b\x07\t\u202e") || !utf8.ValidString(out) {
		t.Errorf("control characters reach the terminal:\n%q", out)
	}
	for _, want := range []string{`evil\x1b]0;pwned\a\nname\tx`, `bad\xffutf8`, `rtl\u202egnp.exe`, `warning: line one\nline two`} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	lines := strings.Split(out, "\n")
	if n := len(lines); n != len(strings.Split(string(render(t, "table", Options{}, fixture())), "\n")) {
		t.Errorf("hostile names changed the line count:\n%s", out)
	}
	// Every row's columns still start where the header's do.
	col := strings.Index(lines[0], "USER")
	for _, l := range lines[1:7] {
		if l[col-2:col] != "  " || l[col] == ' ' {
			t.Errorf("misaligned row %q", l)
		}
	}
}

func TestTableWriteError(t *testing.T) {
	err := (tableWriter{}).Write(&failAfter{n: 10}, fixture())
	if !errors.Is(err, errDiskFull) || !strings.HasPrefix(err.Error(), "write table report: ") {
		t.Errorf("err = %v", err)
	}
}
