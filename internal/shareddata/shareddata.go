// Package shareddata locates the third-party data (role-mining datasets,
// real AWS CLI outputs, the SARIF schema) that tests and benchmarks read
// from the shared/data folder beside the project. The data is never copied
// into the project. IAMGROUPS_SHARED_DATA overrides the location.
package shareddata

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the shared data folder: $IAMGROUPS_SHARED_DATA, else
// ../shared/data relative to the module root.
func Dir() string {
	if d := os.Getenv("IAMGROUPS_SHARED_DATA"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "data")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Path returns the path of a shared data file. When it is absent the test
// is skipped with a message, except under CI, where that is a failure.
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	p := filepath.Join(Dir(), rel)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("shared data file %s is missing under CI (set IAMGROUPS_SHARED_DATA): %v", rel, err)
		}
		tb.Skipf("shared data file %s is absent (set IAMGROUPS_SHARED_DATA to run this test): %v", rel, err)
	}
	return p
}
