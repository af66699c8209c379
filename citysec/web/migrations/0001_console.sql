-- web 1: the console's accounts, sessions, failed logins (citysec.web.accounts), its hash-chained audit
-- log (citysec.web.audit) and acceptances waiting for a second person (citysec.web.pending).
CREATE TABLE IF NOT EXISTS web_users (
    name        TEXT PRIMARY KEY,
    role        TEXT NOT NULL,
    agencies    TEXT NOT NULL,          -- JSON list (officer: their agencies, others: [])
    pw_hash     TEXT NOT NULL,
    totp        TEXT,                   -- base32 secret, or NULL
    disabled    INTEGER NOT NULL DEFAULT 0,
    generation  INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL,
    changed_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS web_sessions (
    token_sha   TEXT PRIMARY KEY,
    name        TEXT NOT NULL REFERENCES web_users(name),
    generation  INTEGER NOT NULL,
    csrf        TEXT NOT NULL,
    address     TEXT,
    created_at  TEXT NOT NULL,
    seen_at     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS web_failures (
    kind        TEXT NOT NULL,          -- account | address
    value       TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS web_failures_kv ON web_failures (kind, value, at);
CREATE TABLE IF NOT EXISTS web_audit (
    seq    INTEGER PRIMARY KEY,
    ts     TEXT NOT NULL,
    actor  TEXT NOT NULL,
    what   TEXT NOT NULL,
    data   TEXT NOT NULL,
    prev   TEXT NOT NULL,
    hash   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS web_accept_requests (
    fingerprint TEXT PRIMARY KEY,
    agency      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    until       TEXT NOT NULL,
    by          TEXT NOT NULL,
    at          TEXT NOT NULL
);
