package watch

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/iamgroups/iamgroups/internal/exempt"
	"github.com/iamgroups/iamgroups/internal/notify"
	"github.com/iamgroups/iamgroups/internal/store"
	"github.com/iamgroups/iamgroups/internal/web"
	"github.com/iamgroups/iamgroups/internal/yamlconf"
)

// Defaults of the config.
const (
	DefaultStore       = "iamgroups.db"
	DefaultListen      = "127.0.0.1:8080"
	DefaultConcurrency = 2
	// DefaultMinInterval is the shortest `every:` accepted: IAM is a
	// low-rate API, and a scan more often than this helps no one.
	DefaultMinInterval = time.Minute
)

// Config is the configuration of `iamgroups serve`.
type Config struct {
	// Path is the file the config was read from.
	Path string
	// Store is a SQLite file (relative paths are resolved against the
	// config file's directory) or a postgres:// DSN.
	Store string
	// Listen is the HTTP server's host:port.
	Listen string
	// AuthTokenEnv names the environment variable holding the API token
	// (default web.TokenEnv; then an unset variable means no token).
	AuthTokenEnv string
	// AuthToken is the token read from AuthTokenEnv. It is a secret: never
	// print or log it.
	AuthToken string
	// Concurrency bounds the scans that run at once, over all targets.
	Concurrency int
	Targets     []Target
	// Notify are the webhooks; their URLs are secrets.
	Notify []notify.Sink
	// Exemptions apply to every target, evaluated at each scan.
	Exemptions *exempt.Config
}

// Target is one thing scanned on a schedule: a live account (the default
// credentials, a profile or a role), a whole Organization, a snapshot file
// or the demo account.
type Target struct {
	Name        string
	Profile     string
	RoleARN     string
	ExternalID  string
	EndpointURL string
	Region      string
	// Method is how users are read: auto (default), gaad or list.
	Method      string
	Org         bool
	OrgRoleName string
	Accounts    []string
	// Snapshot is a snapshot file, read at each scan (offline target).
	Snapshot string
	// Demo scans the embedded demo account.
	Demo     bool
	Schedule Schedule
	// Line locates the target in the config.
	Line int
}

// Source describes how the target is reached, for people and the store.
func (t *Target) Source() string {
	var parts []string
	switch {
	case t.Demo:
		return "demo"
	case t.Snapshot != "":
		return "snapshot " + t.Snapshot
	case t.Org:
		parts = append(parts, "organization")
	}
	switch {
	case t.RoleARN != "":
		parts = append(parts, "role "+t.RoleARN)
	case t.Profile != "":
		parts = append(parts, "profile "+t.Profile)
	case !t.Org:
		parts = append(parts, "default credentials")
	}
	if t.EndpointURL != "" {
		parts = append(parts, "endpoint "+t.EndpointURL)
	}
	return strings.Join(parts, ", ")
}

// PlanFlags are the flags that reach the target, one argument per
// element, such as ["--profile", "prod-audit"] or ["--snapshot",
// "prod.json"] (the demo: ["--demo"]). An Organization target adds the
// audit-only "--org", "--org-role-name" and "--accounts", which plan
// commands leave out.
func (t *Target) PlanFlags() []string {
	switch {
	case t.Demo:
		return []string{"--demo"}
	case t.Snapshot != "":
		return []string{"--snapshot", t.Snapshot}
	}
	var f []string
	add := func(flag, v string) {
		if v != "" {
			f = append(f, flag, v)
		}
	}
	add("--profile", t.Profile)
	add("--role-arn", t.RoleARN)
	add("--external-id", t.ExternalID)
	add("--endpoint-url", t.EndpointURL)
	add("--region", t.Region)
	if t.Org {
		f = append(f, "--org")
		add("--org-role-name", t.OrgRoleName)
		add("--accounts", strings.Join(t.Accounts, ","))
	}
	return f
}

