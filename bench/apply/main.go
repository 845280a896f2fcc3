// Command apply measures `iamgroups apply` and `iamgroups rollback` on a
// synthetic account seeded into moto_server: the plan's actions against
// the write calls made (they must be equal), the reads, and wall time.
// bench/apply.sh starts moto_server and runs it.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/iamgroups/iamgroups/internal/mototest"
	"github.com/iamgroups/iamgroups/internal/plan"
	"github.com/iamgroups/iamgroups/internal/snapshot"
	"github.com/iamgroups/iamgroups/internal/synth"
)

// account is the account the synthetic users are seeded into.
const account = "210987654321"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench/apply:", err)
		os.Exit(1)
	}
}

func run() error {
	moto := flag.String("moto", "", "moto_server URL (required)")
	users := flag.Int("users", 1000, "users in the synthetic account")
	binary := flag.String("iamgroups", "", "iamgroups binary (required)")
	work := flag.String("work", os.TempDir(), "directory for the plan and the journal")
	flag.Parse()
	if *moto == "" || *binary == "" {
		return fmt.Errorf("-moto and -iamgroups are required")
	}
	ctx := context.Background()
	var buf bytes.Buffer
	if err := synth.Write(&buf, synth.Options{Users: *users, Seed: 1, AccountID: account}); err != nil {
		return err
	}
	accounts, err := snapshot.Decode(buf.Bytes(), "synth.json", snapshot.Options{Full: true})
	if err != nil {
		return err
	}
	cfg, _, err := mototest.InAccount(ctx, *moto, account)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := mototest.SeedModel(ctx, cfg, accounts[0]); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Printf("seeded %d users in %s\n", *users, time.Since(start).Round(time.Millisecond))

	live := []string{"--endpoint-url", *moto, "--role-arn", "arn:aws:iam::" + account + ":role/bench"}
	planFile := filepath.Join(*work, "bench-plan.json")
	journal := filepath.Join(*work, "bench-journal")
	if _, _, err := iamgroups(*binary, append([]string{"plan", "--out", planFile, "--format", "json"}, live...)); err != nil {
		return err
	}
	data, err := os.ReadFile(planFile)
	if err != nil {
		return err
	}
	p, err := plan.Decode(data)
	if err != nil {
		return err
	}
	actions := map[string]int{}
	for _, a := range p.Actions {
		actions[a.Op]++
	}
	fmt.Printf("%s (%d actions: %s)\n", p.Summary(), len(p.Actions), fmtCounts(actions))

	out, wall, err := iamgroups(*binary, append([]string{"apply", planFile, "--yes", "--settle", "0", "--max-rate", "0", "--journal", journal}, live...))
	if err != nil {
		return err
	}
	fmt.Printf("apply: %s; %s\n", wall.Round(time.Millisecond), calls(out))
	dir := regexp.MustCompile(`Run directory: (\S+)`).FindStringSubmatch(out)
	if dir == nil {
		return fmt.Errorf("apply named no run directory:\n%s", out)
	}
	out, wall, err = iamgroups(*binary, append([]string{"rollback", dir[1], "--yes", "--settle", "0", "--max-rate", "0"}, live...))
	if err != nil {
		return err
	}
	fmt.Printf("rollback: %s; %s\n", wall.Round(time.Millisecond), calls(out))
	return nil
}

// iamgroups runs the binary and returns its standard output and error
// together, and the wall time.
func iamgroups(bin string, args []string) (string, time.Duration, error) {
	cmd := exec.Command(bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return out.String(), wall, fmt.Errorf("iamgroups %s: %w\n%s", args[0], err, out.String())
	}
	return out.String(), wall, nil
}

func calls(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "API calls: ") {
			return strings.TrimSuffix(line, ".")
		}
	}
	return "no call counts"
}

func fmtCounts(m map[string]int) string {
	var parts []string
	for _, op := range []string{plan.OpCreatePolicy, plan.OpCreateGroup, plan.OpAttachGroup, plan.OpAddUser, plan.OpDetachUserPolicy, plan.OpDeleteUserPolicy} {
		if m[op] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", m[op], op))
		}
	}
	return strings.Join(parts, ", ")
}
