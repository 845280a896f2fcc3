package apply

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/plan"
)

// The files of a run directory.
const (
	planFile    = "plan.json"
	backupFile  = "backup.json"
	journalFile = "journal.jsonl"
)

// BackupSchema identifies the backup file format.
const BackupSchema = "iamgroups.backup/v1"

// Backup is every planned user's direct policies and memberships as they
// were before the run's first change: everything rollback needs to put
// them back, inline documents verbatim.
type Backup struct {
	Schema    string    `json:"schema"`
	AccountID string    `json:"account_id"`
	TakenAt   time.Time `json:"taken_at"`
	// PlanSHA256 ties the backup to the plan file beside it.
	PlanSHA256 string       `json:"plan_sha256"`
	Users      []BackupUser `json:"users"`
}

// BackupUser is one user's direct policies and groups.
type BackupUser struct {
	Name string `json:"name"`
	ARN  string `json:"arn"`
	// ID is IAM's unique ID of the user: a user deleted and created
	// again under the same name has the same ARN but another ID.
	ID      string         `json:"id,omitempty"`
	Groups  []string       `json:"groups"`
	Managed []string       `json:"managed"`
	Inline  []BackupInline `json:"inline"`
}

// BackupInline is an inline policy, its document exactly as IAM returned
// it (URL-decoded).
type BackupInline struct {
	Name     string `json:"name"`
	Digest   string `json:"digest"`
	Document string `json:"document"`
}

func (b *Backup) users() map[string]*BackupUser {
	m := make(map[string]*BackupUser, len(b.Users))
	for i := range b.Users {
		m[b.Users[i].Name] = &b.Users[i]
	}
	return m
}

// same reports whether u is the backed-up user, not another one created
// since under the same name.
func (bu *BackupUser) same(u *model.User) bool {
	return u != nil && u.ARN == bu.ARN && (bu.ID == "" || u.ID == "" || u.ID == bu.ID)
}

func (u *BackupUser) inline(name string) *BackupInline {
	for i := range u.Inline {
		if u.Inline[i].Name == name {
			return &u.Inline[i]
		}
	}
	return nil
}

// atoms are what the user held before the run: its direct policies and
// what its groups grant now (the run never changes those groups).
func (b *Backup) atoms(s *state, u *BackupUser) map[string]bool {
	out := map[string]bool{}
	for _, a := range u.Managed {
		out[s.managedAtom(a)] = true
	}
	for _, ip := range u.Inline {
		out[inlineAtom(ip.Digest)] = true
	}
	for _, name := range u.Groups {
		if g := s.groups[name]; g != nil {
			for _, p := range g.AttachedPolicies {
				out[s.managedAtom(p.ARN)] = true
			}
			for _, p := range g.InlinePolicies {
				out[inlineAtom(p.Digest)] = true
			}
		}
	}
	return out
}

// takeBackup records the planned users as the account holds them.
func takeBackup(s *state, p *plan.Plan, planSum string, now time.Time) (*Backup, error) {
	b := &Backup{Schema: BackupSchema, AccountID: p.AccountID, TakenAt: now.UTC(), PlanSHA256: planSum}
	for _, pu := range p.Users {
		u := s.users[pu.Name]
		if u == nil {
			return nil, fmt.Errorf("back up user %s: not in the account", pu.Name)
		}
		bu := BackupUser{Name: u.Name, ARN: u.ARN, ID: u.ID, Groups: slices.Clone(u.Groups), Managed: []string{}, Inline: []BackupInline{}}
		for _, ap := range u.AttachedPolicies {
			bu.Managed = append(bu.Managed, ap.ARN)
		}
		for _, ip := range u.InlinePolicies {
			if ip.Document == "" {
				return nil, fmt.Errorf("back up user %s: the read gave no document for inline policy %s", u.Name, ip.Name)
			}
			bu.Inline = append(bu.Inline, BackupInline{Name: ip.Name, Digest: ip.Digest, Document: ip.Document})
		}
		if bu.Groups == nil {
			bu.Groups = []string{}
		}
		slices.Sort(bu.Groups)
		slices.Sort(bu.Managed)
		b.Users = append(b.Users, bu)
	}
	return b, nil
}

