"""Drill persistence in the findings store's SQLite file, and the drill's events.

Every change of a run's state is written with its event (``event.dataset: citysec.exercise``) in
one transaction, so the timeline in the store (and, through the outbox, in Elasticsearch) never
disagrees with the run's tables. Event ids are deterministic (what, run, subject, time), so an
event written again after a crash is the same document, never a second one.

Event fields (``citysec.exercise.*``): ``id`` (the run), ``name`` and ``name_en`` (the scenario's
title in Vietnamese and English; runs stored before bilingual scenarios have ``name`` only),
``scenario``, ``action`` (run_started, inject_sent, inject_refused, inject_failed, expectation_met,
expectation_missed, cleanup_done, cleanup_failed, lapse, rated, survey, action_opened,
action_closed, action_reopened, run_paused, run_resumed, run_aborted, run_completed), ``inject``,
``expectation``, ``rating``, ``objective``, ``note``, ``action_id``, ``action_title``,
``action_status``, ``action_due``, ``seconds`` (time to detect or respond). docs/reports.md lists
what the reports read.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from findings.errors import UsageError
from findings.model import Finding, iso, parse_ts
from findings.schema import Schema, sql_migrations
from findings.store import Store
from playbooks.casedb import SCHEMA as CASES

DATASET = "citysec.exercise"
TERMINAL = ("completed", "aborted", "failed")
# the drill tables (exercises/migrations/NNNN_*.sql); expectations read the case tables (exercises.expect)
SCHEMA = Schema("exercises", sql_migrations("exercises"), requires=(CASES,))


def ensure_tables(store: Store) -> None:
    """The drill tables (and the case tables the expectations read) in ``store``, once per Store."""
    store.require(SCHEMA)


def run_row(store: Store, run_id: str) -> dict[str, Any]:
    """The run with this id or unique id prefix (UsageError otherwise)."""
    rows = store.query("SELECT * FROM exercise_runs WHERE id=? OR id LIKE ? LIMIT 3", (run_id, run_id + "%"))
    exact = [r for r in rows if r["id"] == run_id]
    if len(exact) == 1 or len(rows) == 1:
        return dict((exact or rows)[0])
    if not rows:
        raise UsageError(f"no drill run with id {run_id!r} (citysec exercise runs lists them)")
    raise UsageError(f"{run_id!r} is the start of several run ids; give more of it")


def event(run: dict, what: str, at: datetime | str, *, agency: str | None = None, host: str | None = None,
          severity: str = "info", message: str | None = None, **details: Any) -> Finding:
    """The event of one step of a drill (not yet recorded)."""
    ts = parse_ts(at) if isinstance(at, str) else at
    subject = "/".join(str(details[k]) for k in ("inject", "expectation", "objective", "action_id", "participant")
                       if details.get(k) is not None)
    msg = message or f"drill {run['id']}: {what.replace('_', ' ')}" + (f" ({subject})" if subject else "")
    ip = host if host and host.replace(".", "").isdigit() else None
    return Finding(check=f"exercise.{what}", agency=agency or run["organizer"], kind="event", dataset=DATASET,
                   severity=severity, message=msg, host_ip=ip, host_name=None if ip else host,
                   subject=f"{run['id']}/{subject}", timestamp=ts, type=("info",),
                   details={"id": run["id"], "name": run["title"], "scenario": run["scenario_id"], "action": what,
                            **{k: v for k, v in {"name_en": run.get("title_en"), **details}.items() if v is not None}})


def write(store: Store, sql_params: list[tuple[str, tuple]], events: list[Finding]) -> None:
    """Some statements and their events, in one transaction."""
    with store.write() as c:
        for sql, params in sql_params:
            c.execute(sql, params)
        store.record_in(c, events)


def events_of(store: Store, run_id: str) -> list[dict[str, Any]]:
    """The run's timeline: its events in time order (documents)."""
    rows = store.query("SELECT doc FROM events WHERE dataset=? AND json_extract(doc, '$.citysec.exercise.id')=?"
                       " ORDER BY ts, id", (DATASET, run_id))
    return [json.loads(r["doc"]) for r in rows]


def rows(store: Store, table: str, run_id: str, order: str) -> list[dict[str, Any]]:
    assert table in ("exercise_injects", "exercise_expectations", "exercise_ratings", "exercise_survey",
                     "exercise_actions", "exercise_lapses")
    return [dict(r) for r in store.query(f"SELECT * FROM {table} WHERE run_id=? ORDER BY {order}", (run_id,))]


def now_iso(store: Store) -> str:
    return iso(store.clock())


