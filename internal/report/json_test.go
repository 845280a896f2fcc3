package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/rule"
)

// The decoded shape of iamgroups.audit/v1, as a consumer would declare it.
type auditDoc struct {
	Schema      string         `json:"schema"`
	GeneratedAt time.Time      `json:"generated_at"`
	ToolVersion string         `json:"tool_version"`
	Partial     bool           `json:"partial"`
	Summary     rule.Summary   `json:"summary"`
	Accounts    []auditAccount `json:"accounts"`
	Warnings    []string       `json:"warnings"`
	APICalls    map[string]int `json:"api_calls"`
	Results     []auditResult  `json:"results"`
}

type auditAccount struct {
	AccountID string `json:"account_id"`
	Source    struct {
		Kind        string     `json:"kind"`
		Name        string     `json:"name"`
		Method      string     `json:"method"`
		CapturedAt  *time.Time `json:"captured_at"`
		ToolVersion string     `json:"tool_version"`
	} `json:"source"`
	Partial bool         `json:"partial"`
	Summary rule.Summary `json:"summary"`
}

type auditPolicy struct {
	Name      string          `json:"name"`
	ARN       string          `json:"arn"`
	Digest    string          `json:"digest"`
	Exemption *rule.Exemption `json:"exemption"`
	Location  *model.Location `json:"location"`
}

type auditResult struct {
	RuleID              string          `json:"rule_id"`
	Status              rule.Status     `json:"status"`
	Risk                rule.Risk       `json:"risk"`
	AccountID           string          `json:"account_id"`
	UserName            string          `json:"user_name"`
	UserARN             string          `json:"user_arn"`
	Fingerprint         string          `json:"fingerprint"`
	Groups              []string        `json:"groups"`
	AttachedPolicies    []auditPolicy   `json:"attached_policies"`
	InlinePolicies      []auditPolicy   `json:"inline_policies"`
	PermissionsBoundary *string         `json:"permissions_boundary"`
	Message             string          `json:"message"`
	Exemption           *rule.Exemption `json:"exemption"`
	Location            *model.Location `json:"location"`
}

func decodeAudit(t *testing.T, out []byte) (auditDoc, map[string]json.RawMessage) {
	t.Helper()
	if !json.Valid(out) {
		t.Fatalf("output is not valid JSON:\n%s", out)
	}
	var doc auditDoc
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("decode: %v", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatal(err)
	}
	return doc, raw
}

func TestJSONRoundTrip(t *testing.T) {
	r := fixture()
	out := render(t, "json", Options{}, r)
	doc, raw := decodeAudit(t, out)

	if doc.Schema != Schema || !doc.GeneratedAt.Equal(r.GeneratedAt) || doc.ToolVersion != r.ToolVersion ||
		doc.Partial != r.Partial || doc.Summary != r.Summary {
		t.Errorf("header = %+v", doc)
	}
	if !strings.Contains(string(out), `"generated_at":"2025-06-01T12:00:00Z"`) {
		t.Errorf("generated_at is not RFC 3339 UTC")
	}
	if !slices.Equal(doc.Warnings, r.Warnings) {
		t.Errorf("warnings = %q", doc.Warnings)
	}
	if fmt.Sprint(doc.APICalls) != fmt.Sprint(r.APICalls) {
		t.Errorf("api_calls = %v, want %v", doc.APICalls, r.APICalls)
	}
	if len(doc.Accounts) != len(r.Accounts) {
		t.Fatalf("%d accounts, want %d", len(doc.Accounts), len(r.Accounts))
	}
	for i, a := range doc.Accounts {
		w := r.Accounts[i]
		if a.AccountID != w.ID || a.Partial != w.Partial || a.Summary != w.Summary ||
			a.Source.Kind != w.Source.Kind || a.Source.Name != w.Source.Name ||
			a.Source.Method != w.Source.Method || a.Source.ToolVersion != w.Source.ToolVersion {
			t.Errorf("account %d = %+v, want %+v", i, a, w)
		}
		switch {
		case w.Source.CapturedAt.IsZero() && a.Source.CapturedAt != nil:
			t.Errorf("account %d: captured_at = %v, want null", i, a.Source.CapturedAt)
		case !w.Source.CapturedAt.IsZero() && (a.Source.CapturedAt == nil || !a.Source.CapturedAt.Equal(w.Source.CapturedAt) || a.Source.CapturedAt.Location() != time.UTC):
			t.Errorf("account %d: captured_at = %v, want %v in UTC", i, a.Source.CapturedAt, w.Source.CapturedAt)
		}
	}

	if len(doc.Results) != len(r.Results) {
		t.Fatalf("%d results, want %d", len(doc.Results), len(r.Results))
	}
	for i, got := range doc.Results {
		want := &r.Results[i]
		checkResult(t, i, got, want)
	}

	var results []map[string]json.RawMessage
	if err := json.Unmarshal(raw["results"], &results); err != nil {
		t.Fatal(err)
	}
	for i, res := range results {
		if string(res["groups"]) == "null" || string(res["attached_policies"]) == "null" || string(res["inline_policies"]) == "null" {
			t.Errorf("result %d: a list is null: %s", i, res["groups"])
		}
		if _, ok := res["exemption"]; !ok {
			t.Errorf("result %d: no exemption key", i)
		}
		if _, ok := res["location"]; ok != (r.Results[i].Location != nil && r.Results[i].Location.File != "") {
			t.Errorf("result %d: location present = %v", i, ok)
		}
	}
}