// Entry is one line of the journal: a run starting or ending a phase, or
// the intent or outcome of one call.
type Entry struct {
	Seq  int       `json:"seq"`
	Time time.Time `json:"time"`
	// Event is "start", "phase", "intent", "done", "exists", "absent",
	// "failed", "verified", "complete" or "stopped".
	Event string `json:"event"`
	Phase string `json:"phase,omitempty"`
	// Step numbers a call; its intent and outcome share it.
	Step  int    `json:"step,omitempty"`
	Call  *Call  `json:"call,omitempty"`
	Error string `json:"error,omitempty"`
	Note  string `json:"note,omitempty"`
}

// Journal is a run directory: the plan, the backup and the append-only
// log. Every intent is written and fsynced before the call it announces.
type Journal struct {
	Dir string

	mu   sync.Mutex
	f    *os.File
	seq  int
	step int
	now  func() time.Time
}

// createJournal makes a new run directory under root.
func createJournal(root, accountID string, planData []byte, now time.Time) (*Journal, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("create journal directory %s: %w", root, err)
	}
	name := accountID + "-" + now.UTC().Format("20060102T150405Z")
	dir := filepath.Join(root, name)
	for i := 2; ; i++ {
		err := os.Mkdir(dir, 0o700)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("create journal directory %s: %w", dir, err)
		}
		dir = filepath.Join(root, fmt.Sprintf("%s-%d", name, i))
	}
	if err := syncDir(root); err != nil {
		return nil, err
	}
	if err := writeSynced(filepath.Join(dir, planFile), planData); err != nil {
		return nil, err
	}
	return openJournal(dir)
}

