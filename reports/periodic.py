"""The periodic report (6 months or a year), for the city or one agency: figures → document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from . import fmt, i18n
from . import triage as triage_section
from .document import Bars, Document, Section, table
from .period import Period
from .summary import HEADLINE, Org

SEVS = ("critical", "high", "medium", "low", "info")


def _name(orgs: dict[str, Org], aid: str, lang: str) -> str:
    return orgs[aid].label(lang) if aid in orgs else aid


def _each(f: dict, orgs: dict[str, Org], lang: str, key: str) -> list[dict[str, Any]]:
    """Detail rows of every agency (city report) with the agency's name in front."""
    rows = []
    for aid, fig in f["agencies"].items():
        for item in _items(fig, key):
            rows.append({"agency": _name(orgs, aid, lang)} | item)
    return rows


def _items(fig: dict, key: str) -> list[dict]:
    part, sub = key.split(".")
    return list(fig[part][sub])


def overview(f: dict, orgs: dict, lang: str) -> Section:
    rows = [{"agency": _name(orgs, aid, lang)} | fig["headline"] for aid, fig in f["agencies"].items()]
    cols = [("agency", "agency", "text"), ("hosts", "hosts", "int"), ("av_coverage_pct", "av_pct", "pct"),
            ("exposure_open", "exposure_open", "int"), ("backup_pct", "backup_pct", "pct"),
            ("rogue_open", "rogue_open", "int"), ("detections", "detections", "int"),
            ("incidents", "incidents", "int"), ("open_findings", "open_findings", "int"), ("fixed", "fixed", "int")]
    city = f["city"]["headline"]
    chart = Bars(i18n.tr("av_pct", lang), [(r["agency"], r["av_coverage_pct"]) for r in rows][:40], "pct", 100)
    paras = [(f"{i18n.tr('hosts', lang)}: {fmt.number(city['hosts'], lang)} · {i18n.tr('av_pct', lang)}: "
              f"{fmt.percent(city['av_coverage_pct'], lang)} · {i18n.tr('exposure_open', lang)}: "
              f"{fmt.number(city['exposure_open'], lang)} · {i18n.tr('incidents', lang)}: "
              f"{fmt.number(city['incidents'], lang)}")]
    if f.get("unknown_agencies"):
        paras.append(i18n.tr("unknown_agencies", lang, ids=", ".join(f["unknown_agencies"])))
    return Section("overview", i18n.tr("overview", lang), paras,
                   [table("overview", lang, "overview", cols, rows)], [chart])


def antivirus(f: dict, orgs: dict, lang: str) -> Section:
    rows = [r | {"reason": [i18n.tr(x, lang) if x == "no-data" else x for x in r["reason"]]}
            for r in _each(f, orgs, lang, "antivirus.uncovered")]
    cols = [("agency", "agency", "text"), ("host", "host", "text"), ("host_name", "host_name", "text"),
            ("reason", "reason", "text")]
    av = f["city"]["antivirus"]
    para = (f"{i18n.tr('covered', lang)}: {fmt.number(av['covered'], lang)} / {fmt.number(av['hosts'], lang)}"
            f" ({fmt.percent(av['coverage_pct'], lang)})")
    return Section("antivirus", i18n.tr("av", lang), [para], [table("av_uncovered", lang, "uncovered", cols, rows)])


def exposure(f: dict, orgs: dict, lang: str) -> Section:
    sev_rows = [{"agency": _name(orgs, aid, lang), **fig["exposure"]["by_severity"], "new": fig["exposure"]["new"]}
                for aid, fig in f["agencies"].items() if fig["exposure"]["open"]]
    sev_cols = [("agency", "agency", "text")] + [(s, s, "int") for s in SEVS] + [("new", "new", "int")]
    items = [r | {"severity": i18n.severity(r["severity"], lang)} for r in _each(f, orgs, lang, "exposure.items")]
    cols = [("agency", "agency", "text"), ("host", "host", "text"), ("host_name", "host_name", "text"),
            ("port", "port", "text"), ("banner", "banner", "text"), ("check", "check", "text"),
            ("severity", "severity", "text"),
            ("first_seen", "first_seen", "date")]
    by = f["city"]["exposure"]["by_severity"]
    chart = Bars(i18n.tr("exposure_open", lang), [(i18n.severity(s, lang), by[s]) for s in SEVS])
    return Section("exposure", i18n.tr("exposure", lang), [],
                   [table("exposure_by_severity", lang, "exposure_open", sev_cols, sev_rows),
                    table("exposure_items", lang, "exposure", cols, items)], [chart])


