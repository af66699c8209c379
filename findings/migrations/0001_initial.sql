-- findings 1: the store of citysec 0.1 (the tables of findings, runs and the outbox).
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
