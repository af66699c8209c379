-- exercises 1: the drill tables (exercises.db), in the findings store's SQLite file.
-- A run's whole state lives here, so status/pause/resume/abort work from another shell and a
-- runner killed with kill -9 resumes where it was.
CREATE TABLE IF NOT EXISTS exercise_runs (
    id             TEXT PRIMARY KEY,
    scenario_id    TEXT NOT NULL,
    title          TEXT NOT NULL,
    organizer      TEXT NOT NULL,          -- agency id of the organiser (run events carry it)
    scenario_path  TEXT NOT NULL,
    scenario_sha256 TEXT NOT NULL,
    scenario_text  TEXT NOT NULL,          -- the YAML as run (the file may change afterwards)
    mode           TEXT NOT NULL,          -- live, accelerated, tabletop
    speed          REAL NOT NULL,          -- scenario seconds per real second (1 in live mode)
    jobs           TEXT NOT NULL,          -- scheduled (the runner runs the city's jobs) or external
    state          TEXT NOT NULL,          -- running, paused, completed, aborted, failed
    control        TEXT NOT NULL DEFAULT 'run',   -- run, pause, abort: what another shell asked
    pid            INTEGER,                -- the runner process
    started_at     TEXT NOT NULL,          -- real time of scenario time 0
    paused_seconds REAL NOT NULL DEFAULT 0,-- real seconds spent paused (scenario time stood still)
    paused_at      TEXT,
    ended_at       TEXT,
    range_spec     TEXT,
    range_state    TEXT,
    error          TEXT,
    overhead_seconds REAL NOT NULL DEFAULT 0  -- CPU seconds of the runner's own loop (bench)
);

CREATE TABLE IF NOT EXISTS exercise_injects (
    run_id        TEXT NOT NULL,
    number        INTEGER NOT NULL,
    state         TEXT NOT NULL DEFAULT 'pending',  -- pending, sending, sent, failed, refused, skipped
    attempts      INTEGER NOT NULL DEFAULT 0,
    sent_at       TEXT,
    facts         TEXT NOT NULL DEFAULT '{}',       -- what the technical inject changed (JSON)
    cleanup       TEXT NOT NULL DEFAULT 'none',     -- none, pending, done, failed
    cleaned_at    TEXT,
    detail        TEXT,
    PRIMARY KEY (run_id, number)
);

CREATE TABLE IF NOT EXISTS exercise_expectations (
    run_id     TEXT NOT NULL,
    number     INTEGER NOT NULL,
    exp_id     TEXT NOT NULL,
    kind       TEXT NOT NULL,
    severity   TEXT NOT NULL,
    state      TEXT NOT NULL DEFAULT 'pending',  -- pending, met, missed, rated, not_applicable
    due_at     TEXT,                             -- real time the window closes
    met_at     TEXT,
    evidence   TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (run_id, number, exp_id)
);

CREATE TABLE IF NOT EXISTS exercise_ratings (
    run_id    TEXT NOT NULL,
    objective TEXT NOT NULL,
    agency    TEXT NOT NULL,
    rating    TEXT NOT NULL,                     -- P, S, M, U
    evaluator TEXT NOT NULL,
    note      TEXT NOT NULL DEFAULT '',
    strengths TEXT NOT NULL DEFAULT '[]',
    improvements TEXT NOT NULL DEFAULT '[]',
    at        TEXT NOT NULL,
    PRIMARY KEY (run_id, objective, agency)
);

CREATE TABLE IF NOT EXISTS exercise_survey (
    run_id      TEXT NOT NULL,
    participant TEXT NOT NULL,
    question    INTEGER NOT NULL,
    answer      TEXT NOT NULL,
    at          TEXT NOT NULL,
    PRIMARY KEY (run_id, participant, question)
);

CREATE TABLE IF NOT EXISTS exercise_actions (
    id          TEXT PRIMARY KEY,               -- e.g. CA-<run>-01
    run_id      TEXT NOT NULL,
    objective   TEXT,
    title       TEXT NOT NULL,
    agency      TEXT NOT NULL,                  -- responsible organisation
    contact     TEXT,
    start       TEXT NOT NULL,
    due         TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'open',   -- open, closed
    evidence    TEXT,
    closed_at   TEXT,
    closed_by   TEXT,
    retest_run  TEXT,                           -- the drill whose result last closed/reopened it
    created_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS exercise_actions_status ON exercise_actions (status, agency);

CREATE TABLE IF NOT EXISTS exercise_lapses (
    run_id   TEXT NOT NULL,
    key      TEXT NOT NULL,                     -- expectation or cleanup that lapsed
    at       TEXT NOT NULL,
    message  TEXT NOT NULL,
    notified TEXT NOT NULL DEFAULT '[]',        -- channels it reached
    PRIMARY KEY (run_id, key)
);
