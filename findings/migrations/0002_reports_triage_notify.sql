-- findings 2: indexes the reports need, the shipping journal, triage and notification digests.
-- (Stores of version 2 made before the schema registry got the tables after index 2 without a
-- version of their own: IF NOT EXISTS keeps this migration right for both.)
CREATE INDEX IF NOT EXISTS history_check ON history (check_id, ts);
CREATE INDEX IF NOT EXISTS events_check ON events (check_id, ts);
-- reports: fingerprints that failed in a period, and each check's latest failing observation
-- (covering, so neither query reads documents; see bench/report_annual.py)
CREATE INDEX IF NOT EXISTS history_fail ON history (verdict, ts, fingerprint);
CREATE INDEX IF NOT EXISTS history_check_verdict ON history (check_id, verdict, ts);
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
