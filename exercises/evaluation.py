"""The evaluation of a drill: evaluator ratings (HSEEP P/S/M/U), the participant survey, the
corrective actions of the improvement plan (tracked until closed) and their retests.

Each operation writes its table rows and its event (``citysec.exercise.*``) in one transaction
(:func:`exercises.db.write`). A rating event carries ``rating_key`` (run/objective/agency): the
reports count only the latest rating of each key, so a re-rating replaces, never adds. A corrective
action's events carry ``action_id`` and its latest state; the periodic report lists the open ones.
Bad input raises :class:`findings.errors.UsageError` naming what is wrong.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from findings.errors import UsageError, did_you_mean
from findings.model import iso, parse_ts
from findings.store import Store

from . import db
from .scenario import RATINGS, Scenario
from .validate import from_text

AUTO_SKIP = ("not_applicable",)   # expectation states that neither pass nor fail a retest
PASSING = ("P", "S")


def run_and_scenario(store: Store, run_id: str) -> tuple[dict[str, Any], Scenario]:
    db.ensure_tables(store)
    run = db.run_row(store, run_id)
    return run, from_text(run["scenario_text"], run["scenario_path"])


def _objective(sc: Scenario, objective: str):
    if objective not in {o.id for o in sc.objectives}:
        raise UsageError(f"scenario {sc.id!r} has no objective {objective!r}"
                         f"{did_you_mean(objective, [o.id for o in sc.objectives])}; known: "
                         + ", ".join(o.id for o in sc.objectives))
    return sc.objective(objective)


def _stamp(store: Store, field: str, value: str) -> datetime:
    """Now, or just after the latest event with this field value (a replacement must be later)."""
    now = store.clock()
    rows = store.query(f"SELECT MAX(ts) AS ts FROM events WHERE dataset=? AND"
                       f" json_extract(doc, '$.citysec.exercise.{field}')=?", (db.DATASET, value))
    last = rows[0]["ts"] if rows else None
    if last and parse_ts(last) >= now:
        return parse_ts(last) + timedelta(milliseconds=1)
    return now


# -- ratings -------------------------------------------------------------------------------------

def rate(store: Store, run_id: str, objective: str, rating: str, *, agency: str | None = None,
         evaluator: str, note: str, strengths: tuple[str, ...] | list[str] = (),
         improvements: tuple[str, ...] | list[str] = ()) -> list[dict[str, Any]]:
    """Rate an objective for one of its agencies (default: every agency rated on it). A rating given
    again replaces the earlier one. Returns the rows written."""
    rating = (rating or "").upper()
    if rating not in RATINGS:
        raise UsageError(f"rating {rating!r}: expected one of {', '.join(RATINGS)} (HSEEP)")
    run, sc = run_and_scenario(store, run_id)
    obj = _objective(sc, objective)
    if agency is not None and agency not in obj.agencies:
        raise UsageError(f"objective {objective!r} rates {', '.join(obj.agencies)}, not {agency!r}")
    if not evaluator or not evaluator.strip():
        raise UsageError("give the evaluator's name")
    out = []
    for a in [agency] if agency else list(obj.agencies):
        key = f"{run['id']}/{objective}/{a}"
        at = _stamp(store, "rating_key", key)
        row = {"run_id": run["id"], "objective": objective, "agency": a, "rating": rating, "evaluator": evaluator,
               "note": note or "", "strengths": list(strengths), "improvements": list(improvements), "at": iso(at)}
        sql = (("INSERT OR REPLACE INTO exercise_ratings (run_id, objective, agency, rating, evaluator, note,"
               " strengths, improvements, at) VALUES (?,?,?,?,?,?,?,?,?)"),
               (row["run_id"], objective, a, rating, evaluator, row["note"], json.dumps(row["strengths"]),
                json.dumps(row["improvements"]), row["at"]))
        ev = db.event(run, "rated", at, agency=a, message=f"drill {run['id']}: {objective} rated {rating} for {a}",
                      objective=objective, rating=rating, note=row["note"], evaluator=evaluator, rating_key=key)
        db.write(store, [sql], [ev])
        out.append(row)
    return out


def ratings(store: Store, run_id: str) -> list[dict[str, Any]]:
    rows = db.rows(store, "exercise_ratings", db.run_row(store, run_id)["id"], "objective, agency")
    return [r | {"strengths": json.loads(r["strengths"]), "improvements": json.loads(r["improvements"])}
            for r in rows]


# -- survey --------------------------------------------------------------------------------------

def survey(store: Store, run_id: str, participant: str, answers: list[str]) -> dict[str, Any]:
    """A participant's answers to the scenario's survey questions (in order); given again, they
    replace the earlier ones."""
    run, sc = run_and_scenario(store, run_id)
    ids = [p.id for p in sc.participants]
    if participant not in ids:
        raise UsageError(f"{participant!r} is not a participant of drill {run['id']}; participants: {', '.join(ids)}")
    questions = sc.survey.questions
    if len(answers) != len(questions) or not any(a.strip() for a in answers):
        raise UsageError(f"the survey has {len(questions)} questions; give one answer each (got {len(answers)})")
    now = store.clock()
    p = sc.participant(participant)
    stmts = [("DELETE FROM exercise_survey WHERE run_id=? AND participant=?", (run["id"], participant))]
    stmts += [("INSERT INTO exercise_survey (run_id, participant, question, answer, at) VALUES (?,?,?,?,?)",
               (run["id"], participant, i, a, iso(now))) for i, a in enumerate(answers, 1)]
    ev = db.event(run, "survey", now, agency=participant if p.kind == "agency" else None, participant=participant,
                  answers=len(answers))
    db.write(store, stmts, [ev])
    return {"run": run["id"], "participant": participant, "answers": dict(zip(map(str, questions), answers))}


# -- corrective actions --------------------------------------------------------------------------

def _day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise UsageError(f"{what} {text!r}: give a date as YYYY-MM-DD") from None


def action_row(store: Store, action_id: str) -> dict[str, Any]:
    db.ensure_tables(store)
    rows = store.query("SELECT * FROM exercise_actions WHERE id=?", (action_id,))
    if not rows:
        raise UsageError(f"no corrective action {action_id!r} (citysec exercise actions lists them)")
    return dict(rows[0])


def _action_event(store: Store, a: dict[str, Any], what: str, at: datetime, **extra: Any):
    run = db.run_row(store, a["run_id"])
    return db.event(run, what, at, agency=a["agency"], action_id=a["id"], action_title=a["title"],
                    action_status=a["status"], action_due=a["due"], objective=a["objective"], **extra)


def add_action(store: Store, run_id: str, *, title: str, agency: str, contact: str, due: str,
               start: str | None = None, objective: str | None = None) -> str:
    """A corrective action of the drill's improvement plan; returns its id (CA-<run>-NN)."""
    run, sc = run_and_scenario(store, run_id)
    if not title or not title.strip():
        raise UsageError("a corrective action needs a title")
    orgs = [p.id for p in sc.participants] + [sc.organizer]
    if agency not in orgs:
        raise UsageError(f"{agency!r} is neither a participant of drill {run['id']} nor its organiser"
                         f"{did_you_mean(agency, orgs)};"
                         f" known: {', '.join(dict.fromkeys(orgs))}")
    if not contact or not contact.strip():
        raise UsageError("a corrective action needs a contact (who answers for it)")
    if objective is not None:
        _objective(sc, objective)
    now = store.clock()
    begin = _day(start, "--start") if start else now.date()
    end = _day(due, "--due")
    if end <= begin:
        raise UsageError(f"--due {end.isoformat()} is not after the start {begin.isoformat()}")
    prefix = f"CA-{run['id']}-"          # the whole run id, as documented (CA-<run>-NN)
    taken = [r["id"] for r in store.query("SELECT id FROM exercise_actions WHERE substr(id, 1, ?)=?",
                                          (len(prefix), prefix))]
    n = max([int(t[len(prefix):]) for t in taken if t[len(prefix):].isdigit()] or [0]) + 1
    a = {"id": f"{prefix}{n:02d}", "run_id": run["id"], "objective": objective, "title": title.strip(),
         "agency": agency, "contact": contact.strip(), "start": begin.isoformat(), "due": end.isoformat(),
         "status": "open"}
    at = _stamp(store, "action_id", a["id"])
    db.write(store, [(("INSERT INTO exercise_actions (id, run_id, objective, title, agency, contact, start, due,"
                      " status, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)"),
                      (a["id"], a["run_id"], objective, a["title"], agency, a["contact"], a["start"], a["due"],
                       "open", iso(at)))], [_action_event(store, a, "action_opened", at)])
    return a["id"]


