package exempt

import (
	"errors"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iamgroups/iamgroups/internal/rule"
	"github.com/iamgroups/iamgroups/internal/yamlconf"
)

// FuzzParse checks that Parse never panics, that it returns either a config
// or an error made of located *Error values, and that a config it accepts
// keeps every promise the parser makes and can be applied.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"", "# only a comment\n", "---\n", "~\n", "- a\n", "version: 1\n", "version: 2\n",
		"exemptions:\n- users: a\n  reason: r\n",
		"exemptions:\n- users: [a, 'arn:aws:iam::*:user/*']\n  tags: [k=v]\n  policies: ['P*']\n  accounts: ['111122223333']\n  reason: r\n  expires: 2026-01-31\n",
		"exemptions:\n- users: &u [a]\n  reason: &r r\n- users: *u\n  reason: *r\n",
		"exemptions: &e [*e]\n",
		"exemptions:\n- &x {users: [a], reason: *x}\n",
		"exemptions:\n- <<: {users: [a]}\n  reason: r\n",
		"exemptions:\n- ? [a]\n  : b\n",
		"exemptions:\n- users: ['[a']\n  reason: r\n  expires: 2027-13-01\n",
		"exemptions: []\n---\n[\n",
		"exemptions:\n  - users: [a]\n   reason: r\n",
		"a: b: c\n", "\tx: 1\n", "x: \"\a\"\n", "x: \xff\n", "users: *nope\n",
		"exemptions:\n- tags: !!binary aGVsbG8=\n  reason: !custom r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if cfg != nil {
				t.Fatalf("config and error both returned: %v", err)
			}
			checkErrors(t, err)
			return
		}
		if cfg == nil || cfg.Path != "fuzz.yaml" {
			t.Fatalf("config %+v", cfg)
		}
		for i := range cfg.Exemptions {
			checkEntry(t, &cfg.Exemptions[i])
		}
		// Whatever it accepts can be applied without panicking.
		accounts, results := fixture()
		warnings := cfg.Apply(accounts, results, time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC))
		if len(warnings) > len(cfg.Exemptions) {
			t.Fatalf("%d warnings for %d exemptions", len(warnings), len(cfg.Exemptions))
		}
		for _, r := range results {
			if r.Status == rule.Exempt && (r.Exemption == nil || r.Exemption.Expired) {
				t.Fatalf("EXEMPT without a live exemption: %+v", r)
			}
		}
	})
}

func checkErrors(t *testing.T, err error) {
	t.Helper()
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	if len(errs) == 0 || len(errs) > yamlconf.MaxProblems+1 {
		t.Fatalf("%d errors", len(errs))
	}
	for _, e := range errs {
		var pe *Error
		if !errors.As(e, &pe) {
			t.Fatalf("error %T %v is not an *Error", e, e)
		}
		if !strings.HasPrefix(pe.Error(), "fuzz.yaml") || pe.Msg == "" {
			t.Fatalf("error %q does not name the file or say what is wrong", pe)
		}
		if pe.Line < 0 || pe.Column < 0 {
			t.Fatalf("error %q has a negative position", pe)
		}
	}
}

func checkEntry(t *testing.T, e *Exemption) {
	t.Helper()
	if strings.TrimSpace(e.Reason) == "" {
		t.Fatalf("entry without a reason: %+v", e)
	}
	if len(e.Users)+len(e.Tags)+len(e.Policies) == 0 {
		t.Fatalf("entry without users, tags or policies: %+v", e)
	}
	if e.Line < 1 || e.Column < 1 {
		t.Fatalf("entry without a position: %+v", e)
	}
	for _, p := range append(append([]string{}, e.Users...), e.Policies...) {
		if _, err := path.Match(p, ""); err != nil {
			t.Fatalf("bad glob %q accepted", p)
		}
	}
	for _, tag := range e.Tags {
		if k, _, ok := strings.Cut(tag, "="); !ok || k == "" {
			t.Fatalf("bad tag %q accepted", tag)
		}
	}
	for _, a := range e.Accounts {
		if len(a) != 12 || strings.Trim(a, "0123456789") != "" {
			t.Fatalf("bad account %q accepted", a)
		}
	}
	if e.Expires != "" {
		if _, err := time.Parse(dateLayout, e.Expires); err != nil {
			t.Fatalf("bad date %q accepted", e.Expires)
		}
	}
	if e.Describe() == "" {
		t.Fatalf("entry %+v describes as nothing", e)
	}
}
