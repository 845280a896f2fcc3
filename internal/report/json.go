package report

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/rule"
)

// The JSON writer is hand-written rather than built on encoding/json: a
// large Organization yields hundreds of thousands of results, and on
// BenchmarkJSONWriter's data encoding/json (via mirror structs) was about
// five times slower, with an allocation or more per result. Appending into
// a reused buffer costs one allocation per call.
//
// Layout: the top object and everything but the results take the first
// line, which ends with `"results":[`; then one result per line; then `]}`.
// The output is a single valid JSON document that stays greppable and
// diffable line by line.

const (
	// jsonFlushSize is how much output is buffered before it is written.
	jsonFlushSize = 64 << 10
	// jsonParallelMin is the number of results above which encoding is
	// spread over several goroutines; below it the goroutines cost more
	// than they save.
	jsonParallelMin = 4096
	// jsonChunkResults is how many results one goroutine encodes at a
	// time. It bounds each chunk's buffer to a few hundred KiB.
	jsonChunkResults = 1024
	// jsonResultSizeHint is about how many bytes a typical result takes.
	jsonResultSizeHint = 512
)

// jsonWriter writes the iamgroups.audit/v1 JSON format.
type jsonWriter struct {
	// workers caps the goroutines that encode results; 0 means GOMAXPROCS.
	// Tests set it to compare the sequential and parallel paths.
	workers int
}

// Write renders r as one JSON document.
func (jw jsonWriter) Write(w io.Writer, r *Report) error {
	workers := jw.workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	buf := make([]byte, 0, jsonFlushSize+4<<10)
	buf = appendJSONHeader(buf, r)
	var err error
	if workers > 1 && len(r.Results) > jsonParallelMin {
		buf, err = writeJSONResultsParallel(w, buf, r.Results, workers)
	} else {
		buf, err = writeJSONResults(w, buf, r.Results)
	}
	if err != nil {
		return err
	}
	if len(r.Results) > 0 {
		buf = append(buf, '\n')
	}
	buf = append(buf, "]}\n"...)
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	return nil
}

// writeJSONResults appends every result to buf, writing buf out whenever it
// holds jsonFlushSize bytes, and returns what is left to write.
func writeJSONResults(w io.Writer, buf []byte, results []rule.Result) ([]byte, error) {
	for i := range results {
		buf = appendJSONResultLine(buf, &results[i], i == 0)
		if len(buf) >= jsonFlushSize {
			if _, err := w.Write(buf); err != nil {
				return buf, fmt.Errorf("write json report: %w", err)
			}
			buf = buf[:0]
		}
	}
	return buf, nil
}

// jsonChunk is a run of results encoded by one goroutine. Chunks are
// reused once written, buffer and all.
type jsonChunk struct {
	buf  []byte
	done chan struct{} // receives once the chunk is encoded
}

// writeJSONResultsParallel encodes chunks of results on up to workers
// goroutines and writes them in order. At most workers chunks are in flight
// at once and their buffers are reused, so memory stays bounded whatever
// the number of results.
func writeJSONResultsParallel(w io.Writer, head []byte, results []rule.Result, workers int) ([]byte, error) {
	if _, err := w.Write(head); err != nil {
		return head, fmt.Errorf("write json report: %w", err)
	}
	var (
		pending = make([]*jsonChunk, 0, workers) // in output order
		free    = make([]*jsonChunk, 0, workers)
		next    int // index of the first result not yet handed out
		werr    error
	)
	for {
		for werr == nil && len(pending) < workers && next < len(results) {
			var c *jsonChunk
			if n := len(free); n > 0 {
				c, free = free[n-1], free[:n-1]
				c.buf = c.buf[:0]
			} else {
				c = &jsonChunk{
					buf:  make([]byte, 0, jsonChunkResults*jsonResultSizeHint),
					done: make(chan struct{}, 1),
				}
			}
			end := min(next+jsonChunkResults, len(results))
			go func(c *jsonChunk, start, end int) {
				for i := start; i < end; i++ {
					c.buf = appendJSONResultLine(c.buf, &results[i], i == 0)
				}
				c.done <- struct{}{}
			}(c, next, end)
			pending = append(pending, c)
			next = end
		}
		if len(pending) == 0 {
			return head[:0], werr
		}
		c := pending[0]
		pending = append(pending[:0], pending[1:]...)
		<-c.done
		// After a failed write the chunks in flight are still waited for,
		// so no goroutine outlives the call.
		if werr == nil {
			if _, err := w.Write(c.buf); err != nil {
				werr = fmt.Errorf("write json report: %w", err)
			}
		}
		free = append(free, c)
	}
}

