package terraform

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzNames are the file kinds ScanFile tells apart by name.
var fuzzNames = []string{"main.tf", "main.tf.json", "plan.json"}

func FuzzScanFile(f *testing.F) {
	_ = filepath.WalkDir("testdata", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, n := range fuzzNames {
			if kindOf(path) == kindOf(n) {
				f.Add(uint8(i), data)
			}
		}
		return nil
	})
	f.Add(uint8(0), []byte("resource \"aws_iam_policy_attachment\" \"a\" {\n  users = [\"${x}\", null, [1], {}]\n  count = -0\n}\n"))
	f.Add(uint8(0), []byte("# iamgroups:ignore IAM-071 r\nresource \"aws_iam_user_policy\" \"a\" { # iamgroups:ignore IAM-071 s */\n}"))
	f.Add(uint8(2), []byte(`{"format_version":"1","resource_changes":[{"type":"aws_iam_policy_attachment","change":{"actions":["update"],"after":{"users":[null,"a",1]},"after_unknown":{"users":[true]}}}]}`))
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		name := fuzzNames[int(kind)%len(fuzzNames)]
		scan, err := ScanFile(name, data)
		if err != nil {
			t.Fatal(err)
		}
		if scan.Files != 1 && !(scan.Files == 0 && name == "plan.json" && len(scan.Findings)+len(scan.Users)+len(scan.Errors) == 0) {
			t.Fatalf("Files = %d: %+v", scan.Files, scan)
		}
		for _, fd := range scan.Findings {
			if fd.User == "" && fd.UserRef == "" {
				t.Fatalf("finding without a user: %+v", fd)
			}
			if fd.Kind != "managed" && fd.Kind != "inline" {
				t.Fatalf("kind %q", fd.Kind)
			}
			if fd.Location.File != name || fd.Location.Line < 1 || fd.Location.Column < 1 || fd.Location.Address == "" {
				t.Fatalf("location %+v", fd.Location)
			}
			if !strings.HasPrefix(fd.Type, "aws_iam_") {
				t.Fatalf("type %q", fd.Type)
			}
			if s := fd.Suppression; s != nil && (s.Reason == "" || s.Rule != RuleID) {
				t.Fatalf("suppression %+v", s)
			}
		}
		for _, e := range scan.Errors {
			if e.File != name || e.Msg == "" {
				t.Fatalf("error %+v", e)
			}
		}
	})
}
