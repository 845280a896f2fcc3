package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamgroups/iamgroups/internal/synth"
)

func TestRunWritesFileAtomically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gaad.json")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-users", "40", "-seed", "3", "-account", "111122223333", "-urlencode", "-compact", "-out", path}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := synth.Write(&want, synth.Options{Users: 40, Seed: 3, AccountID: "111122223333", URLEncode: true}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Error("file differs from synth.Write")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if stdout.Len() != 0 {
		t.Error("wrote to stdout with -out FILE")
	}
}

func TestRunStdout(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-users", "5"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "{\n    \"UserDetailList\": [") {
		t.Errorf("stdout starts %q", stdout.String()[:min(40, stdout.Len())])
	}
}

func TestRunExitCodes(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no", "such", "dir", "out.json")
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"-nope"}, 2},
		{[]string{"-users", "x"}, 2},
		{[]string{"-users", "-1"}, 2},
		{[]string{"-account", "12"}, 2},
		{[]string{"extra"}, 2},
		{[]string{"-h"}, 0},
		{[]string{"-users", "1", "-out", missing}, 1},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(c.args, &stdout, &stderr); code != c.code {
			t.Errorf("%v: exit %d, want %d (%s)", c.args, code, c.code, stderr.String())
		}
		if c.code != 0 && stderr.Len() == 0 {
			t.Errorf("%v: no message on stderr", c.args)
		}
	}
}
