package shellword

import (
	"os/exec"
	"testing"
)

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "''",
		"plain-name_1.2/x:y@z%": "plain-name_1.2/x:y@z%",
		"two words":             "'two words'",
		"it's":                  `'it'\''s'`,
		"$(rm -rf ~)":           "'$(rm -rf ~)'",
		"a;b|c&d`e`":            "'a;b|c&d`e`'",
		"arn:aws:iam::1:x":      "arn:aws:iam::1:x",
		"*":                     "'*'",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestQuoteRoundTrip has a real shell read each quoted word back.
func TestQuoteRoundTrip(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for _, in := range []string{"", "plain", "two words", "it's", `back\slash`, "$HOME", "new\nline", "*", "'''"} {
		out, err := exec.Command(sh, "-c", "printf %s "+Quote(in)).Output()
		if err != nil || string(out) != in {
			t.Errorf("sh read %s back as %q (%v), want %q", Quote(in), out, err, in)
		}
	}
}