func checkResult(t *testing.T, i int, got auditResult, want *rule.Result) {
	t.Helper()
	if got.RuleID != want.RuleID || got.Status != want.Status || got.Risk != want.Risk ||
		got.AccountID != want.AccountID || got.UserName != want.UserName || got.UserARN != want.UserARN ||
		got.Fingerprint != want.Fingerprint() || got.Message != want.Message {
		t.Errorf("result %d = %+v, want %+v", i, got, want)
	}
	if got.Groups == nil || !slices.Equal(got.Groups, want.Groups) {
		t.Errorf("result %d: groups = %#v, want %q", i, got.Groups, want.Groups)
	}
	if got.PermissionsBoundary == nil || *got.PermissionsBoundary != want.PermissionsBoundary {
		t.Errorf("result %d: permissions_boundary = %v, want %q", i, got.PermissionsBoundary, want.PermissionsBoundary)
	}
	if fmt.Sprint(got.Exemption) != fmt.Sprint(want.Exemption) {
		t.Errorf("result %d: exemption = %+v, want %+v", i, got.Exemption, want.Exemption)
	}
	if want.Location == nil && got.Location != nil || want.Location != nil && (got.Location == nil || *got.Location != *want.Location) {
		t.Errorf("result %d: location = %+v, want %+v", i, got.Location, want.Location)
	}
	var managed, inline []auditPolicy
	for _, v := range want.Violations {
		p := auditPolicy{Name: v.Name, ARN: v.ARN, Digest: v.Digest, Exemption: v.Exemption}
		if v.Location != nil && v.Location.File != "" {
			p.Location = v.Location
		}
		if v.Kind == "managed" {
			managed = append(managed, p)
		} else {
			inline = append(inline, p)
		}
	}
	if fmt.Sprintf("%+v", deref(got.AttachedPolicies)) != fmt.Sprintf("%+v", deref(managed)) {
		t.Errorf("result %d: attached_policies = %+v, want %+v", i, deref(got.AttachedPolicies), deref(managed))
	}
	if fmt.Sprintf("%+v", deref(got.InlinePolicies)) != fmt.Sprintf("%+v", deref(inline)) {
		t.Errorf("result %d: inline_policies = %+v, want %+v", i, deref(got.InlinePolicies), deref(inline))
	}
}

// deref prints pointers' targets, so that policies compare by value.
func deref(ps []auditPolicy) []string {
	out := []string{}
	for _, p := range ps {
		s := fmt.Sprintf("%s|%s|%s", p.Name, p.ARN, p.Digest)
		if p.Exemption != nil {
			s += fmt.Sprintf("|%+v", *p.Exemption)
		}
		if p.Location != nil {
			s += fmt.Sprintf("|%+v", *p.Location)
		}
		out = append(out, s)
	}
	return out
}

func TestJSONLayout(t *testing.T) {
	out := string(render(t, "json", Options{}, fixture()))
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if !strings.HasPrefix(lines[0], `{"schema":"iamgroups.audit/v1",`) || !strings.HasSuffix(lines[0], `"results":[`) {
		t.Errorf("first line = %s", lines[0])
	}
	if last := lines[len(lines)-1]; last != "]}" {
		t.Errorf("last line = %q, want ]}", last)
	}
	if n := len(lines) - 2; n != len(fixture().Results) {
		t.Errorf("%d result lines, want one per result", n)
	}
	for _, l := range lines[1 : len(lines)-1] {
		if !strings.HasPrefix(l, `{"rule_id":`) {
			t.Errorf("result line %q", l)
		}
	}

	empty := &Report{GeneratedAt: time.Unix(0, 0)}
	got := string(render(t, "json", Options{}, empty))
	want := `{"schema":"iamgroups.audit/v1","generated_at":"1970-01-01T00:00:00Z","tool_version":"","partial":false,` +
		`"summary":{"users":0,"pass":0,"fail":0,"exempt":0,"error":0},"accounts":[],"warnings":[],"results":[]}` + "\n"
	if got != want {
		t.Errorf("empty report:\n got %s\nwant %s", got, want)
	}
}

