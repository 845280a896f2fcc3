package watch

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/iamgroups/iamgroups/internal/notify"
)

// env is a fake environment for configs that read variables.
func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

var testEnv = env(map[string]string{"IAMGROUPS_TOKEN": "t0ken", "SLACK_URL": "https://hooks.slack.com/services/T/B/X", "NOT_A_URL": "hooks"})

func TestParseFullConfig(t *testing.T) {
	dir := t.TempDir()
	snap := filepath.Join(dir, "prod.json")
	if err := os.WriteFile(snap, []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "iamgroups.yaml")
	data := `# continuous mode
version: 1
store: history.db
listen: 0.0.0.0:9090
auth_token_env: IAMGROUPS_TOKEN
concurrency: 3
targets:
  - name: prod
    profile: prod-audit
    endpoint_url: http://127.0.0.1:5000
    region: eu-west-1
    method: gaad
    every: 6h
  - name: org
    role_arn: arn:aws:iam::123456789012:role/Auditor
    external_id: ext
    org: true
    org_role_name: Audit
    accounts: ["111122223333", "444455556666"]
    cron: "0 */6 * * *"
  - name: offline
    snapshot: prod.json
    every: 24h
  - name: demo
    demo: true
    cron: "@daily"
notify:
  - url: https://example.com/hook
    format: json
    on: [new, failed]
  - url_env: SLACK_URL
    format: slack
exemptions:
  - users: ["break-glass"]
    reason: Emergency access
    expires: 2030-01-01
`
	cfg, err := Parse([]byte(data), cfgPath, ParseOptions{LookupEnv: testEnv})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Store != filepath.Join(dir, "history.db") || cfg.Listen != "0.0.0.0:9090" || cfg.AuthToken != "t0ken" ||
		cfg.AuthTokenEnv != "IAMGROUPS_TOKEN" || cfg.Concurrency != 3 {
		t.Errorf("config %+v", cfg)
	}
	if len(cfg.Targets) != 4 {
		t.Fatalf("%d targets", len(cfg.Targets))
	}
	prod, org, offline, demo := cfg.Targets[0], cfg.Targets[1], cfg.Targets[2], cfg.Targets[3]
	if prod.Name != "prod" || prod.Profile != "prod-audit" || prod.EndpointURL != "http://127.0.0.1:5000" || prod.Region != "eu-west-1" ||
		prod.Method != "gaad" || prod.Schedule.String() != "every 6h" || prod.Line != 8 {
		t.Errorf("prod %+v", prod)
	}
	if !org.Org || org.OrgRoleName != "Audit" || !reflect.DeepEqual(org.Accounts, []string{"111122223333", "444455556666"}) ||
		org.Schedule.String() != "cron 0 */6 * * *" || org.Source() != "organization, role arn:aws:iam::123456789012:role/Auditor" {
		t.Errorf("org %+v, source %q", org, org.Source())
	}
	if offline.Snapshot != snap || offline.Source() != "snapshot "+snap {
		t.Errorf("offline %+v", offline)
	}
	if !demo.Demo || demo.Schedule.String() != "cron @daily" || strings.Join(demo.PlanFlags(), " ") != "--demo" {
		t.Errorf("demo %+v", demo)
	}
	if got := strings.Join(prod.PlanFlags(), " "); got != "--profile prod-audit --endpoint-url http://127.0.0.1:5000 --region eu-west-1" {
		t.Errorf("plan flags %q", got)
	}
	wantSinks := []notify.Sink{
		{URL: "https://example.com/hook", Format: notify.FormatJSON, On: []notify.Kind{notify.KindNew, notify.KindFailed}},
		{URL: "https://hooks.slack.com/services/T/B/X", Format: notify.FormatSlack},
	}
	if !reflect.DeepEqual(cfg.Notify, wantSinks) {
		t.Errorf("notify %+v", cfg.Notify)
	}
	if cfg.Exemptions == nil || len(cfg.Exemptions.Exemptions) != 1 || cfg.Exemptions.Exemptions[0].Line != 34 ||
		cfg.Exemptions.Exemptions[0].Expires != "2030-01-01" {
		t.Errorf("exemptions %+v", cfg.Exemptions)
	}
}

