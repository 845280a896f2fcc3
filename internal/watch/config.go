package watch

import (
	"bytes"
	"errors"
	"fmt"
	"io"
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

// maxErrors bounds how many problems Parse reports at once.
const maxErrors = 50

// Parse validates a config. name is the file it came from: it is used in
// messages, and relative paths in the config are resolved against its
// directory. Every problem found is reported as an *exempt.Error
// ("file:line:column: field: message"), joined into the returned error.
func Parse(data []byte, name string, o ParseOptions) (*Config, error) {
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
	}
	if o.MinInterval <= 0 {
		o.MinInterval = DefaultMinInterval
	}
	p := &parser{file: name, dir: filepath.Dir(name), opts: o}
	cfg := &Config{Path: name, Store: DefaultStore, Listen: DefaultListen, Concurrency: DefaultConcurrency}

	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &exempt.Error{File: name, Field: "targets", Msg: "the config is empty; add at least one target (name, a source and every: or cron:)"}
		}
		return nil, syntaxError(data, name, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, syntaxError(data, name, err)
	default:
		p.errorf(&next, "", "a second YAML document; the config is one document, remove the '---' and what follows or merge it into the first")
	}
	if len(doc.Content) > 0 {
		p.root(doc.Content[0], cfg, data)
	}
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
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

