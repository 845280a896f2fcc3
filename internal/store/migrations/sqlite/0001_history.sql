-- The history of continuous mode, SQLite dialect. Times are Unix
-- nanoseconds (UTC). results.status is a small code to keep the one table
-- that grows with every run compact: 0 PASS, 1 FAIL, 2 EXEMPT, 3 ERROR.

CREATE TABLE runs (
    id                INTEGER PRIMARY KEY,
    target            TEXT    NOT NULL,
    triggered_by      TEXT    NOT NULL,
    source            TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    method            TEXT    NOT NULL DEFAULT '',
    started_ns        INTEGER NOT NULL,
    finished_ns       INTEGER,
    api_calls         TEXT    NOT NULL DEFAULT '{}',
    error             TEXT    NOT NULL DEFAULT '',
    accounts          TEXT    NOT NULL DEFAULT '[]',
    users             INTEGER NOT NULL DEFAULT 0,
    pass              INTEGER NOT NULL DEFAULT 0,
    fail              INTEGER NOT NULL DEFAULT 0,
    exempt            INTEGER NOT NULL DEFAULT 0,
    errors            INTEGER NOT NULL DEFAULT 0,
    new_findings      INTEGER NOT NULL DEFAULT 0,
    resolved_findings INTEGER NOT NULL DEFAULT 0,
    reopened_findings INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_target ON runs (target, id);
CREATE INDEX runs_running ON runs (started_ns) WHERE status = 'running';

-- One row per fingerprint (rule, account, user ARN) ever seen.
CREATE TABLE subjects (
    id          INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL UNIQUE,
    rule_id     TEXT NOT NULL,
    account_id  TEXT NOT NULL,
    user_name   TEXT NOT NULL,
    user_arn    TEXT NOT NULL
);
CREATE INDEX subjects_arn ON subjects (user_arn);
CREATE INDEX subjects_account_name ON subjects (account_id, user_name);

-- Evidence (groups, violations, boundary, exemption, message) as JSON,
-- stored once per distinct document: most users look the same run after
-- run, and many look like each other.
CREATE TABLE evidence (
    id   INTEGER PRIMARY KEY,
    hash BLOB NOT NULL UNIQUE,
    body TEXT NOT NULL
);

-- The direct policies an evidence document names, for the policy filter.
CREATE TABLE policies (
    id   INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    arn  TEXT NOT NULL,
    UNIQUE (kind, name, arn)
);
CREATE TABLE evidence_policies (
    evidence_id INTEGER NOT NULL REFERENCES evidence (id),
    policy_id   INTEGER NOT NULL REFERENCES policies (id),
    PRIMARY KEY (evidence_id, policy_id)
) WITHOUT ROWID;
CREATE INDEX evidence_policies_policy ON evidence_policies (policy_id);

-- Every result of every run. Keyed by run first, so that recording a run
-- appends instead of touching pages all over the table.
CREATE TABLE results (
    run_id      INTEGER NOT NULL REFERENCES runs (id),
    subject_id  INTEGER NOT NULL REFERENCES subjects (id),
    status      INTEGER NOT NULL,
    evidence_id INTEGER REFERENCES evidence (id),
    PRIMARY KEY (run_id, subject_id)
) WITHOUT ROWID;

-- Counts by status per run and account, for trends.
CREATE TABLE run_accounts (
    run_id     INTEGER NOT NULL REFERENCES runs (id),
    target     TEXT    NOT NULL,
    account_id TEXT    NOT NULL,
    users      INTEGER NOT NULL,
    pass       INTEGER NOT NULL,
    fail       INTEGER NOT NULL,
    exempt     INTEGER NOT NULL,
    errors     INTEGER NOT NULL,
    PRIMARY KEY (run_id, account_id)
);

-- The last run that covered each account of each target, for the overview.
CREATE TABLE latest_accounts (
    target     TEXT    NOT NULL,
    account_id TEXT    NOT NULL,
    run_id     INTEGER NOT NULL REFERENCES runs (id),
    PRIMARY KEY (target, account_id)
);

-- One finding per target and fingerprint that ever failed.
CREATE TABLE findings (
    target      TEXT    NOT NULL,
    subject_id  INTEGER NOT NULL REFERENCES subjects (id),
    account_id  TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    first_seen_ns  INTEGER NOT NULL,
    last_seen_ns   INTEGER NOT NULL,
    resolved_ns    INTEGER,
    reopened    INTEGER NOT NULL DEFAULT 0,
    evidence_id INTEGER REFERENCES evidence (id),
    PRIMARY KEY (target, subject_id)
);
CREATE INDEX findings_state ON findings (target, state, account_id);

-- Lifecycle events, each with the finding as it was right after its run.
CREATE TABLE changes (
    run_id      INTEGER NOT NULL REFERENCES runs (id),
    subject_id  INTEGER NOT NULL REFERENCES subjects (id),
    target      TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    first_seen_ns  INTEGER NOT NULL,
    last_seen_ns   INTEGER NOT NULL,
    resolved_ns    INTEGER,
    reopened    INTEGER NOT NULL,
    evidence_id INTEGER REFERENCES evidence (id),
    PRIMARY KEY (run_id, subject_id)
);
CREATE INDEX changes_target ON changes (target, run_id);
