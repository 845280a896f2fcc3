// Command synth writes a synthetic get-account-authorization-details output
// (see internal/synth) for benchmarks and manual tests:
//
//	go run ./bench/synth -users 5000 -seed 1 -out bench/data/gaad-5k.json
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/iamgroups/iamgroups/internal/synth"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// errUsage marks errors in the command line, which exit with status 2.
var errUsage = errors.New("usage")

func run(args []string, stdout, stderr io.Writer) int {
	err := generate(args, stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage), errors.Is(err, synth.ErrInvalidOptions):
		fmt.Fprintln(stderr, "synth:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "synth:", err)
		return 1
	}
}

func generate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("synth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o synth.Options
	var compact bool
	var out string
	fs.IntVar(&o.Users, "users", 5000, "number of IAM users")
	fs.Int64Var(&o.Seed, "seed", 1, "random seed; the same flags give the same bytes")
	fs.StringVar(&o.AccountID, "account", synth.DefaultAccountID, "12-digit AWS account ID")
	fs.StringVar(&o.Partition, "partition", synth.DefaultPartition, "ARN partition")
	fs.BoolVar(&o.URLEncode, "urlencode", false, "print policy documents URL-encoded, as the IAM API returns them")
	fs.BoolVar(&compact, "compact", false, "print compact JSON instead of the AWS CLI's 4-space indentation")
	fs.StringVar(&out, "out", "-", `output file, written atomically; "-" for standard output`)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	o.Indent = !compact
	if err := o.Validate(); err != nil {
		return err
	}
	if out == "" || out == "-" {
		return synth.Write(stdout, o)
	}
	return writeAtomic(out, o)
}

// writeAtomic writes to a temporary file beside path and renames it into
// place, so that readers never see a partial file.
func writeAtomic(path string, o synth.Options) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create output %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := synth.Write(f, o); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
