"""The after-action report and improvement plan of a drill (HSEEP), as a :class:`Document`.

Input: the plain dict of :func:`exercises.aar_data.aar_data` (the exercises package reads the
store; this module only lays it out). Sections: overview, timeline, expectations per inject,
ratings per objective, strengths and areas for improvement, critical lapses, participant
feedback, improvement plan, HSEEP rating definitions. Every text from the range or from people
stays data: the renderer's sandboxed, autoescaped templates show it as text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from findings.model import parse_ts

from . import fmt, i18n
from .document import Document, Section, table
from .period import LOCAL


def when(ts: str | None, lang: str) -> str:
    """A time in the city's time zone, to the second (accelerated drills are dense)."""
    if not ts:
        return "—"
    d = parse_ts(ts).astimezone(LOCAL)
    return f"{fmt.date(d, lang)} {d:%H:%M:%S}"


def clock(seconds: float | None) -> str:
    """Scenario time as T+h:mm:ss."""
    if seconds is None:
        return "—"
    s = round(seconds)
    return f"T+{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _t(text: Any, lang: str) -> str:
    """A scenario text in the document's language ({vi, en}; a plain string as it is)."""
    if isinstance(text, dict):
        return text.get(lang) or ""
    return "" if text is None else str(text)


class _Names:
    def __init__(self, names: dict[str, str], participants: list[dict], lang: str):
        self.names = dict(names)
        for p in participants:
            if p.get("name") and p["id"] not in self.names:
                self.names[p["id"]] = _t(p["name"], lang)

    def __call__(self, aid: str | None) -> str:
        """An agency or participant by its name (words, not its id; the participants table keeps the
        id in a column of its own); the id only where no name is known."""
        if not aid:
            return "—"
        return self.names.get(aid) or aid


def _word(prefix: str, code: str | None, lang: str) -> str:
    """A mode, role, kind or state in words (the code itself only if the catalogue lacks it)."""
    return i18n.tr(prefix + code, lang) if code and prefix + code in i18n.WORDS else (code or "—")


def _rating(code: str | None, lang: str) -> str:
    return i18n.tr(code, lang) if code else i18n.tr("not_rated", lang)


def overview(d: dict, lang: str, name) -> Section:
    o = d["overview"]
    facts = [("aar_run", o["run"]), ("scenario", f"{o['scenario']} — {_t(o['name'], lang)}"), ("started", when(o["started_at"], lang)),
             ("ended", when(o["ended_at"], lang)), ("state", _word("run_", o["state"], lang)),
             ("mode", _word("mode_", o["mode"], lang)),
             ("speed", fmt.number(o["speed"], lang, 1)), ("organizer", name(o["organizer"])),
             ("aar_scope_agencies", ", ".join(name(a) for a in o["scope"]["agencies"]) or "—"),
             ("aar_scope_hosts", ", ".join(o["scope"]["hosts"]) or "—")]
    rows = [{"figure": i18n.tr(k, lang), "value": v} for k, v in facts]
    objectives = [{"id": x["id"], "title": _t(x["title"], lang), "capability": _t(x["capability"], lang),
                   "critical_tasks": "; ".join(_t(t, lang) for t in x["critical_tasks"]),
                   "agencies": ", ".join(name(a) for a in x["agencies"]), "evaluator": name(x["evaluator"])}
                  for x in o["objectives"]]
    people = [{"id": p["id"], "name": name(p["id"]), "kind": _word("kind_", p["kind"], lang) + (
               f" ({_word('ent_', p['enterprise_type'], lang)})" if p.get("enterprise_type") else ""),
               "role": _word("role_", p["role"], lang),
               "contacts": "; ".join(", ".join(filter(None, (c["name"], _t(c["role"], lang), c.get("email"),
                                                                 c.get("phone"))))
                                     for c in p["contacts"])} for p in o["participants"]]
    return Section("overview", i18n.tr("overview", lang),
                   [f"{i18n.tr('summary', lang)}: {_t(o['summary'], lang)}",
                    f"{i18n.tr('roe', lang)}: " + " · ".join(_t(r, lang) for r in o["rules_of_engagement"])], [
        table("aar_overview", lang, "overview", [("figure", "figure", "text"), ("value", "detail", "text")], rows),
        table("aar_objectives", lang, "objectives", [
            ("id", "objective", "text"), ("title", "title", "text"), ("capability", "capability", "text"),
            ("critical_tasks", "critical_tasks", "text"), ("agencies", "rated_agencies", "text"),
            ("evaluator", "evaluator", "text")], objectives),
        table("aar_participants", lang, "participants", [
            ("id", "participant", "text"), ("name", "name", "text"), ("kind", "kind", "text"),
            ("role", "role", "text"), ("contacts", "contacts", "text")], people)])