def close_action(store: Store, action_id: str, evidence: str, by: str, *, retest_run: str | None = None) -> dict:
    """Close an action on evidence (what shows that it is done)."""
    if not evidence or not evidence.strip():
        raise UsageError(f"closing {action_id} needs --evidence: what shows that it is done")
    a = action_row(store, action_id)
    if a["status"] == "closed" and retest_run is None:
        raise UsageError(f"{action_id} is already closed ({a['closed_at']}, by {a['closed_by']})")
    at = _stamp(store, "action_id", action_id)
    a |= {"status": "closed", "evidence": evidence.strip(), "closed_at": iso(at), "closed_by": by,
          "retest_run": retest_run or a["retest_run"]}
    db.write(store, [(("UPDATE exercise_actions SET status='closed', evidence=?, closed_at=?, closed_by=?,"
                      " retest_run=? WHERE id=?"), (a["evidence"], a["closed_at"], by, a["retest_run"], action_id))],
             [_action_event(store, a, "action_closed", at, note=a["evidence"], by=by, retest_run=retest_run)])
    return a


def reopen_action(store: Store, action_id: str, reason: str, by: str | None = None, *,
                  retest_run: str | None = None) -> dict:
    """Open a closed action again (the reason is kept in its event)."""
    if not reason or not reason.strip():
        raise UsageError(f"reopening {action_id} needs --reason")
    a = action_row(store, action_id)
    if a["status"] == "open" and retest_run is None:
        raise UsageError(f"{action_id} is open already")
    at = _stamp(store, "action_id", action_id)
    a |= {"status": "open", "closed_at": None, "closed_by": None, "evidence": None,
          "retest_run": retest_run or a["retest_run"]}
    db.write(store, [(("UPDATE exercise_actions SET status='open', evidence=NULL, closed_at=NULL, closed_by=NULL,"
                      " retest_run=? WHERE id=?"), (a["retest_run"], action_id))],
             [_action_event(store, a, "action_reopened", at, note=reason.strip(), by=by, retest_run=retest_run)])
    return a