def backups(f: dict, orgs: dict, lang: str) -> Section:
    rows = [{"agency": _name(orgs, aid, lang), **{k: fig["backups"][k] for k in ("checked", "compliant", "pct")}}
            for aid, fig in f["agencies"].items() if fig["backups"]["checked"]]
    failing = _each(f, orgs, lang, "backups.failing")
    return Section("backups", i18n.tr("backups", lang), [], [
        table("backups", lang, "backups", [("agency", "agency", "text"), ("checked", "checked", "int"),
                                           ("compliant", "compliant", "int"), ("pct", "backup_pct", "pct")], rows),
        table("backups_failing", lang, "backup_failing", [("agency", "agency", "text"), ("host", "host", "text"),
              ("host_name", "host_name", "text"), ("check", "check", "text"), ("verdict", "verdict", "text")], failing)])


def rogue(f: dict, orgs: dict, lang: str) -> Section:
    rows = _each(f, orgs, lang, "rogue.items")
    r = f["city"]["rogue"]
    para = f"{i18n.tr('rogue_open', lang)}: {fmt.number(r['open'], lang)} · {i18n.tr('seen', lang)}: {fmt.number(r['seen'], lang)}"
    return Section("rogue", i18n.tr("rogue", lang), [para], [table(
        "rogue", lang, "rogue_open", [("agency", "agency", "text"), ("host", "host", "text"),
                                      ("host_name", "host_name", "text"), ("first_seen", "first_seen", "date")], rows)])


def detections(f: dict, orgs: dict, lang: str) -> Section:
    rows = [{"agency": _name(orgs, aid, lang), "check": check, "count": n}
            for aid, fig in f["agencies"].items() for check, n in fig["detections"]["by_check"].items()]
    para = f"{i18n.tr('detections', lang)}: {fmt.number(f['city']['detections']['total'], lang)}"
    return Section("detections", i18n.tr("detections", lang), [para], [table(
        "detections", lang, "detections", [("agency", "agency", "text"), ("check", "check", "text"),
                                           ("count", "count", "int")], rows)])


def incidents(f: dict, orgs: dict, lang: str) -> Section:
    inc = f["city"]["incidents"]
    types = [{"type": i18n.incident_type(k, lang), "count": n} for k, n in inc["by_type"].items()]
    summary = [{"figure": i18n.tr(k, lang), "value": inc[v]} for k, v in (
        ("incidents", "total"), ("alone", "alone"), ("helped", "helped"), ("contain_h", "contain_hours_avg"),
        ("close_h", "close_hours_avg"), ("deadline_met", "deadline_met"), ("deadline_missed", "deadline_missed"))]
    items = [{"agency": _name(orgs, c["agency"], lang), "id": c["id"], "title": c["title"],
              "type": i18n.incident_type(c["type"], lang), "help": i18n.tr(c["help"], lang), "opened": c["opened"],
              "contain_hours": c["contain_hours"], "close_hours": c["close_hours"]} for c in inc["items"]]
    return Section("incidents", i18n.tr("incidents", lang), [], [
        table("incidents_summary", lang, "incidents", [("figure", "figure", "text"), ("value", "count", "num")], summary),
        table("incidents_by_type", lang, "type", [("type", "type", "text"), ("count", "count", "int")], types),
        table("incidents_items", lang, "incidents", [
            ("agency", "agency", "text"), ("id", "check", "text"), ("title", "title", "text"), ("type", "type", "text"),
            ("help", "helped", "text"), ("opened", "first_seen", "date"), ("contain_hours", "contain_h", "num"),
            ("close_hours", "close_h", "num")], items)])


