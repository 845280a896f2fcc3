package exempt

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"unicode/utf8"
)

// isARN reports whether a pattern is an ARN glob rather than a name glob.
func isARN(pattern string) bool { return strings.HasPrefix(pattern, "arn:") }

// matcher matches one users or policies pattern.
type matcher struct {
	pattern string
	arn     bool
	re      *regexp.Regexp // for ARN patterns
}

// newMatcher prepares a pattern. A malformed pattern (possible only in a
// Config built in code) gives a matcher that matches nothing.
func newMatcher(pattern string) matcher {
	m := matcher{pattern: pattern, arn: isARN(pattern)}
	if m.arn {
		m.re, _ = compileGlob(pattern, true)
	}
	return m
}

// matchName matches a name pattern with path.Match.
func (m matcher) matchName(name string) bool {
	if m.arn {
		return false
	}
	ok, err := path.Match(m.pattern, name)
	return err == nil && ok
}

// matchARN matches an ARN pattern, in which '/' is an ordinary character.
func (m matcher) matchARN(arn string) bool {
	return m.arn && m.re != nil && m.re.MatchString(arn)
}

// compileGlob compiles a path.Match pattern into a regular expression. With
// slashOrdinary, '*' and '?' also match '/'; without it the expression
// matches exactly what path.Match does (for valid UTF-8).
func compileGlob(pattern string, slashOrdinary bool) (*regexp.Regexp, error) {
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, fmt.Errorf("glob %q: %w", pattern, err)
	}
	one, many := `[^/]`, `[^/]*`
	if slashOrdinary {
		one, many = `(?s:.)`, `(?s:.*)`
	}
	var b strings.Builder
	b.WriteString(`\A`)
	for i := 0; i < len(pattern); {
		switch pattern[i] {
		case '*':
			b.WriteString(many)
			i++
		case '?':
			b.WriteString(one)
			i++
		case '[':
			i = writeClass(&b, pattern, i+1)
		case '\\':
			i++
			fallthrough
		default:
			r, n := utf8.DecodeRuneInString(pattern[i:])
			writeRune(&b, r)
			i += n
		}
	}
	b.WriteString(`\z`)
	return regexp.Compile(b.String())
}

// writeClass translates the character class that starts at pattern[i]
// (just after '[') and returns the index after its ']'. The pattern has been
// validated by path.Match.
func writeClass(b *strings.Builder, pattern string, i int) int {
	negated := false
	if pattern[i] == '^' {
		negated = true
		i++
	}
	var ranges strings.Builder
	for n := 0; ; n++ {
		if pattern[i] == ']' && n > 0 {
			i++
			break
		}
		var lo, hi rune
		lo, i = classChar(pattern, i)
		hi = lo
		if pattern[i] == '-' {
			hi, i = classChar(pattern, i+1)
		}
		// path.Match accepts an inverted range and matches nothing with it.
		if lo <= hi {
			writeRune(&ranges, lo)
			ranges.WriteByte('-')
			writeRune(&ranges, hi)
		}
	}
	switch {
	case ranges.Len() > 0 && negated:
		b.WriteString("[^" + ranges.String() + "]")
	case ranges.Len() > 0:
		b.WriteString("[" + ranges.String() + "]")
	case negated: // excludes nothing: any character, '/' included
		b.WriteString(`(?s:.)`)
	default: // includes nothing
		b.WriteString(`[^\x{0}-\x{10ffff}]`)
	}
	return i
}

// classChar reads one possibly escaped character of a class.
func classChar(pattern string, i int) (rune, int) {
	if pattern[i] == '\\' {
		i++
	}
	r, n := utf8.DecodeRuneInString(pattern[i:])
	return r, i + n
}

func writeRune(b *strings.Builder, r rune) {
	fmt.Fprintf(b, `\x{%x}`, r)
}