// appendJSONHeader appends everything up to and including `"results":[`.
func appendJSONHeader(b []byte, r *Report) []byte {
	b = append(b, `{"schema":`...)
	b = appendJSONString(b, Schema)
	b = append(b, `,"generated_at":`...)
	b = appendJSONTime(b, r.GeneratedAt)
	b = append(b, `,"tool_version":`...)
	b = appendJSONString(b, r.ToolVersion)
	b = append(b, `,"partial":`...)
	b = strconv.AppendBool(b, r.Partial)
	b = append(b, `,"summary":`...)
	b = appendJSONSummary(b, r.Summary)
	b = append(b, `,"accounts":[`...)
	for i := range r.Accounts {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONAccount(b, &r.Accounts[i])
	}
	b = append(b, `],"warnings":[`...)
	for i, s := range r.Warnings {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	b = append(b, ']')
	if r.APICalls != nil {
		b = append(b, `,"api_calls":{`...)
		ops := make([]string, 0, len(r.APICalls))
		for op := range r.APICalls {
			ops = append(ops, op)
		}
		slices.Sort(ops)
		for i, op := range ops {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, op)
			b = append(b, ':')
			b = strconv.AppendInt(b, int64(r.APICalls[op]), 10)
		}
		b = append(b, '}')
	}
	return append(b, `,"results":[`...)
}

func appendJSONAccount(b []byte, a *AccountInfo) []byte {
	b = append(b, `{"account_id":`...)
	b = appendJSONString(b, a.ID)
	b = append(b, `,"source":{"kind":`...)
	b = appendJSONString(b, a.Source.Kind)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, a.Source.Name)
	b = append(b, `,"method":`...)
	b = appendJSONString(b, a.Source.Method)
	b = append(b, `,"captured_at":`...)
	if a.Source.CapturedAt.IsZero() {
		b = append(b, "null"...)
	} else {
		b = appendJSONTime(b, a.Source.CapturedAt)
	}
	b = append(b, `,"tool_version":`...)
	b = appendJSONString(b, a.Source.ToolVersion)
	b = append(b, `},"partial":`...)
	b = strconv.AppendBool(b, a.Partial)
	b = append(b, `,"summary":`...)
	b = appendJSONSummary(b, a.Summary)
	return append(b, '}')
}

func appendJSONSummary(b []byte, s rule.Summary) []byte {
	b = append(b, `{"users":`...)
	b = strconv.AppendInt(b, int64(s.Users), 10)
	b = append(b, `,"pass":`...)
	b = strconv.AppendInt(b, int64(s.Pass), 10)
	b = append(b, `,"fail":`...)
	b = strconv.AppendInt(b, int64(s.Fail), 10)
	b = append(b, `,"exempt":`...)
	b = strconv.AppendInt(b, int64(s.Exempt), 10)
	b = append(b, `,"error":`...)
	b = strconv.AppendInt(b, int64(s.Error), 10)
	return append(b, '}')
}

// appendJSONResultLine appends one result on its own line, preceded by the
// separator that its position calls for. Both the sequential and the
// parallel path go through it, so they produce the same bytes.
func appendJSONResultLine(b []byte, res *rule.Result, first bool) []byte {
	if first {
		b = append(b, '\n')
	} else {
		b = append(b, ",\n"...)
	}
	return appendJSONResult(b, res)
}

func appendJSONResult(b []byte, res *rule.Result) []byte {
	b = append(b, `{"rule_id":`...)
	b = appendJSONString(b, res.RuleID)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, string(res.Status))
	b = append(b, `,"risk":`...)
	b = appendJSONString(b, string(res.Risk))
	b = append(b, `,"account_id":`...)
	b = appendJSONString(b, res.AccountID)
	b = append(b, `,"user_name":`...)
	b = appendJSONString(b, res.UserName)
	b = append(b, `,"user_arn":`...)
	b = appendJSONString(b, res.UserARN)
	// The fingerprint is res.Fingerprint() without building the string.
	b = append(b, `,"fingerprint":"`...)
	b = appendJSONEscaped(b, res.RuleID)
	b = append(b, '/')
	b = appendJSONEscaped(b, res.AccountID)
	b = append(b, '/')
	b = appendJSONEscaped(b, res.UserARN)
	b = append(b, `","groups":[`...)
	for i, g := range res.Groups {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, g)
	}
	b = append(b, `],"attached_policies":[`...)
	b = appendJSONViolations(b, res.Violations, "managed")
	b = append(b, `],"inline_policies":[`...)
	b = appendJSONViolations(b, res.Violations, "inline")
	b = append(b, `],"permissions_boundary":`...)
	b = appendJSONString(b, res.PermissionsBoundary)
	b = append(b, `,"message":`...)
	b = appendJSONString(b, res.Message)
	b = append(b, `,"exemption":`...)
	b = appendJSONExemption(b, res.Exemption)
	if res.Location != nil && res.Location.File != "" {
		b = append(b, `,"location":`...)
		b = appendJSONLocation(b, *res.Location)
	}
	return append(b, '}')
}

