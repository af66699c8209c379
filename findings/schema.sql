-- citysec findings store, schema version 2 (findings.store.SCHEMA_VERSION). A new store is made
-- from this file; an older one is migrated first (findings.store.MIGRATIONS), then this file runs.
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

-- Current state: one row per fingerprint (state findings and assets).
CREATE TABLE IF NOT EXISTS current (
    fingerprint   TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    check_id      TEXT NOT NULL,
    dataset       TEXT NOT NULL,
    agency        TEXT NOT NULL,
    host          TEXT,
    port          INTEGER,
    transport     TEXT,
    verdict       TEXT,            -- the latest verdict (pass, fail, error, incomplete, skipped)
    severity      TEXT NOT NULL,
    status        TEXT,            -- open, closed, reopened (NULL for assets)
    first_seen    TEXT NOT NULL,
    last_seen     TEXT NOT NULL,   -- last time the problem (or the asset) was seen
    last_checked  TEXT NOT NULL,   -- last time any verdict was recorded for it
    opened_at     TEXT,
    closed_at     TEXT,
    reopen_count  INTEGER NOT NULL DEFAULT 0,
    last_run      TEXT,
    doc           TEXT NOT NULL    -- the latest observation, ECS document (JSON)
);
CREATE INDEX IF NOT EXISTS current_agency ON current (agency, status, severity);
CREATE INDEX IF NOT EXISTS current_check ON current (check_id, agency, host);

