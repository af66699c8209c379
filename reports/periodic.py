"""The periodic report (6 months or a year), for the city or one agency: figures → document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from . import fmt, i18n
from . import triage as triage_section
from .document import PAPER, Bars, Document, Official, Section, table
from .period import Period
from .summary import HEADLINE, Org

SEVS = ("critical", "high", "medium", "low", "info")
LABELS = {"hosts": "hosts", "av_coverage_pct": "av_pct", "backup_pct": "backup_pct"}


def _name(orgs: dict[str, Org], aid: str, lang: str) -> str:
    return orgs[aid].label(lang) if aid in orgs else aid


def _check(f: dict, cid: str, lang: str) -> str:
    """A check's name in the reader's language (the catalogues' names, ``f["check_names"]``)."""
    return i18n.check_name(cid, lang, f.get("check_names"))


def _nodata(lang: str) -> str:
    return i18n.tr("no_data", lang)


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
    rows = [{"agency": _name(orgs, aid, lang) + (f" ({_nodata(lang)})" if fig.get("no_data") else "")}
            | fig["headline"] for aid, fig in f["agencies"].items()]
    cols = [("agency", "agency", "text"), ("hosts", "hosts", "int"), ("av_coverage_pct", "av_pct", "pct"),
            ("exposure_open", "exposure_open", "int"), ("backup_pct", "backup_pct", "pct"),
            ("rogue_open", "rogue_open", "int"), ("detections", "detections", "int"),
            ("incidents", "incidents", "int"), ("open_findings", "open_findings", "int"), ("fixed", "fixed", "int")]
    city = f["city"]["headline"]
    chart = Bars(i18n.tr("av_pct", lang) + " (%)", [(r["agency"], r["av_coverage_pct"]) for r in rows
                                                    if r["av_coverage_pct"] is not None][:40], "pct", 100)
    if f["city"].get("no_data"):
        return Section("overview", i18n.tr("overview", lang), [i18n.tr("no_data_period", lang)])
    paras = [(f"{i18n.tr('hosts', lang)}: {fmt.number(city['hosts'], lang)} · {i18n.tr('av_pct', lang)}: "
              f"{fmt.percent(city['av_coverage_pct'], lang)} · {i18n.tr('exposure_open', lang)}: "
              f"{fmt.number(city['exposure_open'], lang)} · {i18n.tr('incidents', lang)}: "
              f"{fmt.number(city['incidents'], lang)}")]
    if f.get("unknown_agencies"):
        paras.append(i18n.tr("unknown_agencies", lang, ids=", ".join(f["unknown_agencies"])))
    return Section("overview", i18n.tr("overview", lang), paras,
                   [table("overview", lang, "overview", cols, rows)], [chart] if chart.items else [])


def antivirus(f: dict, orgs: dict, lang: str) -> Section:
    rows = [r | {"reason": [i18n.tr(x, lang) if x == "no-data" else _check(f, x, lang) for x in r["reason"]]}
            for r in _each(f, orgs, lang, "antivirus.uncovered")]
    cols = [("agency", "agency", "text"), ("host", "host", "code"), ("host_name", "host_name", "code"),
            ("reason", "reason", "text")]
    av = f["city"]["antivirus"]
    para = (f"{i18n.tr('covered', lang)}: {fmt.number(av['covered'], lang)} / {fmt.number(av['hosts'], lang)}"
            f" ({fmt.percent(av['coverage_pct'], lang)})")
    return Section("antivirus", i18n.tr("av", lang), [para], [table("av_uncovered", lang, "uncovered", cols, rows)])


def exposure(f: dict, orgs: dict, lang: str) -> Section:
    sev_rows = [{"agency": _name(orgs, aid, lang), **fig["exposure"]["by_severity"], "new": fig["exposure"]["new"]}
                for aid, fig in f["agencies"].items() if fig["exposure"]["open"]]
    sev_cols = [("agency", "agency", "text")] + [(s, s, "int") for s in SEVS] + [("new", "new", "int")]
    items = [r | {"severity": i18n.severity(r["severity"], lang) + (
                  f" — {i18n.tr('documented', lang)}" if r.get("accepted") else ""), "check": _check(f, r["check"], lang)}
             for r in _each(f, orgs, lang, "exposure.items")]
    cols = [("agency", "agency", "text"), ("host", "host", "code"), ("host_name", "host_name", "code"),
            ("port", "port", "code"), ("check", "check", "text"), ("banner", "banner", "text"),
            ("severity", "severity", "text"),
            ("first_seen", "first_seen", "date")]
    by = f["city"]["exposure"]["by_severity"]
    chart = Bars(i18n.tr("exposure_open", lang) + " " + i18n.tr("per_severity", lang),
                 [(i18n.severity(s, lang), by[s]) for s in SEVS])
    return Section("exposure", i18n.tr("exposure", lang), [],
                   [table("exposure_by_severity", lang, "exposure_open", sev_cols, sev_rows),
                    table("exposure_items", lang, "exposure", cols, items)], [chart])


def _in(name: dict[str, str] | str | None, lang: str) -> str | None:
    """A configured name in the reader's language ({vi, en}; a plain string as it is)."""
    return name.get(lang) or name.get("vi") if isinstance(name, dict) else name


def backups(f: dict, orgs: dict, lang: str) -> Section:
    rows = [{"agency": _name(orgs, aid, lang), **{k: fig["backups"][k] for k in ("checked", "compliant", "pct")}}
            for aid, fig in f["agencies"].items() if fig["backups"]["checked"]]
    systems, names = f.get("host_systems") or {}, f.get("system_names") or {}   # by address; by system id
    failing = [r | {"check": _check(f, r["check"], lang), "verdict": i18n.verdict(r["verdict"], lang),
                    "system": _in(systems.get(r["host"]) or names.get(r.get("subject")), lang) or "—",
                    "host_name": r.get("host_name") or (f.get("system_hosts") or {}).get(r.get("subject"))}
               for r in _each(f, orgs, lang, "backups.failing")]
    return Section("backups", i18n.tr("backups", lang), [], [
        table("backups", lang, "backups", [("agency", "agency", "text"), ("checked", "checked", "int"),
                                           ("compliant", "compliant", "int"), ("pct", "backup_pct", "pct")], rows),
        table("backups_failing", lang, "backup_failing", [("agency", "agency", "text"), ("system", "system", "text"),
              ("host_name", "host_name", "code"), ("host", "host", "code"), ("check", "check", "text"),
              ("verdict", "verdict", "text")], failing)])


def rogue(f: dict, orgs: dict, lang: str) -> Section:
    rows = _each(f, orgs, lang, "rogue.items")
    r = f["city"]["rogue"]
    para = f"{i18n.tr('rogue_open', lang)}: {fmt.number(r['open'], lang)} · {i18n.tr('seen', lang)}: {fmt.number(r['seen'], lang)}"
    return Section("rogue", i18n.tr("rogue", lang), [para], [table(
        "rogue", lang, "rogue_open", [("agency", "agency", "text"), ("host", "host", "code"),
                                      ("host_name", "host_name", "code"), ("first_seen", "first_seen", "date")], rows)])


def detections(f: dict, orgs: dict, lang: str) -> Section:
    rows = [{"agency": _name(orgs, aid, lang), "check": _check(f, check, lang), "count": n}
            for aid, fig in f["agencies"].items() for check, n in fig["detections"]["by_check"].items()]
    para = f"{i18n.tr('detections', lang)}: {fmt.number(f['city']['detections']['total'], lang)}"
    return Section("detections", i18n.tr("detections", lang), [para], [table(
        "detections", lang, "detections", [("agency", "agency", "text"), ("check", "check", "text"),
                                           ("count", "count", "int")], rows)])


def incidents(f: dict, orgs: dict, lang: str) -> Section:
    inc = f["city"]["incidents"]
    types = [{"type": i18n.incident_type(k, lang), "count": n} for k, n in inc["by_type"].items()]
    summary = [{"figure": i18n.tr(k, lang), "value": fmt.number(inc[v], lang, 1 if v.endswith("_avg") else 0)}
               for k, v in (("incidents", "total"), ("alone", "alone"), ("helped", "helped"),
                            ("contain_h", "contain_hours_avg"), ("close_h", "close_hours_avg"),
                            ("deadline_met", "deadline_met"), ("deadline_missed", "deadline_missed"))]
    titles = f.get("playbook_titles") or {}
    items = [{"agency": _name(orgs, c["agency"], lang), "id": c["id"],
              "title": (titles.get(c.get("playbook")) or {}).get(lang) or c["title"],
              "type": i18n.incident_type(c["type"], lang), "help": i18n.tr(c["help"], lang), "opened": c["opened"],
              "contain_hours": c["contain_hours"], "close_hours": c["close_hours"]} for c in inc["items"]]
    return Section("incidents", i18n.tr("incidents", lang), [], [
        table("incidents_summary", lang, "incidents", [("figure", "figure", "text"), ("value", "value", "num")], summary),
        table("incidents_by_type", lang, "type", [("type", "type", "text"), ("count", "count", "int")], types),
        table("incidents_items", lang, "incidents", [
            ("agency", "agency", "text"), ("id", "incident_id", "code"), ("title", "title", "text"), ("type", "type", "text"),
            ("help", "helped", "text"), ("opened", "opened", "date"), ("contain_hours", "contain_h", "num"),
            ("close_hours", "close_h", "num")], items)])


def drills(f: dict, orgs: dict, lang: str) -> Section:
    d = f["city"]["drills"]
    if not d["held"] and not d["open_actions"]:
        return Section("drills", i18n.tr("drills", lang), [i18n.tr("no_drill", lang)])
    ratings = [{"agency": _name(orgs, aid, lang), **fig["drills"]["ratings"], "score": fig["drills"]["score"]}
               for aid, fig in f["agencies"].items() if fig["drills"]["held"]]
    acts = _each(f, orgs, lang, "drills.open_actions")
    names = f.get("exercise_names") or {}
    held = ", ".join(names.get(x, {}).get(lang) or x for x in d["exercises"])
    acts = [a | {"exercise": names.get(a["exercise"], {}).get(lang) or a["exercise"]} for a in acts]
    return Section("drills", i18n.tr("drills", lang), [f"{i18n.tr('exercise', lang)}: {held}"], [
        table("drill_ratings", lang, "rating", [("agency", "agency", "text"), ("P", "P", "int"), ("S", "S", "int"),
              ("M", "M", "int"), ("U", "U", "int"), ("score", "score", "num")], ratings),
        table("drill_actions", lang, "open_actions", [("agency", "agency", "text"), ("exercise", "exercise", "text"),
              ("title", "title", "text"), ("due", "due", "date")], acts)])


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
    pct = ("av_coverage_pct", "backup_pct")
    rows = [{"figure": i18n.tr(LABELS.get(k, k), lang),
             **{c: (fmt.percent(v, lang) if k in pct else fmt.number(v, lang)) if c != "delta" or v is None
                else fmt.signed(v, lang, 1 if k in pct else 0) + (" %" if k in pct else "")
                for c, v in ch[k].items()}} for k in HEADLINE if k in ch]
    paras = [i18n.tr("no_data_previous", lang)] if f.get("previous_no_data") else []
    return Section("change", i18n.tr("change", lang), paras, [table(
        "change", lang, "change", [("figure", "figure", "text"), ("now", "now", "num"), ("before", "before", "num"),
                                   ("delta", "delta", "num")], rows)])


def remedies(f: dict, orgs: dict, lang: str) -> Section:
    ranked = sorted(f["agencies"].items(), key=lambda kv: -sum(r["risk"] for r in kv[1]["remedies"]))
    rows = []
    for aid, fig in ranked:
        for r in fig["remedies"][:10]:
            text = r["remediation"].get(lang) or i18n.tr("remedy_default", lang, check=_check(f, r["check"], lang))
            rows.append({"agency": _name(orgs, aid, lang), "check": _check(f, r["check"], lang), "count": r["count"],
                         "severity": i18n.severity(r["max_severity"], lang), "risk": r["risk"], "remedy": text})
    return Section("remedies", i18n.tr("remedies", lang), [], [table(
        "remedies", lang, "remedies", [("agency", "agency", "text"), ("check", "check", "text"),
                                       ("count", "count", "int"), ("severity", "severity", "text"),
                                       ("risk", "risk", "int"), ("remedy", "remedy", "text")], rows)])


SECTIONS = (overview, antivirus, exposure, backups, rogue, detections, incidents, drills, ages, changes, remedies,
            triage_section.section)


def build(figures: dict, period: Period, orgs: list[Org], lang: str, *, agency: str | None = None,
          source: str = "", generated: datetime | None = None, paper: dict | None = None,
          official: Official | None = None) -> Document:
    by_id = {o.id: o for o in orgs}
    scope = _name(by_id, agency, lang) if agency else i18n.tr("city_scope", lang)
    meta = period_meta(period, lang, scope, source, generated)
    sections = [s(figures, by_id, lang) for s in SECTIONS]
    notices = [i18n.tr("no_data_period", lang)] if figures["city"].get("no_data") else []
    title = i18n.tr("periodic", lang)
    return Document("periodic", title, f"{scope} — {i18n.period_name(period.label, lang)}", lang, meta, sections,
                    figures, notices=notices, header=f"{title} — {scope} — {i18n.period_name(period.label, lang)}",
                    official=official, paper=paper or dict(PAPER), date=generated)


def period_meta(period: Period, lang: str, scope: str, source: str, generated: datetime | None) -> list:
    """The facts under a document's title: period (in words, with its dates), scope, source, date."""
    span = i18n.tr("from_to", lang, a=fmt.date(period.start, lang), b=fmt.date(period.last_day, lang))
    return [(i18n.tr("period", lang), i18n.period_name(period.label, lang).capitalize() + f" ({span[:1].lower()}{span[1:]})"),
            (i18n.tr("scope", lang), scope), (i18n.tr("source", lang), i18n.source_name(source, lang)),
            (i18n.tr("generated", lang), fmt.date(generated, lang) if generated else "—")]
