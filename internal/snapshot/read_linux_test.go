package snapshot

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamgroups/iamgroups/internal/synth"
)

func TestLargeSnapshotIsMappedAndReleased(t *testing.T) {
	var buf bytes.Buffer
	if err := synth.Write(&buf, synth.Options{Users: 12000, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	data, mapped, release, err := readInput(path)
	if err != nil || !mapped || !bytes.Equal(data, buf.Bytes()) {
		t.Fatalf("readInput: mapped=%v err=%v", mapped, err)
	}
	release()
	accounts, err := ReadFile(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(accounts[0].Users); n != 12000 {
		t.Fatalf("%d users, want 12000", n)
	}
	// Nothing decoded may point into the mapping, which is gone now:
	// touching every string would crash if one did.
	total := 0
	for _, u := range accounts[0].Users {
		total += len(u.Name) + len(u.ARN) + len(u.Path) + len(u.ID) + len(u.CreateDate)
		for _, g := range u.Groups {
			total += len(strings.ToUpper(g))
		}
		for _, p := range u.AttachedPolicies {
			total += len(strings.ToUpper(p.ARN + p.Name))
		}
		for _, p := range u.InlinePolicies {
			total += len(strings.ToUpper(p.Name + p.Canonical))
		}
		for _, tag := range u.Tags {
			total += len(strings.ToUpper(tag.Key + tag.Value))
		}
	}
	if total == 0 {
		t.Fatal("no strings decoded")
	}
}

func TestTruncatedMappingIsAnErrorNotACrash(t *testing.T) {
	var buf bytes.Buffer
	if err := synth.Write(&buf, synth.Options{Users: 12000, Seed: 6}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	data, mapped, release, err := readInput(path)
	if err != nil || !mapped {
		t.Fatalf("readInput: mapped=%v err=%v", mapped, err)
	}
	defer release()
	// Another process truncates the file: every page of the mapping is
	// gone, and reading it faults.
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	_, err = decodeInput(data, path, Options{}, true)
	if err == nil || !strings.Contains(err.Error(), "shrank while it was being read") || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want a file-changed error naming the file", err)
	}
}
