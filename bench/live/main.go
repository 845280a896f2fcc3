// Command live measures live collection against moto_server through a
// proxy that adds a fixed latency to every call, as a distant IAM endpoint
// does: API calls and wall time of the gaad method against the per-user
// list method (two concurrencies), and the end-to-end time of
// `iamgroups audit` against `aws iam get-account-authorization-details | jq`
// on the same account, in the same run. bench/live.sh starts moto_server
// and runs it.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/iamgroups/iamgroups/internal/awsiam"
	"github.com/iamgroups/iamgroups/internal/mototest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench/live:", err)
		os.Exit(1)
	}
}

func run() error {
	moto := flag.String("moto", "", "moto_server URL (required)")
	sizes := flag.String("users", "1000,5000", "account sizes to measure, comma-separated")
	latency := flag.Duration("latency", 50*time.Millisecond, "latency added to every call")
	binary := flag.String("iamgroups", "", "iamgroups binary for the end-to-end comparison")
	flag.Parse()
	if *moto == "" {
		return fmt.Errorf("-moto is required")
	}
	ctx := context.Background()
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "users\tmethod\tcalls\twall\tcalls ratio\twall ratio\t\n")
	var e2e []string
	for _, field := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil {
			return fmt.Errorf("-users: %w", err)
		}
		if err := reset(*moto); err != nil {
			return err
		}
		cfg, err := config.LoadDefaultConfig(ctx, config.WithBaseEndpoint(*moto))
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "seeding %d users...\n", n)
		if _, err := mototest.SeedAccount(ctx, cfg, n); err != nil {
			return err
		}
		proxy, err := mototest.StartProxy(*moto)
		if err != nil {
			return err
		}
		proxy.SetLatency(*latency)
		type row struct {
			name  string
			calls int
			wall  time.Duration
		}
		var rows []row
		for _, m := range []struct {
			name   string
			method awsiam.Method
			conc   int
		}{{"gaad", awsiam.MethodGAAD, 0}, {"list -c4", awsiam.MethodList, 4}, {"list -c10", awsiam.MethodList, 10}} {
			fmt.Fprintf(os.Stderr, "%d users: %s...\n", n, m.name)
			s, err := awsiam.NewSession(ctx, awsiam.Options{EndpointURL: proxy.URL})
			if err != nil {
				return err
			}
			start := time.Now()
			a, err := awsiam.Collect(ctx, s, awsiam.CollectOptions{Method: m.method, Concurrency: m.conc})
			if err != nil {
				return err
			}
			if len(a.Users) != n {
				return fmt.Errorf("%s collected %d users, want %d", m.name, len(a.Users), n)
			}
			rows = append(rows, row{m.name, s.Calls.Total(), time.Since(start)})
		}
		for _, r := range rows {
			fmt.Fprintf(w, "%d\t%s\t%d\t%s\t%.0fx\t%.0fx\t\n", n, r.name, r.calls, r.wall.Round(time.Millisecond),
				float64(r.calls)/float64(rows[0].calls), float64(r.wall)/float64(rows[0].wall))
		}
		if *binary != "" {
			line, err := endToEnd(*binary, proxy.URL, n)
			if err != nil {
				return err
			}
			e2e = append(e2e, line)
		}
		proxy.Close()
	}
	w.Flush()
	for _, line := range e2e {
		fmt.Println(line)
	}
	fmt.Printf("(latency %s per call through the proxy; moto_server returns GAAD in one page)\n", *latency)
	return nil
}

// endToEnd times `iamgroups audit` against the AWS CLI and jq, alternately,
// three times each, and reports the medians.
func endToEnd(binary, endpoint string, n int) (string, error) {
	jq := `aws iam get-account-authorization-details --filter User --endpoint-url "$1" | ` +
		`jq -r '.UserDetailList[] | select((.AttachedManagedPolicies // [] | length) + (.UserPolicyList // [] | length) > 0) | .UserName'`
	var ours, theirs []time.Duration
	for range 3 {
		d, err := timeCmd(exec.Command(binary, "audit", "--endpoint-url", endpoint, "--format", "json", "--fail-on", "none"))
		if err != nil {
			return "", fmt.Errorf("iamgroups audit: %w", err)
		}
		ours = append(ours, d)
		d, err = timeCmd(exec.Command("bash", "-c", "set -o pipefail; "+jq, "bash", endpoint))
		if err != nil {
			return "", fmt.Errorf("aws | jq: %w", err)
		}
		theirs = append(theirs, d)
	}
	o, t := median(ours), median(theirs)
	return fmt.Sprintf("%d users end to end: iamgroups audit %s, aws iam get-account-authorization-details | jq %s (%.1fx)",
		n, o.Round(time.Millisecond), t.Round(time.Millisecond), float64(t)/float64(o)), nil
}

func timeCmd(cmd *exec.Cmd) (time.Duration, error) {
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = nil, &stderr
	start := time.Now()
	err := cmd.Run()
	if err != nil {
		return 0, fmt.Errorf("%w: %s", err, stderr.String())
	}
	return time.Since(start), nil
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}

func reset(moto string) error {
	resp, err := http.Post(moto+"/moto-api/reset", "", nil)
	if err != nil {
		return fmt.Errorf("reset moto_server: %w", err)
	}
	resp.Body.Close()
	return nil
}