def _event_detail(e: dict, lang: str) -> str:
    """One line of what an event says, in words: '#2 <synopsis> (by email)', '#2 case (case opened):
    <description>'."""
    head = f"#{e['inject']} " if e.get("inject") is not None else ""
    text = _t(e.get("text"), lang)
    if e.get("method"):
        return f"{head}{text} ({_word('inj_', e['method'], lang)})".strip()
    if e.get("expectation"):
        return f"{head}{e['expectation']} ({_word('exk_', e.get('kind'), lang)})" + (f": {text}" if text else "")
    return f"{head}{text}".strip()


def timeline(d: dict, lang: str, name) -> Section:
    """Every event of the run, and the injects that were never sent (skipped), at their time."""
    o = d["overview"]
    started = f"{_word('mode_', o['mode'], lang)} ×{fmt.number(o['speed'], lang, 1)}"
    events = [(e["scenario_seconds"], {"at": when(e["at"], lang), "scenario": clock(e["scenario_seconds"]),
               "event": i18n.tr("ev_" + e["what"], lang), "agency": name(e["agency"]), "host": e["host"],
               "detail": started if e["what"] == "run_started" else _event_detail(e, lang)}) for e in d["timeline"]]
    skipped = [(x["scenario_seconds"], {"at": "—", "scenario": clock(x["scenario_seconds"]),
                "event": i18n.tr("ev_inject_skipped", lang), "agency": "—", "host": None,
                "detail": f"#{x['inject']} {_t(x['synopsis'], lang)}".strip()}) for x in d.get("skipped", [])]
    rows = [r for _, r in sorted(events + skipped, key=lambda t: (t[0] is None, t[0] or 0))]
    return Section("timeline", i18n.tr("timeline", lang), [], [table("aar_timeline", lang, "timeline", [
        ("at", "time", "text"), ("scenario", "scenario_time", "code"), ("event", "event", "text"),
        ("agency", "agency", "text"), ("host", "host", "code"), ("detail", "detail", "text")], rows)])


def expectations(d: dict, lang: str, name) -> Section:
    n = {s: sum(1 for e in d["expectations"] if e["state"] == s)
         for s in ("met", "missed", "pending", "rated", "not_applicable")}
    rows = [{"inject": f"#{e['inject']}", "expectation": e["expectation"],
             "description": _t(e["description"], lang), "severity": i18n.severity(e["severity"], lang),
             "state": i18n.tr("st_" + e["state"], lang), "due_at": when(e["due_at"], lang),
             "met_at": when(e["met_at"], lang),
             "ttr": "—" if e["seconds"] is None else
                    f"{fmt.number(e['seconds'], lang, 1)} / {fmt.number(e['scenario_seconds'], lang, 1)}"}
            for e in d["expectations"]]
    return Section("expectations", i18n.tr("expectations", lang), [i18n.tr(
        "exp_counts", lang, met=n["met"], missed=n["missed"], pending=n["pending"], rated=n["rated"],
        na=n["not_applicable"])], [table("aar_expectations", lang, "expectations", [
            ("inject", "inject", "code"), ("expectation", "expectation", "code"), ("description", "title", "text"),
            ("severity", "severity", "text"), ("state", "verdict", "text"), ("due_at", "due_at", "text"),
            ("met_at", "met_at", "text"), ("ttr", "ttr", "text")], rows)])


