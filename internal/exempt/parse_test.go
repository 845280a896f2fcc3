package exempt

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/iamgroups/iamgroups/internal/yamlconf"
)

func TestLoadExample(t *testing.T) {
	cfg, err := Load(filepath.Join("testdata", "example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Exemption{
		{
			Users:   []string{"break-glass-admin", "arn:aws:iam::*:user/ops/*"},
			Reason:  "Emergency access, reviewed quarterly",
			Expires: "2027-06-30",
			Line:    4, Column: 5,
		},
		{Tags: []string{"iamgroups:exempt=true"}, Reason: "Owned by the platform team, see SEC-1234", Line: 7, Column: 5},
		{
			Policies: []string{"arn:aws:iam::aws:policy/IAMUserChangePassword", "ForceMFA*"},
			Reason:   "Self-service password and MFA management",
			Line:     9, Column: 5,
		},
		{Accounts: []string{"111122223333"}, Users: []string{"ci-*"}, Reason: "CI users in the sandbox account", Line: 11, Column: 5},
	}
	if cfg.Path != filepath.Join("testdata", "example.yaml") {
		t.Errorf("Path = %q", cfg.Path)
	}
	if !reflect.DeepEqual(cfg.Exemptions, want) {
		t.Errorf("Exemptions =\n%+v\nwant\n%+v", cfg.Exemptions, want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := Load(p)
	if err == nil {
		t.Fatal("no error for a missing file")
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v does not wrap fs.ErrNotExist", err)
	}
	if !strings.Contains(err.Error(), p) || !strings.HasPrefix(err.Error(), "read exemptions config: ") {
		t.Errorf("error %q does not name the operation and the path", err)
	}
}

func TestLoadParsesFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte("exemptions:\n  - users: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	want := p + ":2:5: exemptions[0].reason: missing; every exemption needs a reason saying why it is allowed"
	if err == nil || err.Error() != want {
		t.Errorf("Load error = %v, want %s", err, want)
	}
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []Exemption
	}{
		{"empty file", "", nil},
		{"blank lines", "\n\n  \n", nil},
		{"comments only", "# nothing yet\n# really\n", nil},
		{"document marker only", "---\n", nil},
		{"null document", "~\n", nil},
		{"version only", "version: 1\n", nil},
		{"quoted version", "version: \"1\"\nexemptions: []\n", []Exemption{}},
		{"null exemptions", "exemptions:\n", nil},
		{"empty exemptions", "exemptions: []\n", []Exemption{}},
		{
			"string is a one-element list",
			"exemptions:\n- users: bob\n  tags: team=ops\n  policies: ReadOnly\n  accounts: '111122223333'\n  reason: r\n",
			[]Exemption{{Users: []string{"bob"}, Tags: []string{"team=ops"}, Policies: []string{"ReadOnly"}, Accounts: []string{"111122223333"}, Reason: "r", Line: 2, Column: 3}},
		},
		{
			"unquoted account ID and numeric user name",
			"exemptions:\n- accounts: [011122223333]\n  users: [12345]\n  reason: r\n",
			[]Exemption{{Accounts: []string{"011122223333"}, Users: []string{"12345"}, Reason: "r", Line: 2, Column: 3}},
		},
		{
			"quoted date, tag with empty value and '=' in value",
			"exemptions:\n- tags: ['a=', 'b=c=d']\n  reason: r\n  expires: \"2026-02-28\"\n",
			[]Exemption{{Tags: []string{"a=", "b=c=d"}, Reason: "r", Expires: "2026-02-28", Line: 2, Column: 3}},
		},
		{
			"aliases resolve",
			"exemptions:\n- users: &u [a, b]\n  reason: &r because\n- users: *u\n  policies: P\n  reason: *r\n",
			[]Exemption{
				{Users: []string{"a", "b"}, Reason: "because", Line: 2, Column: 3},
				{Users: []string{"a", "b"}, Policies: []string{"P"}, Reason: "because", Line: 4, Column: 3},
			},
		},
		{
			"multi-line reason",
			"exemptions:\n- users: [a]\n  reason: >\n    first line\n    second line\n",
			[]Exemption{{Users: []string{"a"}, Reason: "first line second line\n", Line: 2, Column: 3}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tt.yaml), "config.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Path != "config.yaml" {
				t.Errorf("Path = %q", cfg.Path)
			}
			if !reflect.DeepEqual(cfg.Exemptions, tt.want) {
				t.Errorf("Exemptions =\n%#v\nwant\n%#v", cfg.Exemptions, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string // every line of the error, joined by "\n"
	}{
		// Document shape and top level.
		{"document is a list", "- a\n",
			`config.yaml:1:1: the config must be a mapping with the key "exemptions" (and optionally "version: 1"), found a list`},
		{"document is a string", "just a string\n",
			`config.yaml:1:1: the config must be a mapping with the key "exemptions" (and optionally "version: 1"), found the string "just a string"`},
		{"version 2", "version: 2\nexemptions: []\n",
			`config.yaml:1:10: version: the number 2 is not supported; write "version: 1" or leave it out`},
		{"version list", "version: [1]\n",
			`config.yaml:1:10: version: must be 1, found a list`},
		{"version null", "version:\n",
			`config.yaml:1:9: version: has no value; write 1`},
		{"unknown top key with suggestion", "exemption: []\n",
			`config.yaml:1:1: exemption: unknown key; did you mean "exemptions"? (known: version, exemptions)`},
		{"unknown top key", "exemptions: []\nreasons: x\n",
			`config.yaml:2:1: reasons: unknown key; use one of version, exemptions`},
		{"exemptions is a mapping", "exemptions:\n  users: [a]\n",
			`config.yaml:2:3: exemptions: must be a list of entries (each starting with "- "), found a mapping`},
		{"exemptions is a boolean", "exemptions: true\n",
			`config.yaml:1:13: exemptions: must be a list of entries (each starting with "- "), found the boolean true`},
		{"exemptions is a number", "exemptions: 3\n",
			`config.yaml:1:13: exemptions: must be a list of entries (each starting with "- "), found the number 3`},
		{"exemptions is a scalar", "exemptions: yes\n",
			`config.yaml:1:13: exemptions: must be a list of entries (each starting with "- "), found the string "yes"`},
		{"entry is a string", "exemptions:\n  - bob\n",
			`config.yaml:2:5: exemptions[0]: must be a mapping with users, tags or policies and a reason, found the string "bob"`},
		{"second document", "exemptions: []\n---\nexemptions: []\n",
			`config.yaml:2:1: a second YAML document; the config is one document, remove the '---' and what follows or merge it into the first`},

		// Keys of an entry.
		{"unknown entry key", "exemptions:\n  - users: [a]\n    reason: r\n    expiry: 2027-01-01\n",
			`config.yaml:4:5: exemptions[0].expiry: unknown key; did you mean "expires"? (known: users, tags, policies, accounts, reason, expires)`},
		{"capitalised key is unknown and reason is missing", "exemptions:\n  - users: [a]\n    Reason: r\n",
			`config.yaml:3:5: exemptions[0].Reason: unknown key; did you mean "reason"? (known: users, tags, policies, accounts, reason, expires)` + "\n" +
				`config.yaml:2:5: exemptions[0].reason: missing; every exemption needs a reason saying why it is allowed`},
		{"unknown key without suggestion", "exemptions:\n  - users: [a]\n    reason: r\n    owner: me\n",
			`config.yaml:4:5: exemptions[0].owner: unknown key; use one of users, tags, policies, accounts, reason, expires`},
		{"duplicate key", "exemptions:\n  - users: [a]\n    reason: r\n    users: [b]\n",
			`config.yaml:4:5: exemptions[0].users: duplicate key (first on line 2); keep one`},
		{"merge key", "exemptions:\n  - <<: {users: [a]}\n    reason: r\n",
			`config.yaml:2:5: exemptions[0]: merge keys (<<) are not supported; write the keys out` + "\n" +
				`config.yaml:2:5: exemptions[0]: selects nothing; add users, tags or policies`},
		{"complex key", "exemptions:\n  - ? [a]\n    : b\n    reason: r\n",
			`config.yaml:2:7: exemptions[0]: a key must be a plain name, found a list; use one of users, tags, policies, accounts, reason, expires` + "\n" +
				`config.yaml:2:5: exemptions[0]: selects nothing; add users, tags or policies`},

		// Reason.
		{"reason missing", "exemptions:\n  - users: [a]\n",
			`config.yaml:2:5: exemptions[0].reason: missing; every exemption needs a reason saying why it is allowed`},
		{"reason empty", "exemptions:\n  - users: [a]\n    reason: \"\"\n",
			`config.yaml:3:13: exemptions[0].reason: is empty; say why the exemption is allowed`},
		{"reason blank", "exemptions:\n  - users: [a]\n    reason: \"   \"\n",
			`config.yaml:3:13: exemptions[0].reason: is empty; say why the exemption is allowed`},
		{"reason null", "exemptions:\n  - users: [a]\n    reason:\n",
			`config.yaml:3:12: exemptions[0].reason: has no value; write a sentence saying why the exemption is allowed`},
		{"reason list", "exemptions:\n  - users: [a]\n    reason: [x]\n",
			`config.yaml:3:13: exemptions[0].reason: must be a sentence saying why the exemption is allowed, found a list`},

		// Expires.
		{"month 13", "exemptions:\n  - users: [a]\n    reason: r\n    expires: 2027-13-01\n",
			`config.yaml:4:14: exemptions[0].expires: "2027-13-01" is not a date; write it as YYYY-MM-DD`},
		{"February 30", "exemptions:\n  - users: [a]\n    reason: r\n    expires: 2027-02-30\n",
			`config.yaml:4:14: exemptions[0].expires: "2027-02-30" is not a date; write it as YYYY-MM-DD`},
		{"one-digit month", "exemptions:\n  - users: [a]\n    reason: r\n    expires: 2027-6-30\n",
			`config.yaml:4:14: exemptions[0].expires: "2027-6-30" is not a date; write it as YYYY-MM-DD`},
		{"timestamp", "exemptions:\n  - users: [a]\n    reason: r\n    expires: 2027-06-30T00:00:00Z\n",
			`config.yaml:4:14: exemptions[0].expires: "2027-06-30T00:00:00Z" is not a date; write it as YYYY-MM-DD`},
		{"day first", "exemptions:\n  - users: [a]\n    reason: r\n    expires: 30/06/2027\n",
			`config.yaml:4:14: exemptions[0].expires: "30/06/2027" is not a date; write it as YYYY-MM-DD`},
		{"expires null", "exemptions:\n- users: [a]\n  reason: r\n  expires: ~\n",
			`config.yaml:4:12: exemptions[0].expires: has no value; write a date as YYYY-MM-DD`},
		{"expires twice", "exemptions:\n- users: [a]\n  reason: r\n  expires: 2026-01-01\n  expires: 2026-01-02\n",
			`config.yaml:5:3: exemptions[0].expires: duplicate key (first on line 4); keep one`},
		{"expires list", "exemptions:\n  - users: [a]\n    reason: r\n    expires: [2027-06-30]\n",
			`config.yaml:4:14: exemptions[0].expires: must be a date as YYYY-MM-DD, found a list`},

		// Selectors.
		{"bad user glob", "exemptions:\n  - users: [\"[a\"]\n    reason: r\n",
			`config.yaml:2:13: exemptions[0].users[0]: "[a" is not a valid glob (syntax error in pattern); use *, ?, [a-z] and \ to escape, and close every [`},
		{"user name with slash", "exemptions:\n  - users: [\"ops/*\"]\n    reason: r\n",
			`config.yaml:2:13: exemptions[0].users[0]: "ops/*" contains '/', which no user name does; to match users by path write an ARN glob such as "arn:aws:iam::*:user/ops/*"`},
		{"policy name with slash", "exemptions:\n  - policies: [\"team/*\"]\n    reason: r\n",
			`config.yaml:2:16: exemptions[0].policies[0]: "team/*" contains '/', which no policy name does; to match policies by path write an ARN glob such as "arn:aws:iam::*:policy/team/*"`},
		{"bad policy ARN glob", "exemptions:\n  - policies: ['arn:aws:iam::*:policy/[']\n    reason: r\n",
			`config.yaml:2:16: exemptions[0].policies[0]: "arn:aws:iam::*:policy/[" is not a valid glob (syntax error in pattern); use *, ?, [a-z] and \ to escape, and close every [`},
		{"trailing backslash", "exemptions:\n  - users: ['a\\']\n    reason: r\n",
			`config.yaml:2:13: exemptions[0].users[0]: "a\\" is not a valid glob (syntax error in pattern); use *, ?, [a-z] and \ to escape, and close every [`},
		{"tag without =", "exemptions:\n  - tags: [exempt]\n    reason: r\n",
			`config.yaml:2:12: exemptions[0].tags[0]: "exempt" has no '='; write it as key=value`},
		{"tag as a string without =", "exemptions:\n  - tags: exempt\n    reason: r\n",
			`config.yaml:2:11: exemptions[0].tags: "exempt" has no '='; write it as key=value`},
		{"tag with empty key", "exemptions:\n  - tags: ['=true']\n    reason: r\n",
			`config.yaml:2:12: exemptions[0].tags[0]: "=true" has an empty key; write it as key=value`},
		{"short account", "exemptions:\n  - accounts: ['1234']\n    users: [a]\n    reason: r\n",
			`config.yaml:2:16: exemptions[0].accounts[0]: "1234" is not an AWS account ID; write the 12 digits in quotes, such as "111122223333"`},
		{"account with a letter", "exemptions:\n  - accounts: ['11112222333a']\n    users: [a]\n    reason: r\n",
			`config.yaml:2:16: exemptions[0].accounts[0]: "11112222333a" is not an AWS account ID; write the 12 digits in quotes, such as "111122223333"`},
		{"accounts alone", "exemptions:\n  - accounts: ['111122223333']\n    reason: r\n",
			`config.yaml:2:5: exemptions[0]: accounts alone would exempt every user of those accounts; add users, tags or policies`},
		{"no selector", "exemptions:\n  - reason: r\n",
			`config.yaml:2:5: exemptions[0]: selects nothing; add users, tags or policies`},
		{"empty entry", "exemptions:\n  - {}\n",
			`config.yaml:2:5: exemptions[0].reason: missing; every exemption needs a reason saying why it is allowed` + "\n" +
				`config.yaml:2:5: exemptions[0]: selects nothing; add users, tags or policies`},
		{"accounts alone, and a bad account", "exemptions:\n  - accounts: '1'\n    reason: r\n",
			`config.yaml:2:15: exemptions[0].accounts: "1" is not an AWS account ID; write the 12 digits in quotes, such as "111122223333"` + "\n" +
				`config.yaml:2:5: exemptions[0]: accounts alone would exempt every user of those accounts; add users, tags or policies`},
		{"empty list", "exemptions:\n  - users: []\n    reason: r\n",
			`config.yaml:2:12: exemptions[0].users: is an empty list; give at least one value or remove the key`},
		{"null list", "exemptions:\n  - users:\n    reason: r\n",
			`config.yaml:2:11: exemptions[0].users: has no value; give a list of values or remove the key`},
		{"mapping for a list", "exemptions:\n  - users: {a: b}\n    reason: r\n",
			`config.yaml:2:12: exemptions[0].users: must be a list of strings, found a mapping`},
		{"nested list", "exemptions:\n  - users: [a, [b]]\n    reason: r\n",
			`config.yaml:2:16: exemptions[0].users[1]: must be a string, found a list`},
		{"empty item", "exemptions:\n  - users: [a, '']\n    reason: r\n",
			`config.yaml:2:16: exemptions[0].users[1]: is empty; write a value or remove it`},
		{"null item", "exemptions:\n  - users: [a, ~]\n    reason: r\n",
			`config.yaml:2:16: exemptions[0].users[1]: has no value; write a string`},

		// Several problems are all reported, in file order per entry.
		{"several problems", "exemptions:\n  - users: [a]\n    reason: r\n    expires: 2027-13-01\n  - tags: [x]\n    reason: ''\n",
			`config.yaml:4:14: exemptions[0].expires: "2027-13-01" is not a date; write it as YYYY-MM-DD` + "\n" +
				`config.yaml:5:12: exemptions[1].tags[0]: "x" has no '='; write it as key=value` + "\n" +
				`config.yaml:6:13: exemptions[1].reason: is empty; say why the exemption is allowed`},

		// YAML syntax.
		{"unclosed flow list", "exemptions: [\n",
			`config.yaml:1: invalid YAML: did not find expected node content; check the indentation and quoting around this line`},
		{"unclosed flow list without newline", "[a",
			`config.yaml:1: invalid YAML: did not find expected ',' or ']'; check the indentation and quoting around this line`},
		{"unclosed flow mapping after a line", "version: 1\nexemptions: {a: 1",
			`config.yaml:2: invalid YAML: did not find expected ',' or '}'; check the indentation and quoting around this line`},
		{"alias without a name", "exemptions:\n  - users: *\n",
			`config.yaml:2: invalid YAML: did not find expected alphabetic or numeric character; check the indentation and quoting around this line`},
		{"mapping value on line 1", "a: b: c\n",
			`config.yaml:1: invalid YAML: mapping values are not allowed in this context; check the indentation and quoting around this line`},
		{"mapping value on line 2", "x: 1\na: b: c\n",
			`config.yaml:2: invalid YAML: mapping values are not allowed in this context; check the indentation and quoting around this line`},
		{"bad indentation", "exemptions:\n  - users: [a]\n   reason: r\n",
			`config.yaml:2: invalid YAML: did not find expected '-' indicator; check the indentation and quoting around this line`},
		{"tab indentation", "\tversion: 1\n",
			`config.yaml:1: invalid YAML: found character that cannot start any token; check the indentation and quoting around this line`},
		{"unknown anchor", "exemptions:\n  - users: *nope\n",
			`config.yaml:2:12: invalid YAML: unknown anchor 'nope' referenced; define it with &nope before using it`},
		{"control character", "exemptions:\n  - users: [\"a\a\"]\n",
			`config.yaml:2:15: invalid YAML: control characters are not allowed; check the indentation and quoting around this line`},
		{"invalid UTF-8", "exemptions:\n  - users: [a\xff]\n",
			`config.yaml:2:14: invalid YAML: invalid leading UTF-8 octet; check the indentation and quoting around this line`},
		{"syntax error in a second document", "exemptions: []\n---\n[\n",
			`config.yaml:3: invalid YAML: did not find expected node content; check the indentation and quoting around this line`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tt.yaml), "config.yaml")
			if err == nil {
				t.Fatalf("no error; parsed %+v", cfg)
			}
			if cfg != nil {
				t.Errorf("config %+v returned with an error", cfg)
			}
			if err.Error() != tt.want {
				t.Errorf("error =\n%s\nwant\n%s", err, tt.want)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Errorf("error %T is not an *Error", err)
			}
		})
	}
}

func TestParseTooManyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("exemptions:\n")
	for range yamlconf.MaxProblems + 10 {
		b.WriteString("- users: [a]\n")
	}
	_, err := Parse([]byte(b.String()), "config.yaml")
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error %T is not a joined error", err)
	}
	errs := j.Unwrap()
	if len(errs) != yamlconf.MaxProblems+1 {
		t.Fatalf("%d errors, want %d", len(errs), yamlconf.MaxProblems+1)
	}
	if got, want := errs[0].Error(), "config.yaml:2:3: exemptions[0].reason: missing; every exemption needs a reason saying why it is allowed"; got != want {
		t.Errorf("first error %q, want %q", got, want)
	}
	if got, want := errs[yamlconf.MaxProblems].Error(), "config.yaml: too many problems; fix these and run again"; got != want {
		t.Errorf("last error %q, want %q", got, want)
	}
}
