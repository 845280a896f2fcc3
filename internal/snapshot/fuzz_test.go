package snapshot

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"

	"github.com/iamgroups/iamgroups/internal/model"
)

// FuzzDecode feeds arbitrary bytes to the snapshot reader: it must never
// panic, every error must be an *InputError naming the file, and whatever
// it accepts must evaluate and write back to a snapshot that reads the same.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"page1.json", "page2.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`[]`, `{}`, `[{"UserDetailList":[]}]`, `{"UserDetailList":[]}{"UserDetailList":[]}`,
		`{"schema":"iamgroups.snapshot/v1","metadata":{"account_id":"111122223333"},"authorization_details":{"UserDetailList":[]}}`,
		`{"UserDetailList":{"UserName":"a","Arn":"arn:aws:iam::111122223333:user/a","AttachedManagedPolicies":{"PolicyArn":"arn:aws:iam::aws:policy/X"}}}`,
		`{"UserDetailList":[{"UserName":"a","Arn":"x","UserPolicyList":[{"PolicyName":"p","PolicyDocument":"%7B%7D"}]}],"IsTruncated":true}`,
		"\x1f\x8b", `{"GroupDetailList":[{"GroupName":"g","AttachedManagedPolicies":{}}],"Policies":[{"PolicyVersionList":[{"Document":{},"IsDefaultVersion":true}]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, full := range []bool{false, true} {
			accounts, err := Decode(data, "fuzz.json", Options{Full: full})
			// The parallel decoder, forced onto this small input, must
			// agree exactly with the sequential one.
			par, parErr := decodeParallel(data, full)
			if (err == nil) != (parErr == nil) || err != nil && err.Error() != parErr.Error() {
				t.Fatalf("sequential error %v, parallel error %v", err, parErr)
			}
			if err == nil && !reflect.DeepEqual(accounts, par) {
				t.Fatalf("parallel decode differs from sequential")
			}
			if err != nil {
				var ie *InputError
				if !errors.As(err, &ie) || ie.File != "fuzz.json" {
					t.Fatalf("error %T %q does not name the file", err, err)
				}
				continue
			}
			for _, a := range accounts {
				path := filepath.Join(t.TempDir(), "again.json")
				if err := WriteFile(path, a, Metadata{Method: "fuzz"}); err != nil {
					t.Fatalf("write back: %v", err)
				}
				again, err := ReadFile(path, Options{Full: full})
				if err != nil {
					t.Fatalf("read back: %v", err)
				}
				if len(again) != 1 || len(again[0].Users) != len(a.Users) {
					t.Fatalf("round trip changed the users: %d accounts", len(again))
				}
				for i, u := range a.Users {
					v := again[0].Users[i]
					if u.ARN != v.ARN || u.Name != v.Name || u.PermissionsBoundary != v.PermissionsBoundary || u.Error != v.Error ||
						!reflect.DeepEqual(u.AttachedPolicies, v.AttachedPolicies) || !reflect.DeepEqual(u.InlinePolicies, v.InlinePolicies) ||
						len(u.Groups) != len(v.Groups) {
						t.Fatalf("round trip changed user %q: %+v vs %+v", u.Name, u, v)
					}
				}
			}
		}
	})
}

// decodeParallel decodes with the parallel path forced on, on 4 CPUs.
func decodeParallel(data []byte, full bool) ([]*model.Account, error) {
	defer func(old int) { parallelMin = old }(parallelMin)
	parallelMin = 1
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	return Decode(data, "fuzz.json", Options{Full: full})
}
