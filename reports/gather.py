"""Gather what a period's reports need from the store, through the query interface.

Every call here is one aggregation in the store (SQL GROUP BY or Elasticsearch terms/top_hits);
what comes back is one row per finding, host, case or group — never one row per observation.
The judging is in :mod:`reports.figures` (pure functions over these rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from findings.model import iso
from findings.query import Ask, Query, Where, sort_rows

from .period import Period

CASE = "citysec.case"
LOGS = "citysec.logs"
EXERCISE = "citysec.exercise"
ASSETS = "citysec.discovery"     # asset sightings: discovery's (scanners.discovery) are the only ones
STATE_FIELDS = ("agency", "check", "host", "host_name", "port", "banner", "severity", "status", "verdict",
                "first_seen", "last_seen", "citysec.subject")
CASE_FIELDS = ("agency", "citysec.case.type", "citysec.case.help", "citysec.case.damage_vnd",
               "citysec.case.supporters", "citysec.case.deadline_met", "citysec.case.title", "citysec.case.playbook",
               "citysec.case.dry_run")
RATING = ("agency", "citysec.exercise.id", "citysec.exercise.rating")
RATING_KEY = "citysec.exercise.rating_key"      # run/objective/agency: a re-rating replaces the rating
NAME_FIELDS = ("citysec.exercise.name", "citysec.exercise.name_en")   # the drill's title, vi and en
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
    exercise_names: dict[str, dict[str, str]] = field(default_factory=dict)   # run → {vi, en} title
    remediation: dict[str, dict[str, Any]] = field(default_factory=dict)   # check → texts, name


def gather(q: Query, period: Period, agencies: tuple[str, ...] = ()) -> Gathered:
    """All rows of one period (``agencies`` empty: the whole city)."""
    return gather_many(q, [period], agencies)[0]


def gather_many(q: Query, periods: list[Period], agencies: tuple[str, ...] = (), *,
                remedies: int = 1) -> list[Gathered]:
    """All rows of several periods, asked of the store in one batch (one round trip). Only the
    first ``remedies`` periods get remediation texts (a previous period's report shows only its
    headline figures, which need none). A period that starts where another of the batch ends
    takes the state at its end from that one's state and its own observations: the history
    before its start is read once, not once per period."""
    after = {p.end: i for i, p in enumerate(periods)}
    base = [after.get(p.start) for p in periods]   # the period ending where this one starts
    asks = [_asks(p, agencies, i < remedies, since=base[i] is not None) for i, p in enumerate(periods)]
    answers = iter(q.many([a for group in asks for a in group]))
    raw = [[next(answers) for _ in group] for group in asks]
    states: dict[int, list[dict[str, Any]]] = {}
    for i in sorted(range(len(periods)), key=lambda k: periods[k].end):
        b = base[i]
        states[i] = raw[i][0] if b is None else merge_state(states[b], raw[i][0])
    return [_gathered(p, [states[i], *raw[i][1:]]) for i, p in enumerate(periods)]


def merge_state(before: list[dict[str, Any]], within: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The latest row per fingerprint at a period's end, from the latest rows at its start and
    those of its own observations (these are later); ``count`` covers both."""
    out = {r["fingerprint"]: r for r in before}
    for r in within:
        had = out.get(r["fingerprint"])
        out[r["fingerprint"]] = r if had is None else r | {"count": r["count"] + had["count"]}
    return sort_rows(list(out.values()), ("fingerprint",))


