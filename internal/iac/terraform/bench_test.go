package terraform

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkScanDir scans a tree of 2,000 small .tf files: 100 module
// directories of 20 files, each module called from the root.
func BenchmarkScanDir(b *testing.B) {
	root := b.TempDir()
	const dirs, perDir = 100, 20
	var calls []byte
	for d := range dirs {
		dir := filepath.Join(root, "modules", fmt.Sprintf("m%03d", d))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		calls = fmt.Appendf(calls, "module \"m%03d\" {\n  source = \"./modules/m%03d\"\n}\n\n", d, d)
		for i := range perDir - 1 {
			src := fmt.Sprintf(`# generated %d/%d
resource "aws_iam_user" "u%[2]d" {
  name = "user-%[1]d-%[2]d"
  path = "/generated/"
  tags = { team = "t%[1]d" }
}

resource "aws_iam_user_group_membership" "u%[2]d" {
  user   = aws_iam_user.u%[2]d.name
  groups = ["developers"]
}

resource "aws_iam_user_policy_attachment" "u%[2]d" {
  user       = aws_iam_user.u%[2]d.name
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}

resource "aws_s3_bucket" "b%[2]d" {
  bucket = "bucket-%[1]d-%[2]d"
}
`, d, i)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%02d.tf", i)), []byte(src), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	// 99 module directories of 20 files, one of 19 plus the root's main.tf.
	if err := os.WriteFile(filepath.Join(root, "main.tf"), calls, 0o644); err != nil {
		b.Fatal(err)
	}
	for d := range dirs - 1 {
		if err := os.WriteFile(filepath.Join(root, "modules", fmt.Sprintf("m%03d", d), "extra.tf"), []byte("variable \"x\" {\n  default = 1\n}\n"), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	var files int
	for b.Loop() {
		scan, err := ScanDir(root)
		if err != nil {
			b.Fatal(err)
		}
		files = scan.Files
		if len(scan.Findings) != dirs*(perDir-1) || len(scan.Errors) != 0 {
			b.Fatalf("findings %d errors %v", len(scan.Findings), scan.Errors)
		}
	}
	if files != dirs*perDir {
		b.Fatalf("files = %d", files)
	}
	b.ReportMetric(float64(files)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
}