// appendJSONViolations appends the violations of one kind as array
// elements: {"name","arn"} for managed policies, {"name","digest"} for
// inline ones, plus "exemption" and "location" when they are set.
func appendJSONViolations(b []byte, vs []rule.Violation, kind string) []byte {
	n := 0
	for i := range vs {
		v := &vs[i]
		if v.Kind != kind {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = append(b, `{"name":`...)
		b = appendJSONString(b, v.Name)
		if kind == "managed" {
			b = append(b, `,"arn":`...)
			b = appendJSONString(b, v.ARN)
		} else {
			b = append(b, `,"digest":`...)
			b = appendJSONString(b, v.Digest)
		}
		if v.Exemption != nil {
			b = append(b, `,"exemption":`...)
			b = appendJSONExemption(b, v.Exemption)
		}
		if v.Location != nil && v.Location.File != "" {
			b = append(b, `,"location":`...)
			b = appendJSONLocation(b, *v.Location)
		}
		if v.Note != "" {
			b = append(b, `,"note":`...)
			b = appendJSONString(b, v.Note)
		}
		b = append(b, '}')
	}
	return b
}

func appendJSONExemption(b []byte, e *rule.Exemption) []byte {
	if e == nil {
		return append(b, "null"...)
	}
	b = append(b, `{"id":`...)
	b = appendJSONString(b, e.ID)
	b = append(b, `,"reason":`...)
	b = appendJSONString(b, e.Reason)
	b = append(b, `,"expires":`...)
	b = appendJSONString(b, e.Expires)
	b = append(b, `,"expired":`...)
	b = strconv.AppendBool(b, e.Expired)
	return append(b, '}')
}

func appendJSONLocation(b []byte, l model.Location) []byte {
	b = append(b, `{"file":`...)
	b = appendJSONString(b, l.File)
	if l.Line != 0 {
		b = append(b, `,"line":`...)
		b = strconv.AppendInt(b, int64(l.Line), 10)
	}
	if l.Column != 0 {
		b = append(b, `,"column":`...)
		b = strconv.AppendInt(b, int64(l.Column), 10)
	}
	if l.Address != "" {
		b = append(b, `,"address":`...)
		b = appendJSONString(b, l.Address)
	}
	return append(b, '}')
}

// appendJSONTime appends t in UTC as a quoted RFC 3339 timestamp.
func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339)
	return append(b, '"')
}

// appendJSONString appends s as a quoted JSON string.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendJSONEscaped(b, s)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// jsonPlain reports, for each byte, whether it may appear in a JSON string
// as is and on its own: printable ASCII other than '"' and '\\'. '<', '>'
// and '&' stay literal: the output is not HTML.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendJSONEscaped appends the body of a JSON string holding s: quotes,
// backslashes and control characters are escaped, U+2028 and U+2029 too
// (JavaScript treats them as line ends), and each byte of invalid UTF-8
// becomes U+FFFD so the output is always valid UTF-8.
func appendJSONEscaped(b []byte, s string) []byte {
	// Nearly every string is an ARN, a name or an ID with nothing to
	// escape: find that out fast and copy it in one go.
	i := plainPrefix(s)
	if i == len(s) {
		return append(b, s...)
	}
	return appendJSONEscapedFrom(b, s, i)
}

// plainPrefix returns a length of a prefix of s that needs no escaping:
// len(s) when none of s does, else at most the index of the first byte that
// does. It tests eight bytes at a time; the last word may overlap the one
// before it.
func plainPrefix(s string) int {
	n := len(s)
	if n < 8 {
		i := 0
		for i < n && jsonPlain[s[i]] {
			i++
		}
		return i
	}
	i := 0
	for ; i+8 <= n; i += 8 {
		if !plainWord(load64(s[i:])) {
			return i
		}
	}
	if i < n && !plainWord(load64(s[n-8:])) {
		return i
	}
	return n
}

// load64 reads the first eight bytes of s as a little-endian word.
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// plainWord reports whether the eight bytes of w are all plain: no control
// character, '"', '\\' or byte ≥ 0x80.
func plainWord(w uint64) bool {
	const (
		lo  = 0x0101010101010101
		hi  = 0x8080808080808080
		sp  = 0x2020202020202020
		quo = 0x2222222222222222
		bsl = 0x5c5c5c5c5c5c5c5c
	)
	// (v - lo) & ^v & hi is non-zero exactly when some byte of v is zero,
	// and (v - n*lo) & ^v & hi when some byte is less than n (n ≤ 0x80):
	// borrows start only at such a byte. Bytes ≥ 0x80 show in w & hi.
	q := w ^ quo
	k := w ^ bsl
	return ((w-sp)&^w|(q-lo)&^q|(k-lo)&^k|w)&hi == 0
}

// appendJSONEscapedFrom is appendJSONEscaped for a string whose first i
// bytes need no escaping.
func appendJSONEscapedFrom(b []byte, s string, i int) []byte {
	start := 0 // s[start:i] is pending, needing no escape
	for i < len(s) {
		c := s[i]
		if jsonPlain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(b, s[start:]...)
}
