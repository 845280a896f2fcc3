package exempt

import (
	"path"
	"testing"
	"unicode/utf8"
)

func TestMatcher(t *testing.T) {
	tests := []struct {
		pattern, name, arn string
		want               bool
	}{
		// Name patterns: path.Match on the name, never on the ARN.
		{"alice", "alice", "arn:aws:iam::111122223333:user/alice", true},
		{"ali*", "alice", "", true},
		{"a?ice", "alice", "", true},
		{"[a-c]lice", "alice", "", true},
		{"[^a]lice", "alice", "", false},
		{"\\*", "*", "", true},
		{"Alice", "alice", "", false}, // case-sensitive
		{"*", "alice", "", true},
		{"alice", "", "arn:aws:iam::111122223333:user/alice", false},
		// ARN patterns: '*' and '?' cross '/'; they never match a name.
		{"arn:aws:iam::*:user/*", "", "arn:aws:iam::111122223333:user/alice", true},
		{"arn:aws:iam::*:user/*", "", "arn:aws:iam::111122223333:user/ops/eu/alice", true},
		{"arn:aws:iam::*:user/*", "", "arn:aws-cn:iam::111122223333:user/alice", false},
		{"arn:*:iam::*:user/*", "", "arn:aws-cn:iam::111122223333:user/alice", true},
		{"arn:aws:iam::*:user/ops/*", "", "arn:aws:iam::111122223333:user/ops/eu/alice", true},
		{"arn:aws:iam::*:user/ops/*", "", "arn:aws:iam::111122223333:user/dev/alice", false},
		{"arn:aws:iam::*:user/*/alice", "", "arn:aws:iam::111122223333:user/a/b/alice", true},
		{"arn:aws:iam::111122223333:user?alice", "", "arn:aws:iam::111122223333:user/alice", true},
		{"arn:aws:iam::[0-9]*:user/[!a]*", "", "arn:aws:iam::1:user/!x", true},
		{"arn:aws:iam::*:user/[^a]lice", "", "arn:aws:iam::1:user/alice", false},
		{"arn:aws:iam::*:user/\\*", "", "arn:aws:iam::1:user/*", true},
		{"arn:aws:iam::*:user/\\*", "", "arn:aws:iam::1:user/x", false},
		{"arn:aws:iam::*:user/alice", "alice", "", false},
		{"arn:aws:iam::*:user/[", "", "arn:aws:iam::1:user/[", false}, // bad pattern matches nothing
		{"[", "[", "", false},
	}
	for _, tt := range tests {
		m := newMatcher(tt.pattern)
		got := m.matchName(tt.name) || (tt.arn != "" && m.matchARN(tt.arn))
		if got != tt.want {
			t.Errorf("%q against name %q, ARN %q: %v, want %v", tt.pattern, tt.name, tt.arn, got, tt.want)
		}
	}
}

func TestCompileGlobClasses(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"[z-a]", "m", false},   // an inverted range matches nothing
		{"[^z-a]", "/", true},   // so its negation matches anything
		{"[z-ab]", "b", true},   // other ranges still count
		{"[\\]]", "]", true},    // escaped ']'
		{"[\\-]", "-", true},    // escaped '-'
		{"[a\\-z]", "m", false}, // not a range
		{"[*]", "*", true},      // '*' in a class is literal
		{"[*]", "x", false},
		{"é?", "éx", true},
		{"[α-ω]", "λ", true},
		{"a\nb*", "a\nbc\nd", true},
		{"*??", "嬁", false}, // one rune; path.Match says true, see FuzzGlob
	}
	for _, tt := range tests {
		re, err := compileGlob(tt.pattern, true)
		if err != nil {
			t.Fatalf("%q: %v", tt.pattern, err)
		}
		if got := re.MatchString(tt.s); got != tt.want {
			t.Errorf("%q (%s) against %q: %v, want %v", tt.pattern, re, tt.s, got, tt.want)
		}
	}
	if _, err := compileGlob("[", true); err == nil {
		t.Error("no error for a bad pattern")
	}
}

// FuzzGlob checks that the translation of globs into regular expressions
// agrees with path.Match when '/' keeps its meaning.
func FuzzGlob(f *testing.F) {
	for _, s := range [][2]string{
		{"a*b", "axxb"}, {"a*", "a/b"}, {"?", "/"}, {"[^a]", "/"}, {"[a-c]x", "bx"},
		{"\\*", "*"}, {"[z-a]", "m"}, {"[^z-a]", "m"}, {"*[", "x"}, {"a\\", "a"},
		{"[\\]a]", "]"}, {"*/*", "a/b"}, {"ä*", "äü"}, {"[]a]", "a"}, {"[-]", "-"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		// path.Match compares literal bytes, and after a '*' it skips bytes,
		// not runes, so on multi-byte names it can match inside a rune
		// ("*??" matches the one-rune name "嬁"). IAM names are ASCII.
		if !utf8.ValidString(pattern) || !isASCII(s) {
			t.Skip("path.Match is byte-wise on non-ASCII names")
		}
		want, err := path.Match(pattern, s)
		re, cerr := compileGlob(pattern, false)
		if (err != nil) != (cerr != nil) {
			// path.Match may stop before a syntax error once it knows the
			// answer; compileGlob validates the whole pattern.
			if _, verr := path.Match(pattern, ""); (verr != nil) != (cerr != nil) {
				t.Fatalf("%q: path.Match error %v, compileGlob error %v", pattern, verr, cerr)
			}
			return
		}
		if cerr != nil {
			return
		}
		if got := re.MatchString(s); got != want {
			t.Fatalf("%q against %q: regexp %s says %v, path.Match %v", pattern, s, re, got, want)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
