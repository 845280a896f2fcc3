package cli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/iamgroups/iamgroups/internal/report"
	"github.com/iamgroups/iamgroups/internal/synth"
)

// BenchmarkAuditSnapshot measures the whole offline audit of a synthetic
// snapshot as `audit --snapshot FILE --format json` runs it: read the
// file, decode, evaluate, apply exemptions, write JSON (to io.Discard).
// 5,000 users is about 2 MB, 100,000 users about 39 MB.
func BenchmarkAuditSnapshot(b *testing.B) {
	for _, users := range []int{5000, 100000} {
		var buf bytes.Buffer
		if err := synth.Write(&buf, synth.Options{Users: users, Seed: 1}); err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(b.TempDir(), "snapshot.json")
		if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
			b.Fatal(err)
		}
		name := map[int]string{5000: "5k-users", 100000: "100k-users"}[users]
		b.Run(name, func(b *testing.B) {
			w, err := report.New("json", report.Options{})
			if err != nil {
				b.Fatal(err)
			}
			opts := auditOptions{Snapshots: []string{path}}
			b.SetBytes(int64(buf.Len()))
			b.ReportAllocs()
			for b.Loop() {
				accounts, err := loadAccounts(b.Context(), opts)
				if err != nil {
					b.Fatal(err)
				}
				rep := evaluate(accounts, nil, time.Now(), time.Now())
				if rep.Summary.Users != users {
					b.Fatalf("%d users audited, want %d", rep.Summary.Users, users)
				}
				if err := w.Write(io.Discard, rep); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