def ratings(d: dict, lang: str, name) -> Section:
    rows = [{"objective": f"{r['objective']} — {_t(r['objective_title'], lang)}", "agency": name(r["agency"]),
             "rating": _rating(r["rating"], lang), "evaluator": r["evaluator"], "note": r["note"],
             "at": when(r["at"], lang) if r["at"] else "—"} for r in d["ratings"]]
    return Section("ratings", i18n.tr("ratings", lang), [], [table("aar_ratings", lang, "ratings", [
        ("objective", "objective", "text"), ("agency", "agency", "text"), ("rating", "rating", "text"),
        ("evaluator", "evaluator", "text"), ("note", "note", "text"), ("at", "time", "text")], rows)])


def analysis(d: dict, lang: str, name) -> Section:
    def rows(items: list[dict]) -> list[dict]:
        return [{"objective": i["objective"], "agency": name(i["agency"]), "text": _t(i["text"], lang),
                 "source": i18n.tr("src_" + i["source"], lang)} for i in items]
    cols = [("objective", "objective", "text"), ("agency", "agency", "text"), ("text", "title", "text"),
            ("source", "finding_source", "text")]
    return Section("analysis", i18n.tr("analysis", lang), [], [
        table("aar_strengths", lang, "strengths", cols, rows(d["strengths"])),
        table("aar_improvements", lang, "improvements", cols, rows(d["improvements"]))])


def lapses(d: dict, lang: str, name) -> Section:
    rows = [{"at": when(x["at"], lang), "message": x["message"], "notified": x["notified"]} for x in d["lapses"]]
    return Section("lapses", i18n.tr("lapses", lang), [], [table("aar_lapses", lang, "lapses", [
        ("at", "time", "text"), ("message", "message", "text"), ("notified", "notified", "text")], rows)])


def feedback(d: dict, lang: str, name) -> Section:
    rows = [{"participant": name(r["participant"]), "question": f"{r['number']}. {_t(r['question'], lang)}",
             "answer": r["answer"]} for r in d["survey"]]
    return Section("feedback", i18n.tr("feedback", lang), [], [table("aar_survey", lang, "feedback", [
        ("participant", "participant", "text"), ("question", "question", "text"), ("answer", "answer", "text")], rows)])


def plan(d: dict, lang: str, name) -> Section:
    rows = [{"id": a["id"], "title": a["title"], "objective": a["objective"], "agency": name(a["agency"]),
             "contact": a["contact"], "start": fmt.date(a["start"] + "T12:00:00+07:00", lang),
             "due": fmt.date(a["due"] + "T12:00:00+07:00", lang),
             "status": i18n.tr(a["status"], lang) + (f" — {i18n.tr('retested', lang)}" if a["retested_here"] else ""),
             "evidence": a["evidence"]} for a in d["actions"]]
    return Section("plan", i18n.tr("plan", lang), [], [table("aar_actions", lang, "plan", [
        ("id", "action_id", "code"), ("title", "action", "text"), ("objective", "objective", "text"),
        ("agency", "responsible", "text"), ("contact", "contact", "text"), ("start", "start", "text"),
        ("due", "due", "text"), ("status", "status", "text"), ("evidence", "evidence", "text")], rows)])


def definitions(d: dict, lang: str, name) -> Section:
    rows = [{"code": k, "definition": v[lang]} for k, v in d["definitions"].items()]
    return Section("definitions", i18n.tr("definitions", lang), [], [table(
        "aar_definitions", lang, "definitions", [("code", "code", "text"), ("definition", "definition", "text")], rows)])


SECTIONS = (overview, timeline, expectations, ratings, analysis, lapses, feedback, plan, definitions)


def build(data: dict[str, Any], lang: str = "vi", *, names: dict[str, str] | None = None,
          generated: datetime | None = None) -> Document:
    """The AAR of one drill run, in Vietnamese (default) or English."""
    i18n.check_lang(lang)
    o = data["overview"]
    name = _Names(names or {}, o["participants"], lang)
    meta = [(i18n.tr("aar_run", lang), o["run"]), (i18n.tr("scenario", lang), o["scenario"]),
            (i18n.tr("started", lang), when(o["started_at"], lang)),
            (i18n.tr("generated", lang), fmt.date(generated, lang) if generated else "—")]
    sections = [s(data, lang, name) for s in SECTIONS]
    title = i18n.tr("aar", lang)
    return Document("aar", title, _t(o["name"], lang), lang, meta, sections, data,
                    header=f"{title} — {_t(o['name'], lang)} — {o['run']}",
                    date=generated)