// ParseOptions adjust parsing; zero values take the defaults.
type ParseOptions struct {
	// LookupEnv reads environment variables (default os.LookupEnv).
	LookupEnv func(string) (string, bool)
	// MinInterval is the shortest `every:` accepted (default
	// DefaultMinInterval). Tests lower it.
	MinInterval time.Duration
}

// Load reads and validates the config at path.
func Load(path string, o ParseOptions) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("read config: %s does not exist; write one (see `iamgroups serve --help`) or name it with --config", path)
		}
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(data, path, o)
}

// Parse validates a config. name is the file it came from: it is used in
// messages, and relative paths in the config are resolved against its
// directory. Every problem found is reported as a *yamlconf.Error
// ("file:line:column: field: message"), joined into the returned error.
func Parse(data []byte, name string, o ParseOptions) (*Config, error) {
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
	}
	if o.MinInterval <= 0 {
		o.MinInterval = DefaultMinInterval
	}
	p := &parser{Problems: yamlconf.Problems{File: name, MergeKeyAsName: true}, dir: filepath.Dir(name), opts: o}
	cfg := &Config{Path: name, Store: DefaultStore, Listen: DefaultListen, Concurrency: DefaultConcurrency}

	doc, err := p.Decode(data)
	if err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, &yamlconf.Error{File: name, Field: "targets", Msg: "the config is empty; add at least one target (name, a source and every: or cron:)"}
	}
	if len(doc.Content) > 0 {
		p.root(doc.Content[0], cfg, data)
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	if cfg.AuthTokenEnv == "" {
		cfg.AuthTokenEnv = web.TokenEnv
		cfg.AuthToken, _ = o.LookupEnv(web.TokenEnv)
	}
	if !filepath.IsAbs(cfg.Store) && !store.IsPostgres(cfg.Store) {
		cfg.Store = filepath.Join(p.dir, cfg.Store)
	}
	return cfg, nil
}

// parser reads a serve config; the Problems it embeds collect what is wrong.
type parser struct {
	yamlconf.Problems
	dir  string
	opts ParseOptions
}

var (
	topKeys    = []string{"version", "store", "listen", "auth_token_env", "concurrency", "targets", "notify", "exemptions"}
	targetKeys = []string{"name", "profile", "role_arn", "external_id", "endpoint_url", "region", "method", "org", "org_role_name",
		"accounts", "snapshot", "demo", "every", "cron"}
	notifyKeys = []string{"url", "url_env", "format", "on"}
	// liveKeys are the target keys that only a live target takes.
	liveKeys = []string{"profile", "role_arn", "external_id", "endpoint_url", "region", "method", "org", "org_role_name", "accounts"}
)

func (p *parser) root(n *yaml.Node, cfg *Config, data []byte) {
	n = yamlconf.Deref(n)
	if yamlconf.IsNull(n) {
		p.Errorf(n, "targets", "the config is empty; add at least one target (name, a source and every: or cron:)")
		return
	}
	if n.Kind != yaml.MappingNode {
		p.Errorf(n, "", "the config must be a mapping with keys such as store, listen, targets, notify, exemptions; found %s", yamlconf.Describe(n))
		return
	}
	hasTargets := false
	for _, kv := range p.Pairs(n, "", topKeys) {
		switch kv.Key {
		case "version":
			p.Version(kv.Value)
		case "store":
			if s, ok := p.nonEmpty(kv.Value, "store", "a SQLite file name or a postgres:// DSN"); ok {
				cfg.Store = s
			}
		case "listen":
			if s, ok := p.nonEmpty(kv.Value, "listen", "host:port, such as 127.0.0.1:8080"); ok {
				p.listen(yamlconf.Deref(kv.Value), s)
				cfg.Listen = s
			}
		case "auth_token_env":
			if name, ok := p.envName(kv.Value, "auth_token_env"); ok {
				cfg.AuthTokenEnv = name
				v, set := p.opts.LookupEnv(name)
				if !set || v == "" {
					p.Errorf(yamlconf.Deref(kv.Value), "auth_token_env", "the environment variable %s is not set or empty; export the API token in it before starting serve, or remove auth_token_env (a loopback listen address needs no token)", name)
				}
				cfg.AuthToken = v
			}
		case "concurrency":
			cfg.Concurrency = p.intRange(kv.Value, "concurrency", 1, 16)
		case "targets":
			hasTargets = true
			cfg.Targets = p.targets(kv.Value)
		case "notify":
			cfg.Notify = p.notifyList(kv.Value)
		case "exemptions":
			cfg.Exemptions = p.exemptions(n, kv, data)
		}
	}
	if !hasTargets {
		p.Errorf(n, "targets", "missing; add at least one target (name, a source and every: or cron:)")
	}
}

