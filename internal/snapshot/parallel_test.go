package snapshot

import (
	"bytes"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/synth"
)

// decodeWith decodes data with n CPUs, so that the parallel decoder cuts
// the input at different places.
func decodeWith(t *testing.T, data []byte, n int, opts Options) []*model.Account {
	t.Helper()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(n))
	accounts, err := Decode(data, "big.json", opts)
	if err != nil {
		t.Fatalf("GOMAXPROCS=%d: %v", n, err)
	}
	return accounts
}

func TestParallelDecodeMatchesSequential(t *testing.T) {
	var buf bytes.Buffer
	if err := synth.Write(&buf, synth.Options{Users: 6000, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	if len(data) < 2*parallelMin {
		t.Fatalf("input of %d bytes is too small to exercise the parallel decoder", len(data))
	}
	before := adopted.Load()
	for _, full := range []bool{false, true} {
		want := decodeWith(t, data, 1, Options{Full: full})
		for n := 2; n <= 8; n++ {
			got := decodeWith(t, data, n, Options{Full: full})
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("full=%v GOMAXPROCS=%d: parallel decode differs from sequential", full, n)
			}
		}
	}
	if adopted.Load() == before {
		t.Error("no chunk decoded in parallel was adopted: the parallel path did not run")
	}
	names := synth.Expected(synth.Options{Users: 6000, Seed: 7})
	acct := decodeWith(t, data, 4, Options{})[0]
	var failing []string
	for _, u := range acct.Users {
		if u.DirectPolicyCount() > 0 {
			failing = append(failing, u.Name)
		}
	}
	if len(acct.Users) != 6000 || len(failing) != len(names) {
		t.Errorf("decoded %d users, %d failing; want 6000 and %d", len(acct.Users), len(failing), len(names))
	}
}

// TestParallelDecodeIgnoresDecoys fills the input with objects that look
// like user list elements but sit inside policy documents: the parallel
// decoder may start chunks at them but must never adopt them.
func TestParallelDecodeIgnoresDecoys(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"UserDetailList":[`)
	for i := range 4000 {
		if i > 0 {
			b.WriteString(",\n")
		}
		decoy := fmt.Sprintf(`{"Path":"/","UserName":"decoy%d","Arn":"arn:aws:iam::999999999999:user/decoy%d"}`, i, i)
		fmt.Fprintf(&b, `{"Path":"/","UserName":"u%d","Arn":"arn:aws:iam::210987654321:user/u%d","GroupList":[],`+
			`"UserPolicyList":[{"PolicyName":"p","PolicyDocument":{"Version":"2012-10-17","Statement":[%s,%s]}}],`+
			`"AttachedManagedPolicies":[]}`, i, i, decoy, decoy)
	}
	b.WriteString(`]}`)
	data := []byte(b.String())
	if len(data) < parallelMin {
		t.Fatalf("input too small: %d", len(data))
	}
	want := decodeWith(t, data, 1, Options{})
	for n := 2; n <= 8; n++ {
		got := decodeWith(t, data, n, Options{})
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("GOMAXPROCS=%d: decoys changed the result", n)
		}
		for _, u := range got[0].Users {
			if strings.HasPrefix(u.Name, "decoy") {
				t.Fatalf("GOMAXPROCS=%d: decoy %s adopted as a user", n, u.Name)
			}
		}
	}
	if len(want[0].Users) != 4000 {
		t.Errorf("%d users, want 4000", len(want[0].Users))
	}
}

func TestParallelDecodeReportsErrorsInChunks(t *testing.T) {
	var buf bytes.Buffer
	if err := synth.Write(&buf, synth.Options{Users: 6000, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	// Break a user near the end, where another goroutine decodes.
	i := bytes.LastIndex(data, []byte(`"UserName"`))
	bad := append(append(append([]byte{}, data[:i]...), []byte(`"UserName":7,`)...), data[i:]...)
	seqErr := func() error {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		_, err := Decode(bad, "big.json", Options{})
		return err
	}()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	_, parErr := Decode(bad, "big.json", Options{})
	if seqErr == nil || parErr == nil || seqErr.Error() != parErr.Error() {
		t.Errorf("errors differ:\nsequential %v\nparallel   %v", seqErr, parErr)
	}
}

// TestParallelDecodeKeepsTheNestingLimit: a user whose policy document
// nests right up to the limit is accepted or refused exactly as the
// sequential decoder does, wherever the parallel decoder starts a chunk.
func TestParallelDecodeKeepsTheNestingLimit(t *testing.T) {
	for _, depth := range []int{500, 505, 506, 507, 508, 509, 510, 511, 512, 513} {
		var b strings.Builder
		b.WriteString(`{"UserDetailList":[`)
		for i := range 3000 {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"UserName":"u%d","Arn":"arn:aws:iam::210987654321:user/u%d"`, i, i)
			if i == 2500 {
				b.WriteString(`,"Tags":[{"Key":"k","Value":"v","Extra":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}]`)
			}
			b.WriteString(`,"GroupList":["g"]}`)
		}
		b.WriteString(`]}`)
		data := []byte(b.String())
		seq := func() error {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
			_, err := Decode(data, "deep.json", Options{})
			return err
		}()
		for n := 2; n <= 6; n++ {
			par := func() error {
				defer func(old int) { parallelMin = old }(parallelMin)
				parallelMin = 1
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(n))
				_, err := Decode(data, "deep.json", Options{})
				return err
			}()
			if fmt.Sprint(seq) != fmt.Sprint(par) {
				t.Fatalf("depth %d, %d CPUs: sequential %v, parallel %v", depth, n, seq, par)
			}
		}
	}
}