// syntaxError reports a YAML syntax error the way the exemptions config
// does: the exemptions parser decodes the same bytes with the same library,
// so it fails at the same place and knows how to locate it.
func syntaxError(data []byte, name string, err error) error {
	if _, xerr := exempt.Parse(data, name); xerr != nil {
		var e *exempt.Error
		if errors.As(xerr, &e) && strings.Contains(e.Msg, "invalid YAML") {
			return e
		}
	}
	return &exempt.Error{File: name, Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
}

type parser struct {
	file, dir string
	opts      ParseOptions
	errs      []error
}

func (p *parser) errorf(n *yaml.Node, field, format string, args ...any) {
	if len(p.errs) == maxErrors {
		p.errs = append(p.errs, &exempt.Error{File: p.file, Msg: "too many problems; fix these and run again"})
	}
	if len(p.errs) > maxErrors {
		return
	}
	e := &exempt.Error{File: p.file, Field: field, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	p.errs = append(p.errs, e)
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
	n = deref(n)
	if isNull(n) {
		p.errorf(n, "targets", "the config is empty; add at least one target (name, a source and every: or cron:)")
		return
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "", "the config must be a mapping with keys such as store, listen, targets, notify, exemptions; found %s", describe(n))
		return
	}
	hasTargets := false
	for _, kv := range p.pairs(n, "", topKeys) {
		switch kv.key {
		case "version":
			if s, ok := p.scalar(kv.value, "version", "1"); ok && s != "1" {
				p.errorf(deref(kv.value), "version", "%s is not supported; write \"version: 1\" or leave it out", describe(deref(kv.value)))
			}
		case "store":
			if s, ok := p.nonEmpty(kv.value, "store", "a SQLite file name or a postgres:// DSN"); ok {
				cfg.Store = s
			}
		case "listen":
			if s, ok := p.nonEmpty(kv.value, "listen", "host:port, such as 127.0.0.1:8080"); ok {
				p.listen(deref(kv.value), s)
				cfg.Listen = s
			}
		case "auth_token_env":
			if name, ok := p.envName(kv.value, "auth_token_env"); ok {
				cfg.AuthTokenEnv = name
				v, set := p.opts.LookupEnv(name)
				if !set || v == "" {
					p.errorf(deref(kv.value), "auth_token_env", "the environment variable %s is not set or empty; export the API token in it before starting serve, or remove auth_token_env (a loopback listen address needs no token)", name)
				}
				cfg.AuthToken = v
			}
		case "concurrency":
			cfg.Concurrency = p.intRange(kv.value, "concurrency", 1, 16)
		case "targets":
			hasTargets = true
			cfg.Targets = p.targets(kv.value)
		case "notify":
			cfg.Notify = p.notifyList(kv.value)
		case "exemptions":
			cfg.Exemptions = p.exemptions(n, kv, data)
		}
	}
	if !hasTargets {
		p.errorf(n, "targets", "missing; add at least one target (name, a source and every: or cron:)")
	}
}

// listen checks a host:port address.
func (p *parser) listen(n *yaml.Node, s string) {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		p.errorf(n, "listen", "%q is not host:port; write it as 127.0.0.1:8080 (or [::1]:8080)", s)
		return
	}
	if v, err := strconv.Atoi(port); err != nil || v < 0 || v > 65535 {
		p.errorf(n, "listen", "%q has no valid port; use a number from 1 to 65535", s)
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
		p.errorf(deref(n), field, "%q is not an environment variable name; give the variable's name (letters, digits, _), not its value", s)
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
	n = deref(n)
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		what := describe(n)
		if n.Kind == yaml.SequenceNode {
			what = "an empty list"
		}
		p.errorf(n, "targets", "must be a list of at least one target (each starting with \"- name: \"), found %s", what)
		return nil
	}
	seen := map[string]int{}
	var out []Target
	for i, item := range n.Content {
		field := fmt.Sprintf("targets[%d]", i)
		t, nameNode, ok := p.target(item, field)
		if nameNode != nil {
			if line, dup := seen[t.Name]; dup {
				p.errorf(nameNode, field+".name", "%q is already the name of the target on line %d; give each target its own name", t.Name, line)
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
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, field, "must be a mapping with a name, a source and every: or cron:, found %s", describe(n))
		return Target{}, nil, false
	}
	before := len(p.errs)
	t := Target{Line: n.Line}
	var nameNode *yaml.Node
	keys := map[string]*yaml.Node{}
	var every, cronText *yaml.Node
	for _, kv := range p.pairs(n, field, targetKeys) {
		f := join(field, kv.key)
		keys[kv.key] = kv.kNode
		v := deref(kv.value)
		switch kv.key {
		case "name":
			if s, ok := p.nonEmpty(v, f, "a name such as prod"); ok {
				if err := CheckTargetName(s); err != nil {
					p.errorf(v, f, "%v", err)
				}
				t.Name, nameNode = s, v
			}
		case "profile":
			t.Profile, _ = p.nonEmpty(v, f, "an AWS profile name")
		case "role_arn":
			if s, ok := p.nonEmpty(v, f, "a role ARN"); ok {
				if !isRoleARN(s) {
					p.errorf(v, f, "%q is not a role ARN like arn:aws:iam::123456789012:role/Auditor", s)
				}
				t.RoleARN = s
			}
		case "external_id":
			t.ExternalID, _ = p.nonEmpty(v, f, "the external ID the role's trust policy requires")
		case "endpoint_url":
			if s, ok := p.nonEmpty(v, f, "a URL such as http://127.0.0.1:5000"); ok {
				if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					p.errorf(v, f, "%q is not a URL like https://iam.example.com or http://127.0.0.1:5000", s)
				}
				t.EndpointURL = s
			}
		case "region":
			t.Region, _ = p.nonEmpty(v, f, "an AWS region such as us-east-1")
		case "method":
			if s, ok := p.nonEmpty(v, f, "auto, gaad or list"); ok {
				if s != "auto" && s != "gaad" && s != "list" {
					p.errorf(v, f, "%q is not a method; use auto, gaad or list", s)
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
					p.errorf(v, f, "%s cannot be read (%v); write it with `iamgroups snapshot --output %s`, or fix the path (relative paths start at the config file's directory)", s, errors.Unwrap(err), s)
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
					p.errorf(v, f, "%v", err)
				}
				t.Schedule = sched
			}
		case "cron":
			cronText = v
			if s, ok := p.nonEmpty(v, f, "a cron expression such as \"0 */6 * * *\""); ok {
				sched, err := ParseCron(s)
				if err != nil {
					p.errorf(v, f, "%v", err)
				}
				t.Schedule = sched
			}
		}
	}
	if nameNode == nil && keys["name"] == nil {
		p.errorf(n, join(field, "name"), "missing; give the target a name, such as name: prod")
	}
	switch {
	case every != nil && cronText != nil:
		p.errorf(keys["cron"], field, "has both every and cron; keep one")
	case every == nil && cronText == nil:
		p.errorf(n, field, "has no schedule; add every: 6h (an interval) or cron: \"0 */6 * * *\"")
	}
	p.checkSource(&t, field, keys)
	return t, nameNode, len(p.errs) == before
}

