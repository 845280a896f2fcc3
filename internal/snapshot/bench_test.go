package snapshot

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/iamgroups/iamgroups/internal/synth"
)

// BenchmarkDecode measures decoding alone, on one CPU and on all, for a
// synthetic snapshot of 5,000 users (about 2 MB).
func BenchmarkDecode(b *testing.B) {
	var buf bytes.Buffer
	if err := synth.Write(&buf, synth.Options{Users: 5000, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	for _, procs := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(map[bool]string{true: "1cpu", false: "allcpus"}[procs == 1], func(b *testing.B) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decode(data, "bench.json", Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
