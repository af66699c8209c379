"""The after-action report's content as plain data, from a run's tables and its events.

:func:`aar_data` reads; :mod:`reports.aar` turns the dict into the document. Times are ISO (real
time, UTC) with, where it helps, the scenario time in seconds: real seconds since the start minus
the pauses, times the run's speed. The scenario's texts are given in both languages (``{vi, en}``)
for the report to pick its own; text from the range and from people is kept as it is (the
renderer escapes it).
"""

from __future__ import annotations

import json
from typing import Any

from findings.model import parse_ts
from findings.store import Store

from . import db
from .evaluation import run_and_scenario
from .scenario import RATINGS, Scenario, parse_duration

TIMELINE = ("run_started", "inject_sent", "inject_refused", "inject_failed", "expectation_met",
            "expectation_missed", "cleanup_done", "cleanup_failed", "lapse", "run_paused", "run_resumed",
            "run_ended", "run_aborted", "run_completed", "run_failed")


def _secs(a: str | None, b: str | None) -> float | None:
    if not a or not b:
        return None
    return round((parse_ts(b) - parse_ts(a)).total_seconds(), 1)


class Clock:
    """Real time → scenario seconds of one run (pauses stop scenario time)."""

    def __init__(self, run: dict, events: list[dict]):
        self.start, self.speed = run["started_at"], float(run["speed"] or 1)
        self.pauses: list[tuple[str, str | None]] = []
        for e in events:
            what = e["citysec"]["exercise"].get("action")
            if what == "run_paused":
                self.pauses.append((e["@timestamp"], None))
            elif what == "run_resumed" and self.pauses and self.pauses[-1][1] is None:
                self.pauses[-1] = (self.pauses[-1][0], e["@timestamp"])

    def scenario(self, ts: str | None) -> float | None:
        real = _secs(self.start, ts)
        if real is None:
            return None
        t = parse_ts(ts)
        for a, b in self.pauses:
            if parse_ts(a) < t:
                real -= (min(t, parse_ts(b)) - parse_ts(a)).total_seconds() if b else (t - parse_ts(a)).total_seconds()
        return round(max(0.0, real) * self.speed, 1)


LANGS = ("vi", "en")


def both(text: Any) -> dict[str, str] | None:
    """A scenario text as {vi, en} (a recorded string is the same in both)."""
    if text is None:
        return None
    return {lang: text.in_lang(lang) for lang in LANGS} if hasattr(text, "in_lang") else {lang: str(text) for lang in LANGS}


def _detail(x: dict[str, Any], sc: Scenario) -> dict[str, Any]:
    """What an event says: its inject's synopsis and its expectation's description from the
    scenario in both languages (the recorded Vietnamese text for an inject the scenario lacks),
    the codes (method, kind) apart for the report to put in words."""
    what = x.get("action")
    inj = next((i for i in sc.msel if i.number == x.get("inject")), None)
    if what == "inject_sent":
        return {"inject": x.get("inject"), "text": both(inj.synopsis if inj else x.get("synopsis", "")),
                "method": x.get("method")}
    if what in ("expectation_met", "expectation_missed"):
        exp = next((e for e in inj.expectations if e.id == x.get("expectation")), None) if inj else None
        return {"inject": x.get("inject"), "expectation": x.get("expectation"), "kind": x.get("kind"),
                "text": both(exp.description if exp else x.get("description"))}
    if what in ("inject_refused", "inject_failed", "cleanup_failed", "cleanup_done"):
        return {"inject": x.get("inject"), "text": both(x.get("detail", ""))}
    if what == "run_resumed" and x.get("seconds") is not None:
        return {"text": both(f"{x['seconds']} s")}
    if what == "run_started":
        return {}
    return {"text": both(x.get("lapse") or x.get("uncleaned") or "")}


def timeline(events: list[dict], clock: Clock, sc: Scenario) -> list[dict[str, Any]]:
    out = []
    for e in events:
        x = e["citysec"]["exercise"]
        if x.get("action") not in TIMELINE:
            continue
        host = (e.get("host", {}).get("ip") or [None])[0] or e.get("host", {}).get("name")
        out.append({"at": e["@timestamp"], "scenario_seconds": clock.scenario(e["@timestamp"]), "what": x["action"],
                    "agency": e.get("organization", {}).get("id"), "host": host,
                    "severity": e.get("citysec", {}).get("severity"),
                    **({"text": both(e.get("message"))} if x["action"] == "lapse" else _detail(x, sc))})
    return out


def expectations(store: Store, run: dict, sc: Scenario) -> list[dict[str, Any]]:
    injects = {r["number"]: r for r in db.rows(store, "exercise_injects", run["id"], "number")}
    msel = {i.number: i for i in sc.msel}
    out = []
    for r in db.rows(store, "exercise_expectations", run["id"], "number, exp_id"):
        inj, sent = msel.get(r["number"]), injects.get(r["number"], {}).get("sent_at")
        exp = next((e for e in inj.expectations if e.id == r["exp_id"]), None) if inj else None
        real = _secs(sent, r["met_at"]) if r["state"] == "met" else None
        out.append({"inject": r["number"], "synopsis": both(inj.synopsis) if inj else None,
                    "objective": inj.objective if inj else None, "expectation": r["exp_id"], "kind": r["kind"],
                    "description": both(exp.description) if exp else None, "severity": r["severity"],
                    "state": r["state"], "within": exp.within if exp else None, "sent_at": sent,
                    "due_at": r["due_at"], "met_at": r["met_at"], "seconds": real,
                    "scenario_seconds": None if real is None else round(real * float(run["speed"] or 1), 1)})
    return out


