package snapshot

import (
	"bytes"
	"runtime"
	"sync/atomic"

	"github.com/iamgroups/iamgroups/internal/jsonscan"
	"github.com/iamgroups/iamgroups/internal/model"
)

// Parallel decoding of user lists.
//
// A large snapshot is cut into as many byte ranges as there are CPUs. For
// each range but the first, a goroutine looks for a user object that starts
// an element of a UserDetailList and decodes users from there, in parallel
// with the main pass. Finding such a start in the middle of a JSON document
// is a guess (the bytes could sit inside a string), so the main pass adopts
// a chunk only when it reaches, as an element boundary of a user list, the
// exact offset the chunk started at; otherwise the chunk is ignored and the
// main pass decodes those users itself. The guess can cost time, never
// correctness.

// parallelMin is the smallest input worth splitting (a variable so that
// tests can make the parallel path run on small inputs).
var parallelMin = 1 << 20

// maxCandidate bounds the bytes examined to test one chunk start, and
// maxCandidates the starts tested per chunk, so that input crafted to look
// like users everywhere cannot make finding starts slow.
const (
	maxCandidate  = 64 << 10
	maxCandidates = 256
)

// maxListDepth is the deepest a UserDetailList sits in any input format.
const maxListDepth = 4

// adopted counts the chunks the main pass adopted, for tests to check that
// the parallel path really runs.
var adopted atomic.Int64

// chunk is a run of users decoded ahead by another goroutine.
type chunk struct {
	start int // offset of the first user's '{'
	next  int // start of the following chunk, or -1
	done  chan struct{}
	// Set when done is closed:
	users   userBlocks
	end     int  // offset where decoding stopped: ']' or next
	handoff bool // stopped exactly at next: the following chunk continues
	err     error
}

// speculator holds the chunks of one input, ordered by start.
type speculator struct {
	chunks []*chunk
	k      int // first chunk the main pass may still reach
}

// speculate starts decoding chunks of data; nil when not worth it.
func speculate(data []byte, full, mapped bool) *speculator {
	n := min(runtime.GOMAXPROCS(0), 8)
	if n < 2 || len(data) < parallelMin {
		return nil
	}
	s := &speculator{}
	for i := 1; i < n; i++ {
		from := i * len(data) / n
		if len(s.chunks) > 0 && s.chunks[len(s.chunks)-1].start >= from {
			continue
		}
		start := findUserStart(data, from, (i+1)*len(data)/n)
		if start < 0 {
			continue
		}
		s.chunks = append(s.chunks, &chunk{start: start, next: -1, done: make(chan struct{})})
	}
	for i, c := range s.chunks {
		if i+1 < len(s.chunks) {
			c.next = s.chunks[i+1].start
		}
	}
	for _, c := range s.chunks {
		go c.decode(data, full, mapped)
	}
	return s
}

// userKeys are the members a user object can start with.
var userKeys = map[string]bool{
	"Path": true, "UserName": true, "UserId": true, "Arn": true, "CreateDate": true,
	"GroupList": true, "AttachedManagedPolicies": true, "UserPolicyList": true,
	"Tags": true, "PermissionsBoundary": true,
}

// findUserStart returns the offset of the first '{' in [from, limit) that
// plausibly starts an element of a user list, or -1.
func findUserStart(data []byte, from, limit int) int {
	for p, tries := from, 0; p < limit && tries < maxCandidates; tries++ {
		i := bytes.IndexByte(data[p:limit], '{')
		if i < 0 {
			return -1
		}
		p += i
		// A fresh decoder over a bounded window for each candidate.
		x := newDecoder(data[:min(len(data), p+maxCandidate)], false)
		if plausibleUser(x, data, p) {
			return p
		}
		p++
	}
	return -1
}

func plausibleUser(x *decoder, data []byte, p int) bool {
	// The previous significant byte must open or continue an array.
	q := p - 1
	for q >= 0 && isSpace(data[q]) {
		q--
	}
	if q < 0 || (data[q] != ',' && data[q] != '[') {
		return false
	}
	// The first member must be a user's.
	x.d.Seek(p + 1)
	if x.d.Peek() != jsonscan.String {
		return false
	}
	if key, err := x.d.ReadString(); err != nil || !userKeys[key] {
		return false
	}
	x.d.Seek(p)
	var u model.User
	if err := x.user(&u); err != nil || !bytes.Contains([]byte(u.ARN), []byte(":user/")) {
		return false
	}
	return x.d.Consume(',') || x.d.Consume(']')
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// decode decodes users from c.start until the list ends or the next chunk
// starts.
func (c *chunk) decode(data []byte, full, mapped bool) {
	defer close(c.done)
	defer guardFaults(mapped, &c.err)()
	x := newDecoder(data, full)
	x.d.Seek(c.start)
	// No user list sits deeper than 4 levels (an own-format snapshot
	// holding an array of pages): counting from there makes a chunk at
	// least as strict as the main pass, which re-decodes what a chunk
	// rejects.
	x.d.SetDepth(maxListDepth)
	for {
		if err := x.user(c.users.next()); err != nil {
			c.err = err
			return
		}
		switch {
		case x.d.Consume(','):
			x.d.Peek() // skips white space
			pos := x.d.Pos()
			if pos == c.next {
				c.end, c.handoff = pos, true
				return
			}
		case x.d.Consume(']'):
			c.end = x.d.Pos() - 1
			return
		default:
			c.err = x.d.Unexpected("',' or ']'")
			return
		}
	}
}

// wait blocks until every chunk is decoded, so that no goroutine reads
// the input after Decode returns (the input may be unmapped then).
func (s *speculator) wait() {
	if s == nil {
		return
	}
	for _, c := range s.chunks {
		<-c.done
	}
}

// adopt returns the chain of chunks that starts at pos, waiting for them,
// or nil when no chunk starts there.
func (s *speculator) adopt(pos int) []*chunk {
	if s == nil {
		return nil
	}
	for s.k < len(s.chunks) && s.chunks[s.k].start < pos {
		s.k++ // the main pass went past it: the guess was wrong
	}
	if s.k == len(s.chunks) || s.chunks[s.k].start != pos {
		return nil
	}
	var chain []*chunk
	for s.k < len(s.chunks) {
		c := s.chunks[s.k]
		<-c.done
		if c.err != nil {
			// Leave it to the main pass, which continues from here.
			s.k++
			break
		}
		chain = append(chain, c)
		adopted.Add(1)
		s.k++
		if !c.handoff {
			break
		}
	}
	return chain
}