// hostile are strings that a snapshot or template could carry.
var hostile = []string{
	"",
	`say "hi"`,
	`back\slash\`,
	"new\nline\r\ttab",
	"\x00\x01\x08\x0c\x1b[31m\x1f\x7f",
	"bad \xff\xfe utf8 \xc3",
	"truncated \xe2\x82",
	"surrogate \xed\xa0\x80",
	"line sep \u2028 para sep \u2029 end",
	"<script>alert('&')</script>",
	"émoji 😀 中文",
	"\u2028",
	"\xff",
	"12345678\"12345678\\1234567\n",
	strings.Repeat("a", 7) + "\x80" + strings.Repeat("b", 9),
}

// decodedAs is what a JSON decoder must return for s: each byte of invalid
// UTF-8 becomes U+FFFD, exactly as a []rune conversion does.
func decodedAs(s string) string { return string([]rune(s)) }

func TestJSONEscaping(t *testing.T) {
	for _, s := range hostile {
		b := appendJSONString(nil, s)
		if !json.Valid(b) || !utf8.Valid(b) {
			t.Errorf("%q encodes as invalid JSON %s", s, b)
			continue
		}
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if got != decodedAs(s) {
			t.Errorf("%q round-trips as %q", s, got)
		}
		if strings.ContainsAny(string(b), "\u2028\u2029") {
			t.Errorf("%q: U+2028/U+2029 left raw in %s", s, b)
		}
	}

	// Every field of a result goes through the escaper.
	r := fixture()
	for i := range r.Results {
		h := hostile[i%len(hostile)]
		res := &r.Results[i]
		res.UserName, res.UserARN, res.Message = h, h+"arn", h+"msg"
		res.Groups = append(res.Groups, h)
		res.PermissionsBoundary = h
		for j := range res.Violations {
			res.Violations[j].Name = h
		}
	}
	r.Warnings = hostile
	r.Accounts[0].Source.Name = hostile[4]
	doc, _ := decodeAudit(t, render(t, "json", Options{}, r))
	for i := range doc.Results {
		want := r.Results[i]
		want.UserName = decodedAs(want.UserName)
		want.UserARN = decodedAs(want.UserARN)
		want.Message = decodedAs(want.Message)
		want.PermissionsBoundary = decodedAs(want.PermissionsBoundary)
		want.Groups = slices.Clone(want.Groups)
		for j := range want.Groups {
			want.Groups[j] = decodedAs(want.Groups[j])
		}
		want.Violations = slices.Clone(want.Violations)
		for j := range want.Violations {
			want.Violations[j].Name = decodedAs(want.Violations[j].Name)
		}
		checkResult(t, i, doc.Results[i], &want)
	}
	for i, w := range doc.Warnings {
		if w != decodedAs(hostile[i]) {
			t.Errorf("warning %d = %q", i, w)
		}
	}
}

func FuzzJSONString(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q encodes as %s: %v", s, b, err)
		}
		if got != decodedAs(s) {
			t.Fatalf("%q round-trips as %q", s, got)
		}
	})
}

func TestWordIsPlain(t *testing.T) {
	naive := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
				return false
			}
		}
		return true
	}
	// Every byte value at every position, in plain and in tricky company.
	for _, bg := range []byte{'a', ' ', '!', '#', '[', ']', '~', 0x7f} {
		for pos := range 8 {
			for c := range 256 {
				w := bytes.Repeat([]byte{bg}, 8)
				w[pos] = byte(c)
				if got, want := plainWord(load64(string(w))), naive(string(w)); got != want {
					t.Fatalf("plainWord(%q) = %v, want %v", w, got, want)
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		var w [8]byte
		for i := range w {
			w[i] = byte(rng.IntN(256))
			if rng.IntN(2) == 0 {
				w[i] = byte(0x20 + rng.IntN(0x60))
			}
		}
		if got, want := plainWord(load64(string(w[:]))), naive(string(w[:])); got != want {
			t.Fatalf("plainWord(%q) = %v, want %v", w, got, want)
		}
	}
}

// synthetic returns n results shaped like a large real audit: most users
// pass, a third fail with a managed and sometimes an inline policy.
func synthetic(n int) *Report {
	results := make([]rule.Result, n)
	for i := range results {
		account := fmt.Sprintf("%012d", 100000000000+i/5000)
		name := fmt.Sprintf("user-%06d", i)
		res := rule.Result{
			RuleID: "IAM-071", Risk: rule.Medium, AccountID: account, UserName: name,
			UserARN: "arn:aws:iam::" + account + ":user/team/" + name,
			Groups:  []string{"Developers", fmt.Sprintf("team-%03d", i%97)},
		}
		switch i % 3 {
		case 0:
			res.Status = rule.Fail
			res.Violations = []rule.Violation{
				{Kind: "managed", Name: "ReadOnlyAccess", ARN: "arn:aws:iam::aws:policy/ReadOnlyAccess"},
			}
			if i%2 == 0 {
				res.Violations = append(res.Violations, rule.Violation{Kind: "inline", Name: "S3Access",
					Digest: "sha256:3f1c0a9e5b7d2c4f6a8e0b1d3c5f7a9e2b4d6f8a0c2e4b6d8f0a1c3e5b7d9f1a"})
			}
			res.Message = rule.FailMessage(res.Violations)
		case 1:
			res.Status = rule.Pass
			res.Message = "no direct policies"
			res.PermissionsBoundary = "arn:aws:iam::" + account + ":policy/DevBoundary"
		default:
			res.Status = rule.Pass
			res.Message = "no direct policies"
		}
		results[i] = res
	}
	return &Report{
		GeneratedAt: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC),
		ToolVersion: "1.2.3",
		Results:     results,
		Summary:     rule.Summarize(results),
	}
}

func TestJSONParallelMatchesSequential(t *testing.T) {
	for _, n := range []int{jsonParallelMin + 1, jsonChunkResults*7 + 13, 20000} {
		r := synthetic(n)
		var seq, par bytes.Buffer
		if err := (jsonWriter{workers: 1}).Write(&seq, r); err != nil {
			t.Fatal(err)
		}
		if err := (jsonWriter{workers: 4}).Write(&par, r); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(seq.Bytes(), par.Bytes()) {
			t.Fatalf("n=%d: parallel output differs:\n%s", n, firstDifference(seq.Bytes(), par.Bytes()))
		}
		var doc auditDoc
		if err := json.Unmarshal(seq.Bytes(), &doc); err != nil || len(doc.Results) != n {
			t.Fatalf("n=%d: %d results decoded, err %v", n, len(doc.Results), err)
		}
	}
}

// writeSizes records the size of each write.
type writeSizes struct{ sizes []int }

func (w *writeSizes) Write(p []byte) (int, error) {
	w.sizes = append(w.sizes, len(p))
	return len(p), nil
}

func TestJSONFlushesInChunks(t *testing.T) {
	r := synthetic(3000)
	var w writeSizes
	if err := (jsonWriter{workers: 1}).Write(&w, r); err != nil {
		t.Fatal(err)
	}
	if len(w.sizes) < 5 {
		t.Errorf("%d writes for %d results, want output flushed in chunks", len(w.sizes), len(r.Results))
	}
	for _, n := range w.sizes {
		if n > jsonFlushSize+4<<10 {
			t.Errorf("a write of %d bytes, want at most about %d", n, jsonFlushSize)
		}
	}
}

func TestJSONWriteError(t *testing.T) {
	r := synthetic(20000)
	for _, workers := range []int{1, 4} {
		for _, n := range []int{0, 100, 200 << 10, 2 << 20} {
			before := runtime.NumGoroutine()
			err := (jsonWriter{workers: workers}).Write(&failAfter{n: n}, r)
			if !errors.Is(err, errDiskFull) || !strings.HasPrefix(err.Error(), "write json report: ") {
				t.Errorf("workers=%d, fail after %d: err = %v", workers, n, err)
			}
			// A worker signals its chunk just before it returns: give the
			// last ones a moment to exit.
			after := runtime.NumGoroutine()
			for deadline := time.Now().Add(2 * time.Second); after > before && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
				after = runtime.NumGoroutine()
			}
			if after > before {
				t.Errorf("workers=%d: %d goroutines left running", workers, after-before)
			}
		}
	}
}

func BenchmarkJSONWriter(b *testing.B) {
	r := synthetic(100000)
	var size int64
	{
		var buf bytes.Buffer
		if err := (jsonWriter{workers: 1}).Write(&buf, r); err != nil {
			b.Fatal(err)
		}
		size = int64(buf.Len())
	}
	for _, bc := range []struct {
		name    string
		workers int
	}{
		{"sequential", 1},
		{"gomaxprocs", 0}, // what New returns: parallel when GOMAXPROCS > 1
	} {
		b.Run(bc.name, func(b *testing.B) {
			w := jsonWriter{workers: bc.workers}
			b.ReportAllocs()
			b.SetBytes(size)
			for b.Loop() {
				if err := w.Write(io.Discard, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
