"""Automatic checks of a drill's expectations, read from the store as citysec's own jobs and the
responders left it — never from the inject's own record.

- ``detect``: a failing observation (``history``) or an alert (``events``) of the check on the
  host, observed after the inject was sent, by a run of a citysec job (scanners, collectors). Its
  time is when that job's run ended (when the finding became visible), or now for a run still
  going; the drill's own events (``citysec.exercise``) never count.
- ``case_opened``: a case of the playbook for the host, opened after the inject was sent.
- ``step_done`` / ``approval``: that case's step done / approved (by a responder, ``citysec case``).
- ``report_sent``: that case's report of the kind generated (the case's audit trail).
Each check returns (time met, evidence) or None.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from typing import Any

from findings.model import iso, parse_ts
from findings.store import Store

Met = tuple[str, dict[str, Any]] | None


def detect(store: Store, check: str, hosts: tuple[str, ...], since: str, now: str) -> Met:
    """Observed at or after ``since``; a time of whole seconds (a log line's own) may be up to 2 s
    earlier, as the line of the same second is; a collection time (milliseconds) may not."""
    like = check + "%" if check.endswith(".") else check
    whole = iso(parse_ts(since) - timedelta(seconds=2))
    marks = ",".join("?" * len(hosts))
    best = None
    for table, cond in (("history", "t.verdict='fail'"), ("events", "t.kind='alert'")):
        rows = store.query(f"SELECT t.id, t.ts, t.check_id, t.host, t.run_id, r.job, r.ended FROM {table} t"
                           f" LEFT JOIN runs r ON r.id=t.run_id WHERE {cond} AND t.check_id LIKE ?"
                           f" AND t.host IN ({marks}) AND (t.ts>=? OR (t.ts LIKE '%.000Z' AND t.ts>=?))"
                           " AND t.dataset!='citysec.exercise' AND t.run_id IS NOT NULL ORDER BY t.ts LIMIT 20",
                           (like, *hosts, since, whole))
        for r in rows:
            seen = r["ended"] or now
            if best is None or seen < best[0]:
                best = (seen, {"table": table, "id": r["id"], "check": r["check_id"], "host": r["host"],
                               "observed": r["ts"], "job": r["job"], "job_run": r["run_id"]})
    return best


def _case(store: Store, playbook: str, hosts: tuple[str, ...], since: str) -> sqlite3.Row | None:
    marks = ",".join("?" * len(hosts))
    rows = store.query(f"SELECT id, opened_at, host FROM cases WHERE playbook=? AND host IN ({marks})"
                       " AND opened_at>=? ORDER BY opened_at LIMIT 1", (playbook, *hosts, since))
    return rows[0] if rows else None


def case_opened(store: Store, playbook: str, hosts: tuple[str, ...], since: str) -> Met:
    c = _case(store, playbook, hosts, since)
    return (c["opened_at"], {"case": c["id"], "host": c["host"]}) if c else None


def step_done(store: Store, playbook: str, step: str, hosts: tuple[str, ...], since: str) -> Met:
    c = _case(store, playbook, hosts, since)
    if c is None:
        return None
    rows = store.query("SELECT ended_at FROM case_steps WHERE case_id=? AND step_id=? AND state='done'",
                       (c["id"], step))
    return (rows[0]["ended_at"], {"case": c["id"], "step": step}) if rows and rows[0]["ended_at"] else None


def approval(store: Store, playbook: str, step: str, hosts: tuple[str, ...], since: str) -> Met:
    c = _case(store, playbook, hosts, since)
    if c is None:
        return None
    rows = store.query("SELECT at, actor, role FROM case_approvals WHERE case_id=? AND step_id=? AND"
                       " decision='approve' ORDER BY at LIMIT 1", (c["id"], step))
    return (rows[0]["at"], {"case": c["id"], "step": step, "by": rows[0]["actor"], "role": rows[0]["role"]}) \
        if rows else None


def report_sent(store: Store, playbook: str, report: str, hosts: tuple[str, ...], since: str) -> Met:
    c = _case(store, playbook, hosts, since)
    if c is None:
        return None
    for r in store.query("SELECT ts, data FROM case_audit WHERE case_id=? AND what='report_generated'"
                         " ORDER BY seq", (c["id"],)):
        if json.loads(r["data"]).get("kind") == report:
            return r["ts"], {"case": c["id"], "report": report}
    return None


def check(store: Store, exp, hosts: tuple[str, ...], since: str, now) -> Met:
    """Whether the expectation ``exp`` (scenario model) is met, for the inject sent at ``since``."""
    if exp.kind == "detect":
        return detect(store, exp.check, hosts, since, iso(now))
    if exp.kind == "case_opened":
        return case_opened(store, exp.playbook, hosts, since)
    if exp.kind == "step_done":
        return step_done(store, exp.playbook, exp.step, hosts, since)
    if exp.kind == "approval":
        return approval(store, exp.playbook, exp.step, hosts, since)
    if exp.kind == "report_sent":
        return report_sent(store, exp.playbook, exp.report, hosts, since)
    return None


def seconds_between(a: str, b: str) -> float:
    return round((parse_ts(b) - parse_ts(a)).total_seconds(), 1)