def list_actions(store: Store, open_only: bool = False, agency: str | None = None,
                 run_id: str | None = None) -> list[dict[str, Any]]:
    db.ensure_tables(store)
    sql, params = "SELECT * FROM exercise_actions WHERE 1=1", []
    if open_only:
        sql += " AND status='open'"
    if agency:
        sql, params = sql + " AND agency=?", params + [agency]
    if run_id:
        sql, params = sql + " AND run_id=?", params + [db.run_row(store, run_id)["id"]]
    return [dict(r) for r in store.query(sql + " ORDER BY due, id", params)]


# -- retests -------------------------------------------------------------------------------------

def _verdict(store: Store, run: dict, sc: Scenario, a: dict) -> tuple[bool | None, str]:
    """(True: demonstrated, False: not, None: not yet known) with the reason, for one action."""
    numbers = {i.number for i in sc.msel if i.objective == a["objective"]}
    exps = [e for e in db.rows(store, "exercise_expectations", run["id"], "number, exp_id")
            if e["number"] in numbers and e["kind"] != "evaluator" and e["state"] not in AUTO_SKIP]
    rated = [r for r in db.rows(store, "exercise_ratings", run["id"], "agency") if r["objective"] == a["objective"]]
    if a["agency"] in sc.objective(a["objective"]).agencies:   # the responsible agency's own rating
        rated = [r for r in rated if r["agency"] == a["agency"]]
    missed = [f"#{e['number']} {e['exp_id']} {e['state']}" for e in exps if e["state"] != "met"]
    bad = [f"{r['agency']} {r['rating']}" for r in rated if r["rating"] not in PASSING]
    if missed or bad:
        return False, "; ".join(filter(None, [
            missed and "expectations not met: " + ", ".join(missed), bad and "rated " + ", ".join(bad)]))
    met = f"{len(exps)} of {len(exps)} expectations met"
    if not rated:
        return None, f"{met}; objective {a['objective']} not rated yet"
    return True, f"{met}; rated " + ", ".join(f"{r['agency']} {r['rating']}" for r in rated)


def apply_retests(store: Store, run_id: str) -> dict[str, list]:
    """Close or reopen each corrective action the run's scenario retests (``retests``), from the
    run's expectations of the action's objective (all met) and its ratings (P or S). An action
    whose expectations were met but that is not rated yet is left as it is (apply again after
    rating). Unknown ids are warnings. Idempotent."""
    run, sc = run_and_scenario(store, run_id)
    out: dict[str, list] = {"closed": [], "reopened": [], "unchanged": [], "warnings": []}
    for aid in sc.retests:
        rows = store.query("SELECT * FROM exercise_actions WHERE id=?", (aid,))
        if not rows:
            out["warnings"].append(f"retests: no corrective action {aid!r}")
            db.write(store, [], [db.event(run, "retest_warning", store.clock(), severity="low",
                                          message=f"drill {run['id']}: retests names unknown action {aid}",
                                          warning=f"unknown corrective action {aid}")])
            continue
        a = dict(rows[0])
        if not a["objective"] or a["objective"] not in {o.id for o in sc.objectives}:
            out["warnings"].append(f"{aid}: its objective {a['objective']!r} is not one of this drill's")
            continue
        ok, why = _verdict(store, run, sc, a)
        if ok is None:
            out["unchanged"].append(aid)
            out["warnings"].append(f"{aid}: {why}")
        elif ok and not (a["status"] == "closed" and a["retest_run"] == run["id"]):
            close_action(store, aid, f"retested in drill {run['id']}: {why}", "retest", retest_run=run["id"])
            out["closed"].append(aid)
        elif not ok and not (a["status"] == "open" and a["retest_run"] == run["id"]):
            reopen_action(store, aid, f"retested in drill {run['id']}: {why}", "retest", retest_run=run["id"])
            out["reopened"].append(aid)
        else:
            out["unchanged"].append(aid)
    return out
