package exempt

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/iamgroups/iamgroups/internal/yamlconf"
)

// dateLayout is the only date format the config accepts.
const dateLayout = "2006-01-02"

// Config is a parsed exemptions file.
type Config struct {
	// Path is the file the config was read from, as given to Load or Parse.
	Path string
	// Exemptions in file order; the first matching one wins.
	Exemptions []Exemption
}

// Exemption is one entry of the config. Users, Tags and Policies select
// what it covers (at least one is required); Accounts restricts it to some
// accounts. Selectors are ANDed; the values of one selector are ORed.
type Exemption struct {
	// Users are user name globs, or user ARN globs when they start with "arn:".
	Users []string
	// Tags are "key=value" pairs; the user must carry one of them.
	Tags []string
	// Policies are managed policy ARN globs (starting with "arn:") or managed
	// or inline policy name globs. An entry with policies covers violations,
	// not the whole user.
	Policies []string
	// Accounts are 12-digit account IDs the entry is restricted to.
	Accounts []string
	// Reason says why the exemption is allowed; it is required.
	Reason string
	// Expires is the last day (UTC, YYYY-MM-DD) the exemption applies, or "".
	Expires string
	// Line and Column locate the entry in the file; zero when built in code.
	Line, Column int
}

// ExpiredOn reports whether the exemption no longer applies on the UTC day
// of now. It still applies on its Expires day.
func (e *Exemption) ExpiredOn(now time.Time) bool {
	return e.Expires != "" && e.Expires < now.UTC().Format(dateLayout)
}

// Describe summarises what the entry selects, such as
// "users: ci-*; accounts: 111122223333".
func (e *Exemption) Describe() string {
	var parts []string
	for _, s := range []struct {
		key    string
		values []string
	}{{"users", e.Users}, {"tags", e.Tags}, {"policies", e.Policies}, {"accounts", e.Accounts}} {
		if len(s.values) > 0 {
			parts = append(parts, s.key+": "+shortList(s.values))
		}
	}
	return strings.Join(parts, "; ")
}

// maxDescribed bounds how many values of a list an ID shows.
const maxDescribed = 3

func shortList(values []string) string {
	if len(values) <= maxDescribed {
		return strings.Join(values, ", ")
	}
	return strings.Join(values[:maxDescribed], ", ") + fmt.Sprintf(" (+%d more)", len(values)-maxDescribed)
}

// id names entry i (0-based) of a config: "#1 users: break-glass-admin".
func id(i int, e *Exemption) string {
	return "#" + strconv.Itoa(i+1) + " " + e.Describe()
}

// Load reads and parses the exemptions config at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read exemptions config: %w", err)
	}
	return Parse(data, path)
}

// Error is one problem in a config file, located by file, line, column and
// field; Parse reports each problem as one.
type Error = yamlconf.Error
