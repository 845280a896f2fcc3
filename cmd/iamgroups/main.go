// Command iamgroups audits, plans and fixes AWS IAM users that hold
// policies directly instead of through groups.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/iamgroups/iamgroups/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, a second one kills at once.
		<-ctx.Done()
		stop()
	}()
	err := cli.Execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	code := cli.ExitCode(err)
	if err != nil && code != cli.ExitFail {
		fmt.Fprintln(os.Stderr, "iamgroups:", err)
	}
	os.Exit(code)
}