def drills(f: dict, orgs: dict, lang: str) -> Section:
    d = f["city"]["drills"]
    if not d["held"] and not d["open_actions"]:
        return Section("drills", i18n.tr("drills", lang), [i18n.tr("no_drill", lang)])
    ratings = [{"agency": _name(orgs, aid, lang), **fig["drills"]["ratings"], "score": fig["drills"]["score"]}
               for aid, fig in f["agencies"].items() if fig["drills"]["held"]]
    acts = _each(f, orgs, lang, "drills.open_actions")
    return Section("drills", i18n.tr("drills", lang), [f"{i18n.tr('exercise', lang)}: {', '.join(d['exercises'])}"], [
        table("drill_ratings", lang, "rating", [("agency", "agency", "text"), ("P", "P", "int"), ("S", "S", "int"),
              ("M", "M", "int"), ("U", "U", "int"), ("score", "score", "num")], ratings),
        table("drill_actions", lang, "open_actions", [("agency", "agency", "text"), ("exercise", "exercise", "text"),
              ("title", "title", "text"), ("due", "due", "text")], acts)])


def ages(f: dict, orgs: dict, lang: str) -> Section:
    rows = [{"agency": _name(orgs, aid, lang), **fig["open_by_age"], "ttf": fig["time_to_fix"]["median_days"]}
            for aid, fig in f["agencies"].items()]
    buckets = list(f["city"]["open_by_age"])
    chart = Bars(i18n.tr("age", lang), [(b, f["city"]["open_by_age"][b]) for b in buckets])
    return Section("age", i18n.tr("age", lang), [], [table(
        "open_by_age", lang, "age", [("agency", "agency", "text")] + [(b, b, "int") for b in buckets]
        + [("ttf", "ttf", "num")], rows)], [chart])


def changes(f: dict, orgs: dict, lang: str) -> Section:
    ch = f["city"].get("change", {})
    rows = [{"figure": i18n.tr(k, lang), **ch[k]} for k in HEADLINE if k in ch]
    return Section("change", i18n.tr("change", lang), [], [table(
        "change", lang, "change", [("figure", "figure", "text"), ("now", "now", "num"), ("before", "before", "num"),
                                   ("delta", "delta", "delta")], rows)])


def remedies(f: dict, orgs: dict, lang: str) -> Section:
    ranked = sorted(f["agencies"].items(), key=lambda kv: -sum(r["risk"] for r in kv[1]["remedies"]))
    rows = []
    for aid, fig in ranked:
        for r in fig["remedies"][:10]:
            text = r["remediation"].get(lang) or i18n.tr("remedy_default", lang, check=r["check"])
            rows.append({"agency": _name(orgs, aid, lang), "check": r["name"] or r["check"], "count": r["count"],
                         "severity": i18n.severity(r["max_severity"], lang), "risk": r["risk"], "remedy": text})
    return Section("remedies", i18n.tr("remedies", lang), [], [table(
        "remedies", lang, "remedies", [("agency", "agency", "text"), ("check", "check", "text"),
                                       ("count", "count", "int"), ("severity", "severity", "text"),
                                       ("risk", "risk", "int"), ("remedy", "remedy", "text")], rows)])


SECTIONS = (overview, antivirus, exposure, backups, rogue, detections, incidents, drills, ages, changes, remedies,
            triage_section.section)


def build(figures: dict, period: Period, orgs: list[Org], lang: str, *, agency: str | None = None,
          source: str = "", generated: datetime | None = None) -> Document:
    by_id = {o.id: o for o in orgs}
    scope = _name(by_id, agency, lang) if agency else i18n.tr("city_scope", lang)
    meta = [(i18n.tr("period", lang), f"{period.label}: " + i18n.tr(
                "from_to", lang, a=fmt.date(period.start, lang), b=fmt.date(period.last_day, lang))),
            (i18n.tr("scope", lang), scope), (i18n.tr("source", lang), source),
            (i18n.tr("generated", lang), fmt.date(generated, lang) if generated else "—")]
    sections = [s(figures, by_id, lang) for s in SECTIONS]
    return Document("periodic", i18n.tr("periodic", lang), scope, lang, meta, sections, figures)
