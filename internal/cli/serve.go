package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/iamgroups/iamgroups/internal/notify"
	"github.com/iamgroups/iamgroups/internal/store"
	"github.com/iamgroups/iamgroups/internal/watch"
	"github.com/iamgroups/iamgroups/internal/web"
)

// defaultServeConfig is the config serve reads without --config.
const defaultServeConfig = "iamgroups.yaml"

// serveOptions are the flags of `iamgroups serve`.
type serveOptions struct {
	Config string
	// minInterval lowers the shortest `every:` (tests).
	minInterval time.Duration
	// ready, when set, is called with the address served once the server
	// listens (tests listen on port 0).
	ready func(addr string)
}

func newServeCommand(s streams) *cobra.Command {
	opts := serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve [--config FILE]",
		Short: "Scan targets on a schedule, keep their history, notify, and serve the dashboard and API",
		Long: "Serve scans each target of the config on its schedule (and at start), records every\n" +
			"run in the history store, sends notifications of new and resolved findings and of\n" +
			"failed scans, and serves the dashboard, the JSON API (/api/v1/), /metrics and\n" +
			"/healthz.\n\n" +
			"It listens on 127.0.0.1:8080 unless the config says otherwise, and refuses an\n" +
			"address other hosts can reach without an API token (auth_token_env). On SIGTERM or\n" +
			"SIGINT it stops accepting requests, records a scan in progress as interrupted,\n" +
			"delivers pending notifications and exits 0. A bad config exits 2 before listening.\n\n" +
			"Config (YAML; relative paths start at the config file's directory):\n\n" +
			"  store: iamgroups.db              # a SQLite file, or postgres://user@host/db\n" +
			"  listen: 127.0.0.1:8080\n" +
			"  auth_token_env: IAMGROUPS_TOKEN  # the API token is read from this variable\n" +
			"  targets:\n" +
			"    - name: prod\n" +
			"      profile: prod-audit          # or role_arn (+ external_id); endpoint_url, region\n" +
			"      every: 6h                    # or cron: \"0 */6 * * *\"\n" +
			"    - name: org\n" +
			"      org: true                    # every account of the Organization\n" +
			"      cron: \"30 2 * * *\"\n" +
			"    - name: offline\n" +
			"      snapshot: prod.json          # re-read at each scan\n" +
			"      every: 24h\n" +
			"  notify:\n" +
			"    - url_env: SLACK_WEBHOOK_URL   # or url: https://…\n" +
			"      format: slack                # or json\n" +
			"      on: [new, resolved, failed]  # the default: all\n" +
			"  exemptions:                      # as in the audit config\n" +
			"    - users: [break-glass-admin]\n" +
			"      reason: Emergency access, reviewed monthly\n" +
			"      expires: 2027-06-30",
		Example: "  iamgroups serve --config iamgroups.yaml\n" +
			"  IAMGROUPS_TOKEN=$(openssl rand -hex 32) iamgroups serve --config /etc/iamgroups.yaml",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd.Context(), opts, s)
		},
	}
	cmd.Flags().StringVar(&opts.Config, "config", defaultServeConfig, "the serve config `FILE` (YAML)")
	return cmd
}

// Shutdown bounds: requests in flight, and notifications still queued.
const (
	httpDrain   = 10 * time.Second
	notifyDrain = 15 * time.Second
)

// staleRunning is how old a run left "running" in a PostgreSQL history
// must be before serve, starting, marks it interrupted: other instances
// sharing the database may be scanning right now. A SQLite file has one
// writer process, so every such run there died with its process.
const staleRunning = 6 * time.Hour

func runServe(ctx context.Context, opts serveOptions, s streams) error {
	cfg, err := watch.Load(opts.Config, watch.ParseOptions{MinInterval: opts.minInterval})
	if err != nil {
		return usageError(err)
	}
	if err := web.CheckListen(cfg.Listen, cfg.AuthToken); err != nil {
		return usageError(fmt.Errorf("%s: listen: %w", cfg.Path, err))
	}
	log := slog.New(slog.NewTextHandler(s.err, nil))

	st, err := store.Open(ctx, cfg.Store)
	if err != nil {
		return usageError(fmt.Errorf("%s: store: %w", cfg.Path, err))
	}
	defer st.Close()
	olderThan := time.Duration(0)
	if store.IsPostgres(cfg.Store) {
		olderThan = staleRunning
	}
	if n, err := st.MarkInterrupted(ctx, "the process recording this run stopped before it ended", olderThan); err != nil {
		return fmt.Errorf("serve: %w", err)
	} else if n > 0 {
		log.Warn("runs left running by a previous process marked interrupted", "runs", n)
	}

	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Listen)
	if err != nil {
		return usageError(fmt.Errorf("%s: listen: %w", cfg.Path, err))
	}
	notifier := notify.New(cfg.Notify, notify.Options{Logger: log})
	scanner := &watch.Scanner{Store: st, Exemptions: cfg.Exemptions, Notifier: notifier, Logger: log}
	sched := watch.NewScheduler(cfg.Targets, scanner.Scan, watch.SchedulerOptions{Concurrency: cfg.Concurrency, Logger: log, Store: st})
	site, err := web.New(web.Options{Store: st, Scheduler: sched, Exemptions: cfg.Exemptions, Token: cfg.AuthToken, Logger: log, Version: Version()})
	if err != nil {
		ln.Close()
		return fmt.Errorf("serve: %w", err)
	}
	srv := web.HTTPServer(cfg.Listen, site, log)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	schedCtx, stopScans := context.WithCancel(ctx)
	defer stopScans()
	interrupted := make(chan []int64, 1)
	go func() { interrupted <- sched.Run(schedCtx) }()
	log.Info("serving", "address", ln.Addr().String(), "targets", len(cfg.Targets), "store", store.Redact(cfg.Store),
		"notify", len(cfg.Notify), "auth", cfg.AuthToken != "")
	if opts.ready != nil {
		opts.ready(ln.Addr().String())
	}

	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down: stopping the HTTP server and the scans")
	case err := <-served:
		serveErr = fmt.Errorf("serve: %w", err)
		log.Error("the HTTP server stopped; shutting down", "error", err)
	}
	// Stop accepting; requests in flight get a moment to finish.
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), httpDrain)
	if err := srv.Shutdown(hctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("HTTP requests cut short at shutdown", "error", err)
	}
	cancel()
	// Scans end; one that finished collecting still records its run.
	stopScans()
	// Only this instance's runs are marked: others sharing a PostgreSQL
	// history may be scanning right now.
	if ids := <-interrupted; len(ids) > 0 {
		mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), httpDrain)
		var marked []int64
		for _, id := range ids {
			if err := st.InterruptRun(mctx, id, "iamgroups serve was stopped during the scan"); err != nil {
				log.Error("could not record an interrupted scan", "run", id, "error", err)
				continue
			}
			marked = append(marked, id)
		}
		cancel()
		if len(marked) > 0 {
			log.Info("scans in progress recorded as interrupted", "runs", marked)
		}
	}
	nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyDrain)
	defer cancel()
	if err := notifier.Close(nctx); err != nil {
		log.Warn("notifications still queued were dropped", "error", err)
	}
	log.Info("stopped")
	return serveErr
}