def rating_rows(store: Store, run: dict, sc: Scenario) -> list[dict[str, Any]]:
    """Every (objective, rated agency) of the scenario, with its rating where one was given."""
    given = {(r["objective"], r["agency"]): r for r in db.rows(store, "exercise_ratings", run["id"], "objective")}
    out = []
    for o in sc.objectives:
        for a in o.agencies:
            r = given.pop((o.id, a), None)
            out.append({"objective": o.id, "objective_title": both(o.title), "agency": a,
                        "rating": r["rating"] if r else None, "evaluator": r["evaluator"] if r else o.evaluator,
                        "note": r["note"] if r else "", "at": r["at"] if r else None,
                        "strengths": json.loads(r["strengths"]) if r else [],
                        "improvements": json.loads(r["improvements"]) if r else []})
    return out


def findings_of(ratings: list[dict], exps: list[dict]) -> dict[str, list[dict[str, Any]]]:
    """Strengths and areas for improvement: the evaluators', and each missed expectation."""
    strengths = [{"objective": r["objective"], "agency": r["agency"], "text": s, "source": "evaluator"}
                 for r in ratings for s in r["strengths"]]
    areas = [{"objective": r["objective"], "agency": r["agency"], "text": s, "source": "evaluator"}
             for r in ratings for s in r["improvements"]]
    areas += [{"objective": e["objective"], "agency": None, "source": "expectation",
               "text": {lang: f"#{e['inject']} {e['expectation']}: {(e['description'] or {}).get(lang) or e['kind']}"
                        for lang in LANGS}}
              for e in exps if e["state"] == "missed"]
    return {"strengths": strengths, "improvements": areas}


def survey_rows(store: Store, run: dict, sc: Scenario) -> list[dict[str, Any]]:
    qs = sc.survey.questions
    return [{"participant": r["participant"], "question": both(qs[r["question"] - 1] if r["question"] <= len(qs)
             else str(r["question"])), "number": r["question"], "answer": r["answer"], "at": r["at"]}
            for r in db.rows(store, "exercise_survey", run["id"], "participant, question")]


def actions_of(store: Store, run: dict) -> list[dict[str, Any]]:
    rows = store.query("SELECT * FROM exercise_actions WHERE run_id=? OR retest_run=? ORDER BY due, id",
                       (run["id"], run["id"]))
    return [dict(r) | {"retested_here": r["retest_run"] == run["id"] and r["run_id"] != run["id"]} for r in rows]


def scope(events: list[dict], sc: Scenario) -> dict[str, list[str]]:
    hosts, agencies = set(), set()
    for e in events:
        if e["citysec"]["exercise"].get("action") in ("inject_sent", "expectation_met", "expectation_missed",
                                                       "cleanup_done", "cleanup_failed"):
            h = e.get("host", {})
            hosts.update(x for x in (h.get("ip") or []) + [h.get("name")] if x)
            if e.get("organization", {}).get("id"):
                agencies.add(e["organization"]["id"])
    hosts.update(i.host for i in sc.msel if i.technical is not None and i.host)
    return {"hosts": sorted(hosts), "agencies": sorted(agencies)}


def overview(run: dict, sc: Scenario, events: list[dict]) -> dict[str, Any]:
    return {
        "run": run["id"], "name": both(sc.title), "scenario": sc.id, "summary": both(sc.summary), "state": run["state"],
        "mode": run["mode"], "speed": run["speed"], "started_at": run["started_at"], "ended_at": run["ended_at"],
        "organizer": sc.organizer, "scope": scope(events, sc), "rules_of_engagement": [both(r) for r in sc.rules_of_engagement],
        "objectives": [{"id": o.id, "title": both(o.title), "capability": both(o.capability),
                        "critical_tasks": [both(t) for t in o.critical_tasks], "agencies": list(o.agencies),
                        "evaluator": o.evaluator} for o in sc.objectives],
        "participants": [{"id": p.id, "name": both(p.name), "kind": p.kind, "enterprise_type": p.enterprise_type,
                          "role": p.role, "contacts": [c.model_dump() | {"role": both(c.role)} for c in p.contacts]}
                         for p in sc.participants],
    }


def skipped_injects(store: Store, run: dict, sc: Scenario) -> list[dict[str, Any]]:
    """Injects never sent (skipped: a tabletop drill's technical injects, or what an abort
    left), at their scenario time: the timeline shows them too."""
    msel = {i.number: i for i in sc.msel}
    return [{"inject": r["number"], "synopsis": both(msel[r["number"]].synopsis) if r["number"] in msel else None,
             "scenario_seconds": parse_duration(msel[r["number"]].at).total_seconds() if r["number"] in msel else None,
             "detail": r.get("detail")}
            for r in db.rows(store, "exercise_injects", run["id"], "number") if r["state"] == "skipped"]


def aar_data(store: Store, run_id: str) -> dict[str, Any]:
    """Everything the after-action report and improvement plan show, for one run."""
    run, sc = run_and_scenario(store, run_id)
    events = db.events_of(store, run["id"])
    exps = expectations(store, run, sc)
    rates = rating_rows(store, run, sc)
    lapses = db.rows(store, "exercise_lapses", run["id"], "at")
    return {
        "overview": overview(run, sc, events),
        "timeline": timeline(events, Clock(run, events), sc),
        "skipped": skipped_injects(store, run, sc),
        "expectations": exps,
        "ratings": rates,
        **findings_of(rates, exps),
        "lapses": [{"key": r["key"], "at": r["at"], "message": r["message"], "notified": json.loads(r["notified"])}
                   for r in lapses],
        "survey": survey_rows(store, run, sc),
        "survey_questions": [both(q) for q in sc.survey.questions],
        "actions": actions_of(store, run),
        "definitions": {k: dict(v) for k, v in RATINGS.items()},
    }
