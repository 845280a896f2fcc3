package cli

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestDemoPlanGolden pins the demo's plan in every format: a change to the
// planner or a writer shows up here as a diff to review.
func TestDemoPlanGolden(t *testing.T) {
	for format, file := range map[string]string{
		"text": "plan-demo.txt", "json": "plan-demo.json", "cli": "plan-demo.sh",
		"terraform": "plan-demo.tf", "markdown": "plan-demo.md",
	} {
		out, errOut, code := run(t, "plan", "--demo", "--format", format)
		if code != 0 {
			t.Fatalf("%s: exit %d %s", format, code, errOut)
		}
		path := filepath.Join("testdata", "golden", file)
		if *update {
			if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run `go test ./internal/cli -run TestDemoPlanGolden -update` to create it)", err)
		}
		if string(want) != out {
			t.Errorf("%s output differs from %s; review the change and rerun with -update", format, path)
		}
	}
}
