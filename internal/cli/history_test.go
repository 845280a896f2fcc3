package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamgroups/iamgroups/internal/demo"
)

type historyDoc struct {
	Schema string `json:"schema"`
	Runs   []struct {
		ID      int64  `json:"id"`
		Target  string `json:"target"`
		Trigger string `json:"trigger"`
		Source  string `json:"source"`
		Status  string `json:"status"`
		Method  string `json:"method"`
		Summary struct {
			Users, Pass, Fail, Exempt, Error int
		} `json:"summary"`
		New      int      `json:"new"`
		Resolved int      `json:"resolved"`
		Accounts []string `json:"accounts"`
	} `json:"runs"`
	Changes []struct {
		Kind     string   `json:"kind"`
		UserName string   `json:"user_name"`
		Policies []string `json:"policies"`
	} `json:"changes"`
}

// audit --store records runs without changing the audit's output or exit
// status; history shows them.
func TestAuditStoreThenHistory(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "history.db")
	plain, _, code := run(t, "audit", "--demo", "--format", "json")
	stored, errOut, code2 := run(t, "audit", "--demo", "--format", "json", "--store", db)
	if code2 != code || code != 0 || errOut != "" {
		t.Fatalf("audit --store: exit %d (without --store %d), stderr %q", code2, code, errOut)
	}
	if resultsOf(t, stored) == nil || string(resultsOf(t, stored)) != string(resultsOf(t, plain)) {
		t.Error("audit --store changed the results")
	}

	// The same account as a snapshot without the demo's exemptions, as
	// another target: its own findings.
	snap := writeFile(t, dir, "northwind.json", string(demo.Account))
	_, _, code = run(t, "audit", "--snapshot", snap, "--store", db, "--target", "northwind")
	if code != ExitPartial {
		t.Errorf("audit --snapshot --store: exit %d, want 3 as without --store", code)
	}

	out, errOut, code := run(t, "history", "--store", db, "--format", "json")
	if code != 0 {
		t.Fatalf("history: exit %d: %s", code, errOut)
	}
	var h historyDoc
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		t.Fatalf("history JSON: %v\n%s", err, out)
	}
	if h.Schema != "iamgroups.history/v1" || len(h.Runs) != 2 {
		t.Fatalf("history %+v", h)
	}
	cli, nw := h.Runs[0], h.Runs[1]
	if cli.Target != "cli" || cli.Trigger != "cli" || cli.Source != "demo" || cli.Method != "demo" || cli.Status != "partial" ||
		cli.Summary.Users != 27 || cli.Summary.Fail != 14 || cli.Summary.Exempt != 3 || cli.Summary.Error != 1 || cli.New != 14 ||
		len(cli.Accounts) != 1 || cli.Accounts[0] != "111122223333" {
		t.Errorf("demo run %+v", cli)
	}
	if nw.Target != "northwind" || nw.Method != "snapshot" || nw.Source != "snapshot "+snap || nw.Summary.Fail != 17 || nw.New != 17 {
		t.Errorf("snapshot run %+v", nw)
	}
	if len(h.Changes) != 17 || h.Changes[0].Kind != "new" { // the latest run's
		t.Errorf("changes %+v", h.Changes)
	}

	table, _, code := run(t, "history", "--store", db, "--target", "cli")
	if code != 0 {
		t.Fatalf("history table: exit %d", code)
	}
	for _, want := range []string{
		"Runs of target cli, oldest first (the last 20 at most):",
		"RUN  STARTED (UTC)        TARGET  STATUS   USERS  PASS  FAIL  EXEMPT  ERROR  NEW  RESOLVED",
		"  cli     partial  27     9     14    3       1      14   0",
		"Latest changes (run 1,",
		"CHANGE  ACCOUNT       USER            DIRECT POLICIES\nNEW     111122223333  amelia.chen     AmazonAthenaFullAccess, AmazonS3ReadOnlyAccess, inline athena-results-bucket\n",
		"NEW     111122223333  legacy-etl      AmazonS3ReadOnlyAccess, AmazonAthenaFullAccess, AWSGlueConsoleFullAccess (+11 more)\n",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("the table lacks %q:\n%s", want, table)
		}
	}
	if strings.Contains(table, "northwind") {
		t.Errorf("--target cli shows another target:\n%s", table)
	}

	// A second audit of the demo with the same exemptions changes nothing.
	run(t, "audit", "--demo", "--store", db)
	out, _, _ = run(t, "history", "--store", db, "--format", "json", "--runs", "1")
	h = historyDoc{}
	json.Unmarshal([]byte(out), &h)
	if len(h.Runs) != 1 || h.Runs[0].ID != 3 || h.Runs[0].New != 0 {
		t.Errorf("latest run %+v", h.Runs)
	}
}

func TestHistoryBadInput(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "none.db")
	_, errOut, code := run(t, "history", "--store", missing)
	if code != ExitUsage || !strings.Contains(errOut, "--store: "+missing+" does not exist; record runs first") {
		t.Errorf("missing store: exit %d, %q", code, errOut)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("history created the missing store")
	}
	notDB := writeFile(t, dir, "notes.txt", "not a database\n")
	if _, errOut, code := run(t, "history", "--store", notDB); code != ExitUsage || !strings.Contains(errOut, "--store:") {
		t.Errorf("not a database: exit %d, %q", code, errOut)
	}
	db := filepath.Join(dir, "h.db")
	run(t, "audit", "--demo", "--store", db)
	for args, want := range map[string]string{
		"--runs 0":      "--runs: 0 is out of range",
		"--format yaml": `--format: "yaml" is not a choice; use table or json`,
	} {
		_, errOut, code := run(t, append([]string{"history", "--store", db}, strings.Fields(args)...)...)
		if code != ExitUsage || !strings.Contains(errOut, want) {
			t.Errorf("%s: exit %d, %q", args, code, errOut)
		}
	}
	if out, _, code := run(t, "history", "--store", db, "--target", "prod"); code != 0 || out != "No runs recorded for target prod.\n" {
		t.Errorf("unknown target: exit %d, %q", code, out)
	}
	if _, errOut, code := run(t, "audit", "--demo", "--store", db, "--target", "a b"); code != ExitUsage || !strings.Contains(errOut, `--target: "a b" is not a valid name`) {
		t.Errorf("bad --target: exit %d, %q", code, errOut)
	}
}