def _asks(period: Period, agencies: tuple[str, ...], remedies: bool, *, since: bool = False) -> list[Ask]:
    """The requests of one period, in the order :func:`_gathered` reads their answers (``since``:
    the state only from the period's own observations)."""
    within = {"start": period.start, "end": period.end, "agencies": agencies}
    upto = {"end": period.end, "agencies": agencies}
    asks = [
        Ask.latest("history", Where(**(within if since else upto)), "fingerprint", STATE_FIELDS),
        Ask.group("events", Where(**within, kinds=("asset",), datasets=(ASSETS,)), ("agency", "host")),
        Ask.group("history", Where(**within, verdicts=("fail",)), ("fingerprint",)),
        Ask.group("events", Where(**within, kinds=("alert",), checks=("log.",), datasets=(LOGS,)),
                  ("agency", "check", "severity")),
        Ask.group("events", Where(**upto, datasets=(CASE,)),
                  ("agency", "citysec.case.id", "citysec.case.action"), times=True),
        Ask.latest("events", Where(**upto, datasets=(CASE,)), "citysec.case.id", CASE_FIELDS),
        *_rating_asks(Where(**within, datasets=(EXERCISE,))),
        Ask.latest("events", Where(**upto, datasets=(EXERCISE,)), "citysec.exercise.action_id", ACTION_FIELDS),
        Ask.latest("events", Where(**upto, datasets=(EXERCISE,)), "citysec.exercise.id", NAME_FIELDS),
    ]
    if remedies:   # each check's remediation texts, from its latest failing observation
        asks.append(Ask.latest("history", Where(**upto, verdicts=("fail",)), "check", ("remediation", "check_name")))
    return asks


def _gathered(period: Period, answers: list[list[dict[str, Any]]]) -> Gathered:
    state, assets, failed, detections, case_times, cases, rated, keyed, latest, actions, names, *remedies = answers
    ratings = latest_ratings(rated, keyed, latest)
    open_checks = {r["check"] for r in state if _is_open(r)}
    return Gathered(
        period=period, state=state, hosts=seen_in(state, period) + assets,
        failed={r["fingerprint"] for r in failed}, detections=detections, case_times=case_times,
        cases=cases, ratings=ratings, actions=actions, exercise_names=exercise_names(names),
        remediation={r["check"]: {"remediation": r.get("remediation") or {}, "name": r.get("check_name")}
                     for r in (remedies[0] if remedies else []) if r["check"] in open_checks})


def _rating_asks(w: Where) -> list[Ask]:
    """The ratings of a period: every rating event per (agency, exercise, rating); those with a
    rating key per key as well; and the latest event of each key (see :func:`latest_ratings`)."""
    return [Ask.group("events", w, RATING), Ask.group("events", w, (*RATING, RATING_KEY)),
            Ask.latest("events", w, RATING_KEY, RATING)]


def latest_ratings(rated: list[dict[str, Any]], keyed: list[dict[str, Any]],
                   latest: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """(agency, exercise, rating) → count, where a rating that was given again for the same key
    (run/objective/agency) counts once, as its latest value. Rating events without a key (older
    records) each count, as before."""
    counts: dict[tuple, int] = {}
    for r in rated:
        counts[tuple(r[f] for f in RATING)] = r["count"]
    for r in keyed:                   # take out every keyed rating...
        counts[tuple(r[f] for f in RATING)] -= r["count"]
    for r in latest:                  # ...and put back the latest of each key
        k = tuple(r[f] for f in RATING)
        if r.get("citysec.exercise.rating") is not None:
            counts[k] = counts.get(k, 0) + 1
    rows = [dict(zip(RATING, k)) | {"count": n} for k, n in counts.items() if n > 0]
    return sort_rows(rows, RATING)


def exercise_names(rows: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Each drill run's title in both languages, from its latest event; a run recorded before
    scenarios were bilingual has one title (``name``), used for both."""
    out = {}
    for r in rows:
        vi = r.get("citysec.exercise.name")
        if r.get("citysec.exercise.id") and vi:
            out[r["citysec.exercise.id"]] = {"vi": vi, "en": r.get("citysec.exercise.name_en") or vi}
    return out


def seen_in(state: list[dict[str, Any]], period: Period) -> list[dict[str, Any]]:
    """(agency, host) with an observation in the period, from the latest state rows: a finding's
    agency and host are part of its fingerprint, and its latest observation before the end falls
    in the period exactly when any of its observations does (so the history is not read again)."""
    start = iso(period.start)
    seen = {(r["agency"], r["host"]) for r in state if r["ts"] >= start and r["agency"] and r["host"]}
    return [{"agency": a, "host": h} for a, h in sorted(seen)]


def _is_open(row: dict[str, Any]) -> bool:
    return row.get("status") in ("open", "reopened")