-- Append-only history of state observations and lifecycle transitions.
CREATE TABLE IF NOT EXISTS history (
    id          TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    ts          TEXT NOT NULL,
    run_id      TEXT,
    check_id    TEXT NOT NULL,
    dataset     TEXT NOT NULL,
    agency      TEXT NOT NULL,
    host        TEXT,
    verdict     TEXT,
    severity    TEXT NOT NULL,
    status      TEXT,
    doc         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_ts ON history (ts, agency);
CREATE INDEX IF NOT EXISTS history_fp ON history (fingerprint, ts);
CREATE INDEX IF NOT EXISTS history_run ON history (run_id, verdict);
CREATE INDEX IF NOT EXISTS history_check ON history (check_id, ts);
-- reports: fingerprints that failed in a period, and each check's latest failing observation
-- (covering, so neither query reads documents; see bench/report_annual.py)
CREATE INDEX IF NOT EXISTS history_fail ON history (verdict, ts, fingerprint);
CREATE INDEX IF NOT EXISTS history_check_verdict ON history (check_id, verdict, ts);

-- Append-only alerts, workflow events, metrics and asset sightings.
CREATE TABLE IF NOT EXISTS events (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    ts          TEXT NOT NULL,
    run_id      TEXT,
    check_id    TEXT NOT NULL,
    dataset     TEXT NOT NULL,
    agency      TEXT NOT NULL,
    host        TEXT,
    severity    TEXT NOT NULL,
    doc         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_ts ON events (kind, ts, agency);
CREATE INDEX IF NOT EXISTS events_check ON events (check_id, ts);

-- Runs of jobs (scheduler, commands).
CREATE TABLE IF NOT EXISTS runs (
    id        TEXT PRIMARY KEY,
    job       TEXT NOT NULL,
    sensor    TEXT,
    started   TEXT NOT NULL,
    ended     TEXT,
    outcome   TEXT NOT NULL DEFAULT 'running',  -- running, ok, failed, interrupted, timeout, skipped
    counts    TEXT NOT NULL DEFAULT '{}',
    error     TEXT,
    pid       INTEGER
);
CREATE INDEX IF NOT EXISTS runs_job ON runs (job, started);

-- Documents waiting for Elasticsearch. stream: history | event | state.
CREATE TABLE IF NOT EXISTS outbox (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    stream   TEXT NOT NULL,
    dataset  TEXT NOT NULL,
    doc_id   TEXT NOT NULL,
    body     TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    UNIQUE (stream, doc_id)
);

-- Documents the server rejected for good, with its reason. Never retried by themselves.
CREATE TABLE IF NOT EXISTS dead_letters (
    seq      INTEGER PRIMARY KEY,
    stream   TEXT NOT NULL,
    dataset  TEXT NOT NULL,
    doc_id   TEXT NOT NULL,
    body     TEXT NOT NULL,
    status   INTEGER,
    reason   TEXT NOT NULL,
    at       TEXT NOT NULL
);

-- Documents the server acknowledged, kept until a later ship finds them on the server (a server
-- that lost its last writes in a crash gets them again). Written by findings.elastic.journal.
CREATE TABLE IF NOT EXISTS outbox_sent (
    seq      INTEGER PRIMARY KEY,
    stream   TEXT NOT NULL,
    dataset  TEXT NOT NULL,
    doc_id   TEXT NOT NULL,
    body     TEXT NOT NULL,
    sent_at  REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_sent_at ON outbox_sent (sent_at);

-- Triage (findings.triage): a false positive or an accepted risk laid over a finding, in force
-- until `until` (NULL: no end) or until what it was decided for (decided_for) changes.
CREATE TABLE IF NOT EXISTS triage (
    fingerprint TEXT PRIMARY KEY,
    agency      TEXT NOT NULL,
    kind        TEXT NOT NULL,     -- false_positive | accepted
    reason      TEXT NOT NULL,
    by          TEXT NOT NULL,
    approved_by TEXT,
    at          TEXT NOT NULL,
    until       TEXT,
    decided_for TEXT NOT NULL      -- JSON: service, product, version, severity when decided
);
CREATE INDEX IF NOT EXISTS triage_agency ON triage (agency, kind);

-- The append-only, hash-chained log of triage decisions (head hash and count in meta).
CREATE TABLE IF NOT EXISTS triage_log (
    seq         INTEGER PRIMARY KEY,
    ts          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,     -- false_positive, accepted, withdrawn, expired, ended
    fingerprint TEXT NOT NULL,
    agency      TEXT NOT NULL,
    data        TEXT NOT NULL,
    prev        TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS triage_log_no_update BEFORE UPDATE ON triage_log
BEGIN SELECT RAISE(ABORT, 'the triage log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS triage_log_no_delete BEFORE DELETE ON triage_log
BEGIN SELECT RAISE(ABORT, 'the triage log is append-only'); END;

-- Changes to notify (findings.notify.digest_queue): one row per change, its id derived from the change, so a
-- change is queued once; `cycle` is the digest cycle that took it (NULL: waiting).
CREATE TABLE IF NOT EXISTS notify_queue (
    id          TEXT PRIMARY KEY,
    ts          TEXT NOT NULL,
    agency      TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    kind        TEXT NOT NULL,     -- new, reopened, severity_up, expired, triage_ended, overdue
    severity    TEXT NOT NULL,
    data        TEXT NOT NULL,
    cycle       TEXT
);
CREATE INDEX IF NOT EXISTS notify_queue_cycle ON notify_queue (cycle, agency);

-- Digests waiting for (or done with) delivery: one per agency, channel and target per cycle.
-- delivered is set only after the server accepted the message; until then each cycle retries.
CREATE TABLE IF NOT EXISTS notify_out (
    id          TEXT PRIMARY KEY,
    cycle       TEXT NOT NULL,
    agency      TEXT NOT NULL,
    channel     TEXT NOT NULL,     -- email, webhook, syslog
    target      TEXT NOT NULL,     -- email: the language; webhook: its name; syslog: host:port/proto
    lang        TEXT NOT NULL,
    recipients  TEXT NOT NULL,     -- JSON list (email)
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,     -- JSON: the rendered parts
    created     TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    delivered   TEXT
);
CREATE INDEX IF NOT EXISTS notify_out_pending ON notify_out (delivered, created);