// checkSource checks that the keys of a target describe one source.
func (p *parser) checkSource(t *Target, field string, keys map[string]*yaml.Node) {
	offline := ""
	switch {
	case t.Snapshot != "" && t.Demo:
		p.errorf(keys["demo"], join(field, "demo"), "a target is a snapshot or the demo, not both; remove one")
		return
	case t.Snapshot != "":
		offline = "snapshot"
	case t.Demo:
		offline = "demo"
	}
	if offline != "" {
		for _, k := range liveKeys {
			if kn := keys[k]; kn != nil {
				p.errorf(kn, join(field, k), "only for live targets; a %s target is not read from AWS, so remove %s (or %s)", offline, k, offline)
			}
		}
		return
	}
	if t.ExternalID != "" && t.RoleARN == "" {
		p.errorf(keys["external_id"], join(field, "external_id"), "needs role_arn (the external ID is sent when assuming that role)")
	}
	for _, k := range []string{"org_role_name", "accounts"} {
		if kn := keys[k]; kn != nil && !t.Org {
			p.errorf(kn, join(field, k), "needs org: true (it applies to the accounts of an Organization)")
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
	case n.Kind == yaml.ScalarNode && !isNull(n):
		items = []*yaml.Node{n}
	case n.Kind == yaml.SequenceNode && len(n.Content) > 0:
		items = n.Content
	default:
		p.errorf(n, field, "must be a list of 12-digit account IDs in quotes, found %s", describe(n))
		return nil
	}
	var out []string
	for i, item := range items {
		f := field
		if n.Kind == yaml.SequenceNode {
			f = fmt.Sprintf("%s[%d]", field, i)
		}
		item = deref(item)
		s, ok := p.scalar(item, f, "a 12-digit account ID")
		if !ok {
			continue
		}
		if len(s) != 12 || strings.Trim(s, "0123456789") != "" {
			p.errorf(item, f, "%q is not an AWS account ID; write the 12 digits in quotes, such as \"111122223333\"", s)
			continue
		}
		out = append(out, s)
	}
	return out
}

func (p *parser) notifyList(n *yaml.Node) []notify.Sink {
	n = deref(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "notify", "must be a list of webhooks (each starting with \"- url: \" or \"- url_env: \"), found %s", describe(n))
		return nil
	}
	var out []notify.Sink
	for i, item := range n.Content {
		if s, ok := p.sink(deref(item), fmt.Sprintf("notify[%d]", i)); ok {
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) sink(n *yaml.Node, field string) (notify.Sink, bool) {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, field, "must be a mapping with url (or url_env) and format, found %s", describe(n))
		return notify.Sink{}, false
	}
	before := len(p.errs)
	s := notify.Sink{Format: notify.FormatJSON}
	var urlNode, envNode *yaml.Node
	for _, kv := range p.pairs(n, field, notifyKeys) {
		f := join(field, kv.key)
		v := deref(kv.value)
		switch kv.key {
		case "url":
			urlNode = v
			if u, ok := p.nonEmpty(v, f, "the webhook's URL"); ok {
				// Never echo the URL: it may carry a token.
				if !isWebhookURL(u) {
					p.errorf(v, f, "is not an http(s) URL; write it as https://host/path")
				}
				s.URL = u
			}
		case "url_env":
			envNode = v
			if name, ok := p.envName(v, f); ok {
				u, set := p.opts.LookupEnv(name)
				switch {
				case !set || u == "":
					p.errorf(v, f, "the environment variable %s is not set or empty; export the webhook URL in it before starting serve", name)
				case !isWebhookURL(u):
					p.errorf(v, f, "the environment variable %s does not hold an http(s) URL; set it to https://host/path", name)
				}
				s.URL = u
			}
		case "format":
			if f2, ok := p.nonEmpty(v, f, "slack or json"); ok {
				s.Format = notify.Format(f2)
				if !slices.Contains(notify.Formats, s.Format) {
					p.errorf(v, f, "%q is not a format; use slack or json", f2)
				}
			}
		case "on":
			s.On = p.kinds(v, f)
		}
	}
	switch {
	case urlNode != nil && envNode != nil:
		p.errorf(envNode, join(field, "url_env"), "give url or url_env, not both; url_env keeps the secret out of the file")
	case urlNode == nil && envNode == nil:
		p.errorf(n, field, "has no webhook; add url: https://… or url_env: NAME_OF_A_VARIABLE_HOLDING_IT")
	}
	return s, len(p.errs) == before
}

func isWebhookURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func (p *parser) kinds(n *yaml.Node, field string) []notify.Kind {
	var items []*yaml.Node
	switch {
	case n.Kind == yaml.ScalarNode && !isNull(n):
		items = []*yaml.Node{n}
	case n.Kind == yaml.SequenceNode && len(n.Content) > 0:
		items = n.Content
	default:
		p.errorf(n, field, "must be a list of events (new, resolved, failed), found %s", describe(n))
		return nil
	}
	var out []notify.Kind
	for _, item := range items {
		item = deref(item)
		s, ok := p.scalar(item, field, "new, resolved or failed")
		if !ok {
			continue
		}
		k := notify.Kind(s)
		if !slices.Contains(notify.Kinds, k) {
			p.errorf(item, field, "%q is not an event; use new, resolved or failed", s)
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
func (p *parser) exemptions(root *yaml.Node, kv pair, data []byte) *exempt.Config {
	if root.Style&yaml.FlowStyle != 0 {
		p.errorf(kv.kNode, "exemptions", "write the config in block style (one key per line) to use exemptions")
		return nil
	}
	start := kv.kNode.Line
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
	cfg, err := exempt.Parse(b.Bytes(), p.file)
	if err != nil {
		p.errs = append(p.errs, unjoin(err)...)
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

// pair is one key of a mapping with its value.
type pair struct {
	key   string
	kNode *yaml.Node
	value *yaml.Node
}

// pairs returns the keys of a mapping, reporting non-string, duplicate and
// unknown keys.
func (p *parser) pairs(m *yaml.Node, field string, known []string) []pair {
	var out []pair
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := deref(m.Content[i]), m.Content[i+1]
		if k.Kind != yaml.ScalarNode || isNull(k) || k.ShortTag() == "!!merge" {
			p.errorf(m.Content[i], field, "a key must be a plain name, found %s; use one of %s", describe(k), strings.Join(known, ", "))
			continue
		}
		kf := join(field, k.Value)
		if !slices.Contains(known, k.Value) {
			msg := "unknown key; use one of " + strings.Join(known, ", ")
			if s := suggest(k.Value, known); s != "" {
				msg = fmt.Sprintf("unknown key; did you mean %q? (known: %s)", s, strings.Join(known, ", "))
			}
			p.errorf(m.Content[i], kf, "%s", msg)
			continue
		}
		if line, dup := seen[k.Value]; dup {
			p.errorf(m.Content[i], kf, "duplicate key (first on line %d); keep one", line)
			continue
		}
		seen[k.Value] = k.Line
		out = append(out, pair{key: k.Value, kNode: m.Content[i], value: v})
	}
	return out
}

// scalar returns the text of a scalar value, reporting anything else.
func (p *parser) scalar(n *yaml.Node, field, want string) (string, bool) {
	n = deref(n)
	switch {
	case isNull(n):
		p.errorf(n, field, "has no value; write %s", want)
	case n.Kind != yaml.ScalarNode:
		p.errorf(n, field, "must be %s, found %s", want, describe(n))
	default:
		return n.Value, true
	}
	return "", false
}

// nonEmpty is scalar refusing blank strings.
func (p *parser) nonEmpty(n *yaml.Node, field, want string) (string, bool) {
	s, ok := p.scalar(n, field, want)
	if ok && strings.TrimSpace(s) == "" {
		p.errorf(deref(n), field, "is empty; write %s or remove the key", want)
		return "", false
	}
	return strings.TrimSpace(s), ok
}

func (p *parser) boolean(n *yaml.Node, field string) bool {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		p.errorf(n, field, "must be true or false, found %s", describe(n))
		return false
	}
	b, _ := strconv.ParseBool(n.Value)
	return b
}

func (p *parser) intRange(n *yaml.Node, field string, lo, hi int) int {
	n = deref(n)
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || err != nil || v < lo || v > hi {
		p.errorf(n, field, "must be a whole number from %d to %d, found %s", lo, hi, describe(n))
		return lo
	}
	return v
}

// deref follows an alias to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; i < 8 && n.Kind == yaml.AliasNode && n.Alias != nil; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names a node's type for "found ..." messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing"
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		}
		return fmt.Sprintf("the string %q", n.Value)
	}
	return "an alias"
}

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

// suggest returns the known key closest to key, if it is a likely typo.
func suggest(key string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(key), k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between short strings.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