func TestParseDefaults(t *testing.T) {
	cfg, err := Parse([]byte("targets:\n  - name: demo\n    demo: true\n    every: 1h\n"), filepath.Join("conf", "iamgroups.yaml"), ParseOptions{LookupEnv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Store != filepath.Join("conf", DefaultStore) || cfg.Listen != DefaultListen || cfg.Concurrency != DefaultConcurrency ||
		cfg.AuthToken != "" || cfg.AuthTokenEnv != "IAMGROUPS_TOKEN" || cfg.Notify != nil || cfg.Exemptions != nil {
		t.Errorf("defaults %+v", cfg)
	}
	withToken, err := Parse([]byte("targets:\n  - {name: d, demo: true, every: 1h}\n"), "c.yaml", ParseOptions{LookupEnv: testEnv})
	if err != nil || withToken.AuthToken != "t0ken" {
		t.Errorf("the token is not read from IAMGROUPS_TOKEN by default: %v", err)
	}
	pg, err := Parse([]byte("store: postgres://iamgroups@db/iamgroups\ntargets:\n  - {name: d, demo: true, every: 1h}\n"), "c.yaml", ParseOptions{})
	if err != nil || pg.Store != "postgres://iamgroups@db/iamgroups" {
		t.Errorf("postgres store: %v %q", err, pg.Store)
	}
}

// TestParseErrors gives each bad input and its exact message. The base
// config is valid; each case replaces one line of it or adds lines.
func TestParseErrors(t *testing.T) {
	const base = "store: h.db\n" + // line 1
		"targets:\n" + // 2
		"  - name: prod\n" + // 3
		"    profile: prod\n" + // 4
		"    every: 6h\n" // 5
	tests := []struct {
		name, data, want string
	}{
		{"unknown top key", "stroe: x.db\n" + base[12:],
			`c.yaml:1:1: stroe: unknown key; did you mean "store"? (known: version, store, listen, auth_token_env, concurrency, targets, notify, exemptions)`},
		{"unknown target key", base + "    profle: x\n",
			`c.yaml:6:5: targets[0].profle: unknown key; did you mean "profile"? (known: name, profile, role_arn, external_id, endpoint_url, region, method, org, org_role_name, accounts, snapshot, demo, every, cron)`},
		{"no targets", "store: h.db\n",
			`c.yaml:1:1: targets: missing; add at least one target (name, a source and every: or cron:)`},
		{"empty file", "# nothing\n",
			`c.yaml: targets: the config is empty; add at least one target (name, a source and every: or cron:)`},
		{"empty targets", "targets: []\n",
			`c.yaml:1:10: targets: must be a list of at least one target (each starting with "- name: "), found an empty list`},
		{"syntax", "targets:\n  - name: prod\n   every: 6h\n",
			`c.yaml:2: invalid YAML: did not find expected '-' indicator; check the indentation and quoting around this line`},
		{"two documents", base + "---\nstore: x\n",
			`c.yaml:6:1: a second YAML document; the config is one document, remove the '---' and what follows or merge it into the first`},
		{"missing name", "targets:\n  - profile: prod\n    every: 6h\n",
			`c.yaml:2:5: targets[0].name: missing; give the target a name, such as name: prod`},
		{"bad name", strings.Replace(base, "name: prod", "name: prod env", 1),
			`c.yaml:3:11: targets[0].name: "prod env" is not a valid name; use up to 63 letters, digits, '.', '_' or '-', starting with a letter or digit`},
		{"duplicate name", base + "  - name: prod\n    demo: true\n    every: 1h\n",
			`c.yaml:6:11: targets[1].name: "prod" is already the name of the target on line 3; give each target its own name`},
		{"no schedule", strings.Replace(base, "    every: 6h\n", "", 1),
			`c.yaml:3:5: targets[0]: has no schedule; add every: 6h (an interval) or cron: "0 */6 * * *"`},
		{"both schedules", base + "    cron: \"0 * * * *\"\n",
			`c.yaml:6:5: targets[0]: has both every and cron; keep one`},
		{"bad duration", strings.Replace(base, "every: 6h", "every: 6 hours", 1),
			`c.yaml:5:12: targets[0].every: "6 hours" is not a duration; write one such as 30m, 6h or 24h (units: s, m, h)`},
		{"days are not a unit", strings.Replace(base, "every: 6h", "every: 1d", 1),
			`c.yaml:5:12: targets[0].every: "1d" is not a duration; write one such as 30m, 6h or 24h (units: s, m, h)`},
		{"too often", strings.Replace(base, "every: 6h", "every: 10s", 1),
			`c.yaml:5:12: targets[0].every: 10s is shorter than the minimum 1m0s; scan less often, or use cron for fixed times`},
		{"bad cron", strings.Replace(base, "every: 6h", `cron: "0 */6 * *"`, 1),
			`c.yaml:5:11: targets[0].cron: "0 */6 * *" is not a cron expression (expected exactly 5 fields, found 4: [0 */6 * *]); write five fields: minute hour day-of-month month day-of-week, such as "0 */6 * * *"`},
		{"cron out of range", strings.Replace(base, "every: 6h", `cron: "61 * * * *"`, 1),
			`c.yaml:5:11: targets[0].cron: "61 * * * *" is not a cron expression (end of range (61) above maximum (59): 61); write five fields: minute hour day-of-month month day-of-week, such as "0 */6 * * *"`},
		{"cron @every", strings.Replace(base, "every: 6h", `cron: "@every 1s"`, 1),
			`c.yaml:5:11: targets[0].cron: @every is an interval; write it with the key every (such as every: 6h) instead of cron`},
		{"cron zone only", strings.Replace(base, "every: 6h", `cron: "CRON_TZ=UTC"`, 1),
			`c.yaml:5:11: targets[0].cron: "CRON_TZ=UTC" has a time zone but no schedule; write it as "CRON_TZ=Europe/Paris 0 6 * * *"`},
		{"bad role", base + "    role_arn: arn:aws:iam::1:role/x\n",
			`c.yaml:6:15: targets[0].role_arn: "arn:aws:iam::1:role/x" is not a role ARN like arn:aws:iam::123456789012:role/Auditor`},
		{"external id alone", base + "    external_id: x\n",
			`c.yaml:6:5: targets[0].external_id: needs role_arn (the external ID is sent when assuming that role)`},
		{"accounts without org", base + "    accounts: [\"111122223333\"]\n",
			`c.yaml:6:5: targets[0].accounts: needs org: true (it applies to the accounts of an Organization)`},
		{"bad account", base + "    org: true\n    accounts: [111122223333, \"12\"]\n",
			`c.yaml:7:30: targets[0].accounts[1]: "12" is not an AWS account ID; write the 12 digits in quotes, such as "111122223333"`},
		{"org not a bool", base + "    org: yes\n",
			`c.yaml:6:10: targets[0].org: must be true or false, found the string "yes"`},
		{"bad method", base + "    method: fast\n",
			`c.yaml:6:13: targets[0].method: "fast" is not a method; use auto, gaad or list`},
		{"bad endpoint", base + "    endpoint_url: moto:5000\n",
			`c.yaml:6:19: targets[0].endpoint_url: "moto:5000" is not a URL like https://iam.example.com or http://127.0.0.1:5000`},
		{"snapshot with live keys", strings.Replace(base, "profile: prod", "snapshot: config_test.go\n    profile: prod", 1),
			`c.yaml:5:5: targets[0].profile: only for live targets; a snapshot target is not read from AWS, so remove profile (or snapshot)`},
		{"missing snapshot", strings.Replace(base, "profile: prod", "snapshot: nope.json", 1),
			`c.yaml:4:15: targets[0].snapshot: nope.json cannot be read (no such file or directory); write it with ` + "`iamgroups snapshot --output nope.json`" + `, or fix the path (relative paths start at the config file's directory)`},
		{"snapshot and demo", strings.Replace(base, "profile: prod", "snapshot: config_test.go\n    demo: true", 1),
			`c.yaml:5:5: targets[0].demo: a target is a snapshot or the demo, not both; remove one`},
		{"bad listen", "listen: 8080\n" + base,
			`c.yaml:1:9: listen: "8080" is not host:port; write it as 127.0.0.1:8080 (or [::1]:8080)`},
		{"bad port", "listen: localhost:http\n" + base,
			`c.yaml:1:9: listen: "localhost:http" has no valid port; use a number from 1 to 65535`},
		{"token variable unset", "auth_token_env: NO_SUCH_VAR\n" + base,
			`c.yaml:1:17: auth_token_env: the environment variable NO_SUCH_VAR is not set or empty; export the API token in it before starting serve, or remove auth_token_env (a loopback listen address needs no token)`},
		{"token value instead of name", "auth_token_env: s3cr3t-t0ken!\n" + base,
			`c.yaml:1:17: auth_token_env: "s3cr3t-t0ken!" is not an environment variable name; give the variable's name (letters, digits, _), not its value`},
		{"concurrency", "concurrency: 0\n" + base,
			`c.yaml:1:14: concurrency: must be a whole number from 1 to 16, found the number 0`},
		{"notify without url", base + "notify:\n  - format: slack\n",
			`c.yaml:7:5: notify[0]: has no webhook; add url: https://… or url_env: NAME_OF_A_VARIABLE_HOLDING_IT`},
		{"notify bad url", base + "notify:\n  - url: hooks.example.com/secret\n",
			`c.yaml:7:10: notify[0].url: is not an http(s) URL; write it as https://host/path`},
		{"notify url and env", base + "notify:\n  - url: https://x.example/h\n    url_env: SLACK_URL\n",
			`c.yaml:8:14: notify[0].url_env: give url or url_env, not both; url_env keeps the secret out of the file`},
		{"notify env unset", base + "notify:\n  - url_env: NOPE\n",
			`c.yaml:7:14: notify[0].url_env: the environment variable NOPE is not set or empty; export the webhook URL in it before starting serve`},
		{"notify env not a url", base + "notify:\n  - url_env: NOT_A_URL\n",
			`c.yaml:7:14: notify[0].url_env: the environment variable NOT_A_URL does not hold an http(s) URL; set it to https://host/path`},
		{"notify format", base + "notify:\n  - url: https://x.example/h\n    format: teams\n",
			`c.yaml:8:13: notify[0].format: "teams" is not a format; use slack or json`},
		{"notify event", base + "notify:\n  - url: https://x.example/h\n    on: [new, fixed]\n",
			`c.yaml:8:15: notify[0].on: "fixed" is not an event; use new, resolved or failed`},
		{"exemption without reason", base + "exemptions:\n  - users: [alice]\n",
			`c.yaml:7:5: exemptions[0].reason: missing; every exemption needs a reason saying why it is allowed`},
		{"exemption bad date, keys after", base + "exemptions:\n  - users: [alice]\n    reason: r\n    expires: soon\nlisten: 127.0.0.1:1\n",
			`c.yaml:9:14: exemptions[0].expires: "soon" is not a date; write it as YYYY-MM-DD`},
		{"exemption unknown key", "exemptions:\n  - user: [alice]\n    reason: r\n" + base,
			`c.yaml:2:5: exemptions[0].user: unknown key; did you mean "users"? (known: users, tags, policies, accounts, reason, expires)` +
				"\nc.yaml:2:5: exemptions[0]: selects nothing; add users, tags or policies"},
		{"duplicate key", base + "store: other.db\n",
			`c.yaml:6:1: store: duplicate key (first on line 1); keep one`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.data), "c.yaml", ParseOptions{LookupEnv: testEnv})
			if err == nil {
				t.Fatalf("no error; want %s", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("got  %s\nwant %s", err, tt.want)
			}
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	data := "listen: nope\ntargets:\n  - name: a\n    every: 1s\n  - name: b\n"
	_, err := Parse([]byte(data), "c.yaml", ParseOptions{})
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "c.yaml:1:9: listen:") || !strings.HasPrefix(lines[1], "c.yaml:4:12: targets[0].every:") ||
		!strings.HasPrefix(lines[2], "c.yaml:5:5: targets[1]: has no schedule") {
		t.Errorf("errors:\n%s", err)
	}
}

func TestSecretsAreNotEchoed(t *testing.T) {
	data := "targets:\n  - {name: d, demo: true, every: 1h}\nnotify:\n  - url: hooks.example.com/services/SECRET\n"
	_, err := Parse([]byte(data), "c.yaml", ParseOptions{})
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error %v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.yaml"), ParseOptions{})
	if err == nil || !strings.Contains(err.Error(), "none.yaml does not exist; write one") {
		t.Errorf("error %v", err)
	}
}

func TestSchedules(t *testing.T) {
	start := time.Date(2026, 3, 1, 10, 17, 0, 0, time.UTC)
	every, err := ParseEvery("90m", time.Minute)
	if err != nil || !every.Next(start).Equal(start.Add(90*time.Minute)) || every.String() != "every 90m" {
		t.Errorf("every: %v %v", err, every)
	}
	c, err := ParseCron("0 */6 * * *")
	if err != nil {
		t.Fatal(err)
	}
	next := c.Next(start.In(time.UTC))
	if want := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC); !next.Equal(want) {
		t.Errorf("cron next %v, want %v", next, want)
	}
	tz, err := ParseCron("CRON_TZ=Asia/Tokyo 0 9 * * *")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tz.Next(start), time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("cron with a zone: next %v, want %v", got, want)
	}
	for _, bad := range []string{"", "TZ=", "* * * * * * *", "@fortnightly", "a b c d e"} {
		if _, err := ParseCron(bad); err == nil {
			t.Errorf("ParseCron(%q) accepted", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("targets:\n  - name: prod\n    every: 6h\n    cron: '0 * * * *'\nexemptions:\n  - users: [a]\n    reason: r\n"))
	f.Add([]byte("{targets: [{name: x, demo: true, cron: 'TZ=UTC 0 * * * *'}], exemptions: []}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, "fuzz.yaml", ParseOptions{LookupEnv: env(nil)})
		if err == nil && len(cfg.Targets) == 0 {
			t.Fatal("a config without targets was accepted")
		}
	})
}