// listen checks a host:port address.
func (p *parser) listen(n *yaml.Node, s string) {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		p.Errorf(n, "listen", "%q is not host:port; write it as 127.0.0.1:8080 (or [::1]:8080)", s)
		return
	}
	if v, err := strconv.Atoi(port); err != nil || v < 0 || v > 65535 {
		p.Errorf(n, "listen", "%q has no valid port; use a number from 1 to 65535", s)
	}
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// envName reads the name of an environment variable.
func (p *parser) envName(n *yaml.Node, field string) (string, bool) {
	s, ok := p.nonEmpty(n, field, "the name of an environment variable, such as IAMGROUPS_TOKEN")
	if !ok {
		return "", false
	}
	if !envNameRE.MatchString(s) {
		p.Errorf(yamlconf.Deref(n), field, "%q is not an environment variable name; give the variable's name (letters, digits, _), not its value", s)
		return "", false
	}
	return s, true
}

var targetNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// CheckTargetName refuses what cannot name a target.
func CheckTargetName(name string) error {
	if !targetNameRE.MatchString(name) {
		return fmt.Errorf("%q is not a valid name; use up to 63 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return nil
}

func (p *parser) targets(n *yaml.Node) []Target {
	n = yamlconf.Deref(n)
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		what := yamlconf.Describe(n)
		if n.Kind == yaml.SequenceNode {
			what = "an empty list"
		}
		p.Errorf(n, "targets", "must be a list of at least one target (each starting with \"- name: \"), found %s", what)
		return nil
	}
	seen := map[string]int{}
	var out []Target
	for i, item := range n.Content {
		field := fmt.Sprintf("targets[%d]", i)
		t, nameNode, ok := p.target(item, field)
		if nameNode != nil {
			if line, dup := seen[t.Name]; dup {
				p.Errorf(nameNode, field+".name", "%q is already the name of the target on line %d; give each target its own name", t.Name, line)
				ok = false
			} else {
				seen[t.Name] = nameNode.Line
			}
		}
		if ok {
			out = append(out, t)
		}
	}
	return out
}

func (p *parser) target(n *yaml.Node, field string) (Target, *yaml.Node, bool) {
	n = yamlconf.Deref(n)
	if n.Kind != yaml.MappingNode {
		p.Errorf(n, field, "must be a mapping with a name, a source and every: or cron:, found %s", yamlconf.Describe(n))
		return Target{}, nil, false
	}
	before := len(p.Errs)
	t := Target{Line: n.Line}
	var nameNode *yaml.Node
	keys := map[string]*yaml.Node{}
	var every, cronText *yaml.Node
	for _, kv := range p.Pairs(n, field, targetKeys) {
		f := yamlconf.Join(field, kv.Key)
		keys[kv.Key] = kv.KeyNode
		v := yamlconf.Deref(kv.Value)
		switch kv.Key {
		case "name":
			if s, ok := p.nonEmpty(v, f, "a name such as prod"); ok {
				if err := CheckTargetName(s); err != nil {
					p.Errorf(v, f, "%v", err)
				}
				t.Name, nameNode = s, v
			}
		case "profile":
			t.Profile, _ = p.nonEmpty(v, f, "an AWS profile name")
		case "role_arn":
			if s, ok := p.nonEmpty(v, f, "a role ARN"); ok {
				if !isRoleARN(s) {
					p.Errorf(v, f, "%q is not a role ARN like arn:aws:iam::123456789012:role/Auditor", s)
				}
				t.RoleARN = s
			}
		case "external_id":
			t.ExternalID, _ = p.nonEmpty(v, f, "the external ID the role's trust policy requires")
		case "endpoint_url":
			if s, ok := p.nonEmpty(v, f, "a URL such as http://127.0.0.1:5000"); ok {
				if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					p.Errorf(v, f, "%q is not a URL like https://iam.example.com or http://127.0.0.1:5000", s)
				}
				t.EndpointURL = s
			}
		case "region":
			t.Region, _ = p.nonEmpty(v, f, "an AWS region such as us-east-1")
		case "method":
			if s, ok := p.nonEmpty(v, f, "auto, gaad or list"); ok {
				if s != "auto" && s != "gaad" && s != "list" {
					p.Errorf(v, f, "%q is not a method; use auto, gaad or list", s)
				}
				t.Method = s
			}
		case "org":
			t.Org = p.boolean(v, f)
		case "org_role_name":
			t.OrgRoleName, _ = p.nonEmpty(v, f, "the role name assumed in each member account")
		case "accounts":
			t.Accounts = p.accounts(v, f)
		case "snapshot":
			if s, ok := p.nonEmpty(v, f, "a snapshot file"); ok {
				t.Snapshot = s
				path := s
				if !filepath.IsAbs(path) {
					path = filepath.Join(p.dir, path)
				}
				if _, err := os.Stat(path); err != nil {
					p.Errorf(v, f, "%s cannot be read (%v); write it with `iamgroups snapshot --output %s`, or fix the path (relative paths start at the config file's directory)", s, errors.Unwrap(err), s)
				}
				t.Snapshot = path
			}
		case "demo":
			t.Demo = p.boolean(v, f)
		case "every":
			every = v
			if s, ok := p.nonEmpty(v, f, "a duration such as 6h"); ok {
				sched, err := ParseEvery(s, p.opts.MinInterval)
				if err != nil {
					p.Errorf(v, f, "%v", err)
				}
				t.Schedule = sched
			}
		case "cron":
			cronText = v
			if s, ok := p.nonEmpty(v, f, "a cron expression such as \"0 */6 * * *\""); ok {
				sched, err := ParseCron(s)
				if err != nil {
					p.Errorf(v, f, "%v", err)
				}
				t.Schedule = sched
			}
		}
	}
	if nameNode == nil && keys["name"] == nil {
		p.Errorf(n, yamlconf.Join(field, "name"), "missing; give the target a name, such as name: prod")
	}
	switch {
	case every != nil && cronText != nil:
		p.Errorf(keys["cron"], field, "has both every and cron; keep one")
	case every == nil && cronText == nil:
		p.Errorf(n, field, "has no schedule; add every: 6h (an interval) or cron: \"0 */6 * * *\"")
	}
	p.checkSource(&t, field, keys)
	return t, nameNode, len(p.Errs) == before
}