// openJournal opens a run directory's log for appending.
func openJournal(dir string) (*Journal, error) {
	entries, err := ReadEntries(dir)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, journalFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	// A last line torn by a crash is cut off, so that the next entry
	// starts a line of its own.
	if data, err := os.ReadFile(path); err == nil && len(data) > 0 && data[len(data)-1] != '\n' {
		keep := int64(bytes.LastIndexByte(data, '\n') + 1)
		if err := f.Truncate(keep); err != nil {
			f.Close()
			return nil, fmt.Errorf("journal: cut the torn last line of %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("journal: sync %s: %w", path, err)
		}
	}
	j := &Journal{Dir: dir, f: f, now: time.Now}
	for _, e := range entries {
		j.seq = max(j.seq, e.Seq)
		j.step = max(j.step, e.Step)
	}
	return j, nil
}

// Close closes the log.
func (j *Journal) Close() error { return j.f.Close() }

// append writes one entry and fsyncs it.
func (j *Journal) append(e Entry) (Entry, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seq++
	e.Seq = j.seq
	e.Time = j.now().UTC()
	if e.Event == "intent" {
		j.step++
		e.Step = j.step
	}
	line, err := json.Marshal(e)
	if err != nil {
		return e, fmt.Errorf("journal: %w", err)
	}
	if _, err := j.f.Write(append(line, '\n')); err != nil {
		return e, fmt.Errorf("journal: write %s: %w", j.f.Name(), err)
	}
	switch e.Event {
	case "done", "exists", "absent":
		// An outcome need not reach the disk before the next call: a
		// crash that loses it leaves an intent without an outcome, and
		// resume and rollback read the account to learn what happened.
		// The next intent's sync carries it.
		return e, nil
	}
	if err := j.f.Sync(); err != nil {
		return e, fmt.Errorf("journal: sync %s: %w", j.f.Name(), err)
	}
	return e, nil
}

// ReadEntries reads a run directory's log. A last line cut short by a
// crash is ignored; any other bad line is an error naming it.
func ReadEntries(dir string) ([]Entry, error) {
	path := filepath.Join(dir, journalFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	lines := bytes.Split(data, []byte("\n"))
	var out []Entry
	for i, line := range lines {
		if len(line) == 0 {
			continue
		}
		var e Entry
		if err := json.Unmarshal(line, &e); err != nil {
			if i == len(lines)-1 {
				break // no newline after it: the last write, torn by a crash
			}
			return nil, fmt.Errorf("read journal %s: line %d: %w", path, i+1, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// writeBackup writes the backup and fsyncs it and its directory.
func (j *Journal) writeBackup(b *Backup) error {
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return writeSynced(filepath.Join(j.Dir, backupFile), append(data, '\n'))
}

// writeSynced creates path with data (mode 0600), fsyncing the file and
// its directory, so that a crash leaves the whole file or none.
func writeSynced(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// earlierRun returns the newest run directory under root that holds the
// same plan, or "".
func earlierRun(root, accountID string, planData []byte) string {
	dirs, _ := filepath.Glob(filepath.Join(root, accountID+"-*"))
	sum := sha256Hex(planData)
	for i := len(dirs) - 1; i >= 0; i-- {
		if data, err := os.ReadFile(filepath.Join(dirs[i], planFile)); err == nil && sha256Hex(data) == sum {
			return dirs[i]
		}
	}
	return ""
}

// loadRun reads a run directory's plan and backup.
func loadRun(dir string) (*plan.Plan, []byte, *Backup, error) {
	data, err := os.ReadFile(filepath.Join(dir, planFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, nil, fmt.Errorf("%s is not a run directory of iamgroups apply (no %s); give the directory apply printed", dir, planFile)
		}
		return nil, nil, nil, fmt.Errorf("read %s: %w", filepath.Join(dir, planFile), err)
	}
	p, err := plan.Decode(data)
	if err == nil {
		err = p.Validate()
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", filepath.Join(dir, planFile), err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, backupFile))
	if errors.Is(err, os.ErrNotExist) {
		// The run stopped before its first change.
		return p, data, nil, nil
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read %s: %w", filepath.Join(dir, backupFile), err)
	}
	var b Backup
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", filepath.Join(dir, backupFile), err)
	}
	if b.Schema != BackupSchema {
		return nil, nil, nil, fmt.Errorf("%s: schema %q is not %q", filepath.Join(dir, backupFile), b.Schema, BackupSchema)
	}
	if b.PlanSHA256 != sha256Hex(data) {
		return nil, nil, nil, fmt.Errorf("%s does not belong to the plan beside it (%s changed?)", filepath.Join(dir, backupFile), planFile)
	}
	return p, data, &b, nil
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Lock is an exclusive lock on one account's runs, held through an flock
// on a file in the journal root: it is released when the process ends,
// however it ends, so a crash never leaves a stale lock.
type Lock struct {
	f *os.File
}

// LockHolder describes the run that holds a lock.
type LockHolder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Since   time.Time `json:"since"`
	Command string    `json:"command"`
}

// ErrLocked is returned when another run holds the account's lock.
var ErrLocked = errors.New("another iamgroups run holds the lock on this account")

// LockAccount takes the lock of accountID under root, or fails at once
// with ErrLocked saying who holds it.
func LockAccount(root, accountID, command string) (*Lock, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("lock: create %s: %w", root, err)
	}
	path := filepath.Join(root, accountID+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock: open %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		var holder LockHolder
		data, _ := io.ReadAll(f)
		f.Close()
		msg := fmt.Sprintf("%v (%s)", ErrLocked, path)
		if json.Unmarshal(data, &holder) == nil && holder.PID != 0 {
			msg = fmt.Sprintf("%s: %s, process %d on %s, since %s", msg, holder.Command, holder.PID, holder.Host, holder.Since.Format(time.RFC3339))
		}
		return nil, &lockedError{msg: msg}
	}
	host, _ := os.Hostname()
	data, _ := json.Marshal(LockHolder{PID: os.Getpid(), Host: host, Since: time.Now().UTC(), Command: command})
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt(append(data, '\n'), 0)
		_ = f.Sync()
	}
	return &Lock{f: f}, nil
}

type lockedError struct{ msg string }

func (e *lockedError) Error() string { return e.msg }
func (e *lockedError) Unwrap() error { return ErrLocked }

// Release drops the lock.
func (l *Lock) Release() {
	if l == nil || l.f == nil {
		return
	}
	_ = l.f.Truncate(0)
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
	l.f = nil
}
