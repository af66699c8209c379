"""Gather what a period's reports need from the store, through the query interface.

Every call here is one aggregation in the store (SQL GROUP BY or Elasticsearch terms/top_hits);
what comes back is one row per finding, host, case or group — never one row per observation.
The judging is in :mod:`reports.figures` (pure functions over these rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from findings.model import iso
from findings.query import Query, Where

from .period import Period

CASE = "citysec.case"
LOGS = "citysec.logs"
EXERCISE = "citysec.exercise"
STATE_FIELDS = ("agency", "check", "host", "host_name", "port", "banner", "severity", "status", "verdict",
                "first_seen", "last_seen")
CASE_FIELDS = ("agency", "citysec.case.type", "citysec.case.help", "citysec.case.damage_vnd",
               "citysec.case.supporters", "citysec.case.deadline_met", "citysec.case.title")
ACTION_FIELDS = ("agency", "citysec.exercise.id", "citysec.exercise.action_title",
                 "citysec.exercise.action_status", "citysec.exercise.action_due")


@dataclass
class Gathered:
    period: Period
    state: list[dict[str, Any]]              # per fingerprint: its latest observation before the end
    hosts: list[dict[str, Any]]              # (agency, host) seen in the period: history and assets
    failed: set[str]                         # fingerprints that failed during the period
    detections: list[dict[str, Any]]         # (agency, check, severity) → count of alerts
    case_times: list[dict[str, Any]]         # (agency, case id, action) → first, last
    cases: list[dict[str, Any]]              # per case: its latest attributes
    ratings: list[dict[str, Any]]            # (agency, exercise id, rating) → count
    actions: list[dict[str, Any]]            # per corrective action: its latest state
    remediation: dict[str, dict[str, Any]] = field(default_factory=dict)   # check → texts, name


def gather(q: Query, period: Period, agencies: tuple[str, ...] = ()) -> Gathered:
    """All rows of one period (``agencies`` empty: the whole city)."""
    upto = Where(end=period.end, agencies=agencies)
    state = q.latest("history", upto, "fingerprint", STATE_FIELDS)
    hosts = seen_in(state, period) + q.group(
        "events", Where(start=period.start, end=period.end, agencies=agencies, kinds=("asset",)),
        ("agency", "host"))
    failed = {r["fingerprint"] for r in q.group(
        "history", Where(start=period.start, end=period.end, agencies=agencies, verdicts=("fail",)),
        ("fingerprint",))}
    g = Gathered(
        period=period, state=state, hosts=hosts, failed=failed,
        detections=q.group("events", Where(start=period.start, end=period.end, agencies=agencies,
                                           kinds=("alert",), checks=("log.",), datasets=(LOGS,)),
                            ("agency", "check", "severity")),
        case_times=q.group("events", Where(end=period.end, agencies=agencies, datasets=(CASE,)),
                           ("agency", "citysec.case.id", "citysec.case.action"), times=True),
        cases=q.latest("events", Where(end=period.end, agencies=agencies, datasets=(CASE,)),
                       "citysec.case.id", CASE_FIELDS),
        ratings=q.group("events", Where(start=period.start, end=period.end, agencies=agencies,
                                        datasets=(EXERCISE,)),
                        ("agency", "citysec.exercise.id", "citysec.exercise.rating")),
        actions=q.latest("events", Where(end=period.end, agencies=agencies, datasets=(EXERCISE,)),
                         "citysec.exercise.action_id", ACTION_FIELDS),
    )
    g.remediation = remedies_of(q, period, {r["check"] for r in state if _is_open(r)}, agencies)
    return g


def seen_in(state: list[dict[str, Any]], period: Period) -> list[dict[str, Any]]:
    """(agency, host) with an observation in the period, from the latest state rows: a finding's
    agency and host are part of its fingerprint, and its latest observation before the end falls
    in the period exactly when any of its observations does (so the history is not read again)."""
    start = iso(period.start)
    seen = {(r["agency"], r["host"]) for r in state if r["ts"] >= start and r["agency"] and r["host"]}
    return [{"agency": a, "host": h} for a, h in sorted(seen)]


def _is_open(row: dict[str, Any]) -> bool:
    return row.get("status") in ("open", "reopened")


def remedies_of(q: Query, period: Period, checks: set[str], agencies: tuple[str, ...]) -> dict:
    """The remediation texts and names of the given checks (from their latest failing observation)."""
    if not checks:
        return {}
    rows = q.latest("history", Where(end=period.end, agencies=agencies, checks=tuple(sorted(checks)),
                                     verdicts=("fail",)), "check", ("remediation", "check_name"))
    return {r["check"]: {"remediation": r.get("remediation") or {}, "name": r.get("check_name")}
            for r in rows}
