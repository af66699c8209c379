-- playbooks 1: the case engine tables (playbooks.casedb), in the findings store's SQLite file.
CREATE TABLE IF NOT EXISTS cases (
    id                TEXT PRIMARY KEY,
    playbook          TEXT NOT NULL,
    playbook_version  INTEGER NOT NULL,
    playbook_sha256   TEXT NOT NULL,
    title             TEXT NOT NULL,
    incident_type     TEXT NOT NULL,
    severity          TEXT NOT NULL,
    agency            TEXT NOT NULL,
    host              TEXT,
    system            TEXT,
    level             INTEGER,
    status            TEXT NOT NULL,     -- open, waiting, blocked, closed
    phase             TEXT,
    dry_run           INTEGER NOT NULL DEFAULT 0,
    trigger_key       TEXT,              -- the finding fingerprint / alert that opened it
    detected_at       TEXT NOT NULL,
    opened_at         TEXT NOT NULL,
    acknowledged_at   TEXT,
    contained_at      TEXT,
    response_ended_at TEXT,
    closed_at         TEXT,
    record            TEXT NOT NULL DEFAULT '{}',   -- NIST and Decision 05 fields, context (JSON)
    audit_head        TEXT,              -- hash of the last audit entry
    audit_count       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS cases_status ON cases (status, playbook);
CREATE INDEX IF NOT EXISTS cases_trigger ON cases (playbook, trigger_key, status);

CREATE TABLE IF NOT EXISTS case_findings (
    case_id  TEXT NOT NULL,
    ref      TEXT NOT NULL,              -- finding fingerprint or event id
    doc      TEXT NOT NULL,
    PRIMARY KEY (case_id, ref)
);

CREATE TABLE IF NOT EXISTS case_steps (
    case_id    TEXT NOT NULL,
    step_id    TEXT NOT NULL,
    state      TEXT NOT NULL,            -- pending, running, waiting, done, failed, skipped, declined
    attempts   INTEGER NOT NULL DEFAULT 0,
    started_at TEXT,
    ended_at   TEXT,
    result     TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (case_id, step_id)
);

CREATE TABLE IF NOT EXISTS case_approvals (
    case_id  TEXT NOT NULL,
    step_id  TEXT NOT NULL,
    actor    TEXT NOT NULL,
    role     TEXT NOT NULL,
    decision TEXT NOT NULL,              -- approve, decline
    at       TEXT NOT NULL,
    PRIMARY KEY (case_id, step_id, actor)
);

CREATE TABLE IF NOT EXISTS case_audit (
    case_id  TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    ts       TEXT NOT NULL,
    actor    TEXT NOT NULL,
    what     TEXT NOT NULL,
    data     TEXT NOT NULL,
    prev     TEXT NOT NULL,
    hash     TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)
);
CREATE TRIGGER IF NOT EXISTS case_audit_no_update BEFORE UPDATE ON case_audit
BEGIN SELECT RAISE(ABORT, 'case_audit is append-only'); END;
CREATE TRIGGER IF NOT EXISTS case_audit_no_delete BEFORE DELETE ON case_audit
BEGIN SELECT RAISE(ABORT, 'case_audit is append-only'); END;

CREATE TABLE IF NOT EXISTS case_deadlines (
    case_id  TEXT NOT NULL,
    name     TEXT NOT NULL,
    met_at   TEXT,                       -- the report went out
    missed_raised_at TEXT,               -- the alert for a missed deadline was raised
    PRIMARY KEY (case_id, name)
);

CREATE TABLE IF NOT EXISTS case_cursor (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