// checkSource checks that the keys of a target describe one source.
func (p *parser) checkSource(t *Target, field string, keys map[string]*yaml.Node) {
	offline := ""
	switch {
	case t.Snapshot != "" && t.Demo:
		p.Errorf(keys["demo"], yamlconf.Join(field, "demo"), "a target is a snapshot or the demo, not both; remove one")
		return
	case t.Snapshot != "":
		offline = "snapshot"
	case t.Demo:
		offline = "demo"
	}
	if offline != "" {
		for _, k := range liveKeys {
			if kn := keys[k]; kn != nil {
				p.Errorf(kn, yamlconf.Join(field, k), "only for live targets; a %s target is not read from AWS, so remove %s (or %s)", offline, k, offline)
			}
		}
		return
	}
	if t.ExternalID != "" && t.RoleARN == "" {
		p.Errorf(keys["external_id"], yamlconf.Join(field, "external_id"), "needs role_arn (the external ID is sent when assuming that role)")
	}
	for _, k := range []string{"org_role_name", "accounts"} {
		if kn := keys[k]; kn != nil && !t.Org {
			p.Errorf(kn, yamlconf.Join(field, k), "needs org: true (it applies to the accounts of an Organization)")
		}
	}
}

// isRoleARN checks the shape of a role ARN.
func isRoleARN(s string) bool {
	parts := strings.SplitN(s, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && parts[2] == "iam" && len(parts[4]) == 12 &&
		strings.Trim(parts[4], "0123456789") == "" && strings.HasPrefix(parts[5], "role/") && len(parts[5]) > len("role/")
}

func (p *parser) accounts(n *yaml.Node, field string) []string {
	var items []*yaml.Node
	switch {
	case n.Kind == yaml.ScalarNode && !yamlconf.IsNull(n):
		items = []*yaml.Node{n}
	case n.Kind == yaml.SequenceNode && len(n.Content) > 0:
		items = n.Content
	default:
		p.Errorf(n, field, "must be a list of 12-digit account IDs in quotes, found %s", yamlconf.Describe(n))
		return nil
	}
	var out []string
	for i, item := range items {
		f := field
		if n.Kind == yaml.SequenceNode {
			f = fmt.Sprintf("%s[%d]", field, i)
		}
		item = yamlconf.Deref(item)
		s, ok := p.Scalar(item, f, "a 12-digit account ID")
		if !ok {
			continue
		}
		if len(s) != 12 || strings.Trim(s, "0123456789") != "" {
			p.Errorf(item, f, "%q is not an AWS account ID; write the 12 digits in quotes, such as \"111122223333\"", s)
			continue
		}
		out = append(out, s)
	}
	return out
}

func (p *parser) notifyList(n *yaml.Node) []notify.Sink {
	n = yamlconf.Deref(n)
	if yamlconf.IsNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.Errorf(n, "notify", "must be a list of webhooks (each starting with \"- url: \" or \"- url_env: \"), found %s", yamlconf.Describe(n))
		return nil
	}
	var out []notify.Sink
	for i, item := range n.Content {
		if s, ok := p.sink(yamlconf.Deref(item), fmt.Sprintf("notify[%d]", i)); ok {
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) sink(n *yaml.Node, field string) (notify.Sink, bool) {
	if n.Kind != yaml.MappingNode {
		p.Errorf(n, field, "must be a mapping with url (or url_env) and format, found %s", yamlconf.Describe(n))
		return notify.Sink{}, false
	}
	before := len(p.Errs)
	s := notify.Sink{Format: notify.FormatJSON}
	var urlNode, envNode *yaml.Node
	for _, kv := range p.Pairs(n, field, notifyKeys) {
		f := yamlconf.Join(field, kv.Key)
		v := yamlconf.Deref(kv.Value)
		switch kv.Key {
		case "url":
			urlNode = v
			if u, ok := p.nonEmpty(v, f, "the webhook's URL"); ok {
				// Never echo the URL: it may carry a token.
				if !isWebhookURL(u) {
					p.Errorf(v, f, "is not an http(s) URL; write it as https://host/path")
				}
				s.URL = u
			}
		case "url_env":
			envNode = v
			if name, ok := p.envName(v, f); ok {
				u, set := p.opts.LookupEnv(name)
				switch {
				case !set || u == "":
					p.Errorf(v, f, "the environment variable %s is not set or empty; export the webhook URL in it before starting serve", name)
				case !isWebhookURL(u):
					p.Errorf(v, f, "the environment variable %s does not hold an http(s) URL; set it to https://host/path", name)
				}
				s.URL = u
			}
		case "format":
			if f2, ok := p.nonEmpty(v, f, "slack or json"); ok {
				s.Format = notify.Format(f2)
				if !slices.Contains(notify.Formats, s.Format) {
					p.Errorf(v, f, "%q is not a format; use slack or json", f2)
				}
			}
		case "on":
			s.On = p.kinds(v, f)
		}
	}
	switch {
	case urlNode != nil && envNode != nil:
		p.Errorf(envNode, yamlconf.Join(field, "url_env"), "give url or url_env, not both; url_env keeps the secret out of the file")
	case urlNode == nil && envNode == nil:
		p.Errorf(n, field, "has no webhook; add url: https://… or url_env: NAME_OF_A_VARIABLE_HOLDING_IT")
	}
	return s, len(p.Errs) == before
}

func isWebhookURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func (p *parser) kinds(n *yaml.Node, field string) []notify.Kind {
	var items []*yaml.Node
	switch {
	case n.Kind == yaml.ScalarNode && !yamlconf.IsNull(n):
		items = []*yaml.Node{n}
	case n.Kind == yaml.SequenceNode && len(n.Content) > 0:
		items = n.Content
	default:
		p.Errorf(n, field, "must be a list of events (new, resolved, failed), found %s", yamlconf.Describe(n))
		return nil
	}
	var out []notify.Kind
	for _, item := range items {
		item = yamlconf.Deref(item)
		s, ok := p.Scalar(item, field, "new, resolved or failed")
		if !ok {
			continue
		}
		k := notify.Kind(s)
		if !slices.Contains(notify.Kinds, k) {
			p.Errorf(item, field, "%q is not an event; use new, resolved or failed", s)
			continue
		}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// exemptions parses the exemptions key with the exemptions config's own
// parser, so that both files accept exactly the same entries. It is handed
// the file with every other top-level key blanked out, line for line, so
// that its messages point at the right lines and columns.
func (p *parser) exemptions(root *yaml.Node, kv yamlconf.Pair, data []byte) *exempt.Config {
	if root.Style&yaml.FlowStyle != 0 {
		p.Errorf(kv.KeyNode, "exemptions", "write the config in block style (one key per line) to use exemptions")
		return nil
	}
	start := kv.KeyNode.Line
	end := 0 // the line of the next top-level key, or 0 for the end
	for i := 0; i < len(root.Content); i += 2 {
		if l := root.Content[i].Line; l > start && (end == 0 || l < end) {
			end = l
		}
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	var b bytes.Buffer
	for i, line := range lines {
		if l := i + 1; l < start || (end != 0 && l >= end) {
			if bytes.HasSuffix(line, []byte("\n")) {
				b.WriteByte('\n')
			}
			continue
		}
		b.Write(line)
	}
	cfg, err := exempt.Parse(b.Bytes(), p.File)
	if err != nil {
		p.Errs = append(p.Errs, unjoin(err)...)
		return nil
	}
	return cfg
}

// unjoin splits an errors.Join result into its errors.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// nonEmpty is Problems.Scalar refusing blank strings.
func (p *parser) nonEmpty(n *yaml.Node, field, want string) (string, bool) {
	s, ok := p.Scalar(n, field, want)
	if ok && strings.TrimSpace(s) == "" {
		p.Errorf(yamlconf.Deref(n), field, "is empty; write %s or remove the key", want)
		return "", false
	}
	return strings.TrimSpace(s), ok
}

func (p *parser) boolean(n *yaml.Node, field string) bool {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		p.Errorf(n, field, "must be true or false, found %s", yamlconf.Describe(n))
		return false
	}
	b, _ := strconv.ParseBool(n.Value)
	return b
}

func (p *parser) intRange(n *yaml.Node, field string, lo, hi int) int {
	n = yamlconf.Deref(n)
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || err != nil || v < lo || v > hi {
		p.Errorf(n, field, "must be a whole number from %d to %d, found %s", lo, hi, yamlconf.Describe(n))
		return lo
	}
	return v
}
