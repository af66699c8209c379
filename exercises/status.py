"""The live status of a drill run: timeline, next injects, expectations met and pending, and per
inject the time to detect (first detect expectation met) and to respond (last other automatic
expectation met), in scenario time (real seconds × speed)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from findings.model import iso, parse_ts
from findings.store import Store
from findings.support.durations import parse_duration

from . import db
from .validate import from_text


def _scenario_seconds(run: dict, a: str | None, b: str | None) -> float | None:
    if not a or not b:
        return None
    return round((parse_ts(b) - parse_ts(a)).total_seconds() * run["speed"], 1)


def status(store: Store, run_id: str) -> dict[str, Any]:
    db.ensure_tables(store)
    run = db.run_row(store, run_id)
    sc = from_text(run["scenario_text"], run["scenario_path"])
    now = store.clock()
    paused = run["paused_seconds"] + ((now - parse_ts(run["paused_at"])).total_seconds()
                                      if run["state"] == "paused" and run["paused_at"] else 0)
    end = parse_ts(run["ended_at"]) if run["ended_at"] else now
    elapsed = max(0.0, (end - parse_ts(run["started_at"])).total_seconds() - paused) * run["speed"]
    injects = {r["number"]: r for r in db.rows(store, "exercise_injects", run["id"], "number")}
    exps = db.rows(store, "exercise_expectations", run["id"], "number, exp_id")
    items = []
    for inj in sc.msel:
        row = injects.get(inj.number, {})
        mine = [e for e in exps if e["number"] == inj.number]
        detect = [e["met_at"] for e in mine if e["kind"] == "detect" and e["met_at"]]
        respond = [e["met_at"] for e in mine if e["kind"] not in ("detect", "evaluator") and e["met_at"]]
        described = {e.id: e.description for e in inj.expectations}
        items.append({
            "number": inj.number, "at": inj.at, "at_s": parse_duration(inj.at).total_seconds(), "synopsis": str(inj.synopsis), "synopsis_en": inj.synopsis.en, "method": inj.method,
            "to": inj.to, "state": row.get("state"), "sent_at": row.get("sent_at"), "cleanup": row.get("cleanup"),
            "detail": row.get("detail"),
            "time_to_detect_s": _scenario_seconds(run, row.get("sent_at"), min(detect) if detect else None),
            "time_to_respond_s": _scenario_seconds(run, row.get("sent_at"), max(respond) if respond else None),
            "expectations": [{"id": e["exp_id"], "kind": e["kind"], "state": e["state"], "severity": e["severity"],
                              "description": str(described[e["exp_id"]]) if e["exp_id"] in described else None,
                              "description_en": described[e["exp_id"]].en if e["exp_id"] in described else None,
                              "due_at": e["due_at"], "met_at": e["met_at"],
                              "after_s": _scenario_seconds(run, row.get("sent_at"), e["met_at"])} for e in mine]})
    upcoming = [{"number": i["number"], "at": i["at"], "synopsis": i["synopsis"],
                 "in_s": round(parse_duration(i["at"]).total_seconds() - elapsed, 1)}
                for i in items if i["state"] == "pending"]
    count = {s: sum(1 for e in exps if e["state"] == s) for s in ("met", "missed", "pending", "rated", "not_applicable")}
    timeline = [{"at": d["@timestamp"], "action": d["citysec"]["exercise"]["action"], "message": d.get("message", ""),
                 "severity": d["citysec"]["severity"]} for d in db.events_of(store, run["id"])]
    return {"id": run["id"], "scenario": sc.id, "title": sc.title.vi, "title_en": sc.title.en, "mode": run["mode"], "speed": run["speed"],
            "state": run["state"], "control": run["control"], "pid": run["pid"], "started_at": run["started_at"],
            "ended_at": run["ended_at"], "now": iso(now), "scenario_time": str(timedelta(seconds=round(elapsed))),
            "scenario_seconds": round(elapsed, 1), "length": str(sc.length), "expectations": count,
            "injects": items, "next": upcoming[:5], "timeline": timeline,
            "lapses": db.rows(store, "exercise_lapses", run["id"], "at"),
            "overhead_seconds": run["overhead_seconds"]}


def runs(store: Store, limit: int = 20) -> list[dict[str, Any]]:
    db.ensure_tables(store)
    return [dict(r) for r in store.query("SELECT id, scenario_id, title, title_en, mode, speed, state, started_at, ended_at"
                                         " FROM exercise_runs ORDER BY started_at DESC LIMIT ?", (limit,))]
