"""Incidents (case events, ``citysec.case.*``) and drills (``citysec.exercise.*``) of a period.

A case belongs to the period in which its ``opened`` event falls; a dry-run case (its events carry
``citysec.case.dry_run``) belongs to none. Times to contain and to close
run from that event to the first ``contained`` and ``closed`` events. The case's attributes
(type, help, damage, supporters, deadline_met) come from its latest event. docs/reports.md
describes both document shapes.
"""

from __future__ import annotations

from collections import defaultdict
from statistics import mean
from typing import Any

from findings.model import parse_ts

from .period import Period

HELP = ("self", "outside", "foreign", "national")
# Form 05's incident types; a case of another type counts as "other", a help value outside HELP as
# self-handled (the case records are validated by the playbooks; this keeps every total whole)
TYPE_CODES = ("denial_of_service", "phishing", "malware", "unauthorized_access", "defacement", "ransomware",
              "data_destruction", "data_theft", "combined", "other")
RATINGS = {"P": 100, "S": 70, "M": 30, "U": 0}


def is_dry_run(value: Any) -> bool:
    """A case's dry-run flag as the store or Elasticsearch (flattened: a string) gives it back."""
    return value is True or value == 1 or str(value).lower() in ("true", "1")


def _hours(a: str, b: str) -> float:
    return round((parse_ts(b) - parse_ts(a)).total_seconds() / 3600, 1)


def case_list(times: list[dict], attrs: list[dict], period: Period) -> list[dict[str, Any]]:
    """The cases opened in the period, each with its type, help, times and deadline."""
    firsts: dict[str, dict[str, str]] = defaultdict(dict)
    for r in times:
        firsts[r["citysec.case.id"]][r["citysec.case.action"]] = r["first"]
    out = []
    for a in attrs:
        cid = a["citysec.case.id"]
        if is_dry_run(a.get("citysec.case.dry_run")):
            continue    # a dry run is never an incident
        opened = firsts.get(cid, {}).get("opened")
        if not opened or not (period.start <= parse_ts(opened) < period.end):
            continue
        acts = firsts[cid]
        met = a.get("citysec.case.deadline_met")
        out.append({
            "id": cid, "agency": a["agency"], "title": a.get("citysec.case.title"),
            "playbook": a.get("citysec.case.playbook"),
            "type": a.get("citysec.case.type") if a.get("citysec.case.type") in TYPE_CODES else "other",
            "help": a.get("citysec.case.help") if a.get("citysec.case.help") in HELP else "self",
            "damage_vnd": a.get("citysec.case.damage_vnd") or 0,
            "supporters": sorted(a.get("citysec.case.supporters") or []), "opened": opened,
            "contain_hours": _hours(opened, acts["contained"]) if "contained" in acts else None,
            "close_hours": _hours(opened, acts["closed"]) if "closed" in acts else None,
            "deadline_met": None if met is None else bool(met)})
    return sorted(out, key=lambda c: (c["opened"], c["id"]))


def _avg(values: list) -> float | None:
    vals = [v for v in values if v is not None]
    return round(mean(vals), 1) if vals else None


def incidents(cases: list[dict[str, Any]]) -> dict[str, Any]:
    by_type: dict[str, int] = defaultdict(int)
    for c in cases:
        by_type[c["type"]] += 1
    help_ = {h: sum(1 for c in cases if c["help"] == h) for h in HELP}
    return {
        "total": len(cases), "by_type": dict(sorted(by_type.items())), "by_help": help_,
        "alone": help_["self"], "helped": len(cases) - help_["self"],
        "contain_hours_avg": _avg([c["contain_hours"] for c in cases]),
        "close_hours_avg": _avg([c["close_hours"] for c in cases]),
        "deadline_met": sum(1 for c in cases if c["deadline_met"] is True),
        "deadline_missed": sum(1 for c in cases if c["deadline_met"] is False),
        "damage_vnd": sum(c["damage_vnd"] for c in cases),
        "supporters": sorted({s for c in cases for s in c["supporters"]}),
        "items": cases,
    }


def drills(ratings: list[dict], actions: list[dict]) -> dict[str, Any]:
    """Drills held (ratings P/S/M/U of the period: the latest of each run/objective/agency, see
    :func:`reports.gather.latest_ratings`) and corrective actions still open at its end."""
    counts = {k: 0 for k in RATINGS}
    exercises: set[str] = set()
    for r in ratings:
        rating = r["citysec.exercise.rating"]
        if rating in counts:
            counts[rating] += r["count"]
        exercises.add(r["citysec.exercise.id"])
    rated = sum(counts.values())
    score = round(sum(RATINGS[k] * n for k, n in counts.items()) / rated, 1) if rated else None
    open_ = [{"id": a["citysec.exercise.action_id"], "exercise": a.get("citysec.exercise.id"),
              "title": a.get("citysec.exercise.action_title"), "due": a.get("citysec.exercise.action_due")}
             for a in actions if a.get("citysec.exercise.action_status") != "closed"]
    return {"held": len(exercises), "exercises": sorted(exercises), "ratings": counts, "score": score,
            "open_actions": open_}
