"""Triage in the reports: accepted risks and false positives per agency (what, why, who approved,
until when), overdue findings, and the share fixed within deadline (docs/reports.md).

The figures come as plain values (``config`` reads them from the findings store:
:func:`findings.triage.decisions`, :func:`findings.deadlines.overdue` and
:func:`findings.deadlines.within_deadline`); :func:`apply` adds them to an agency's figures:

- a false positive is not an exposure: it leaves the exposure figures (and the ranking's
  exposure component);
- an accepted risk stays an exposure (the service is still open) and is *documented*: it is
  neither fixed nor late in the share fixed within deadline, which feeds ``time_to_fix``.
"""

from __future__ import annotations

from typing import Any

from . import i18n
from .document import Section, table

i18n.WORDS.update({   # the words of this section, beside the others (reports/i18n.py)
    "triage": ("Rủi ro được chấp nhận, cảnh báo sai và hạn khắc phục",
               "Accepted risks, false positives and remediation deadlines"),
    "triage_decisions": ("Rủi ro được chấp nhận và cảnh báo sai", "Accepted risks and false positives"),
    "decision": ("Quyết định", "Decision"), "accepted": ("Chấp nhận rủi ro", "Accepted risk"),
    "false_positive": ("Cảnh báo sai", "False positive"), "decided_by": ("Người quyết định", "Decided by"),
    "approved_by": ("Người phê duyệt", "Approved by"), "until": ("Hiệu lực đến", "Until"),
    "overdue": ("Quá hạn khắc phục", "Overdue findings"), "due": ("Hạn khắc phục", "Due"),
    "within_deadline": ("Tỷ lệ khắc phục đúng hạn", "Fixed within deadline"),
    "met": ("Đúng hạn", "In time"), "late": ("Trễ hạn", "Late"), "still_open": ("Còn mở quá hạn", "Open, overdue"),
    "documented": ("Chấp nhận (đã ghi nhận)", "Accepted (documented)"),
})


def apply(fig: dict[str, Any], t: dict[str, Any]) -> dict[str, Any]:
    """An agency's (or the city's) figures with its triage figures: ``t`` has ``decisions``,
    ``overdue`` and ``deadlines`` (met, late, overdue, accepted, pct)."""
    fps = {(d["host"], d["port"], d["check"]) for d in t["decisions"] if d["kind"] == "false_positive"}
    ex = fig["exposure"]
    gone = [i for i in ex["items"] if (i["host"], i["port"], i["check"]) in fps]
    if gone:
        ex["items"] = [i for i in ex["items"] if (i["host"], i["port"], i["check"]) not in fps]
        ex["open"] -= len(gone)
        for i in gone:
            ex["by_severity"][i["severity"]] -= 1
        fig["headline"]["exposure_open"] = ex["open"]
    accepted = {(d["host"], d["port"], d["check"]) for d in t["decisions"] if d["kind"] == "accepted"}
    for i in ex["items"]:      # an accepted risk stays listed, shown as documented
        i["accepted"] = (i["host"], i["port"], i["check"]) in accepted
    fig["triage"] = t
    return fig


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The city's triage figures from its agencies'."""
    keys = ("met", "late", "overdue", "accepted")
    d = {k: sum(p["deadlines"][k] for p in parts) for k in keys}
    due = d["met"] + d["late"] + d["overdue"]
    return {"decisions": [x for p in parts for x in p["decisions"]], "overdue": [x for p in parts for x in p["overdue"]],
            "deadlines": d | {"pct": round(100 * d["met"] / due, 1) if due else None}}


def section(f: dict, orgs: dict, lang: str) -> Section:
    """Per agency: the decisions in force, the overdue findings, the share fixed within deadline."""
    def name(aid: str) -> str:
        return orgs[aid].label(lang) if aid in orgs else aid
    def check(cid: str) -> str:
        return i18n.check_name(cid, lang, f.get("check_names"))
    title = i18n.tr("triage", lang)
    if "triage" not in f["city"]:
        return Section("triage", title, [i18n.tr("none", lang)])
    decisions, late, share = [], [], []
    for aid, fig in f["agencies"].items():
        t = fig.get("triage") or {"decisions": [], "overdue": [], "deadlines": {}}
        decisions += [{"agency": name(aid), **d, "kind": i18n.tr(d["kind"], lang), "check": check(d["check"]),
                       "severity": i18n.severity(d["severity"], lang)} for d in t["decisions"]]
        late += [{"agency": name(aid), **r, "check": check(r["check"]), "severity": i18n.severity(r["severity"], lang)}
                 for r in t["overdue"]]
        if t["deadlines"]:
            share.append({"agency": name(aid), **t["deadlines"]})
    where = [("agency", "agency", "text"), ("check", "check", "text"), ("host", "host", "code"),
             ("port", "port", "code")]
    return Section("triage", title, [], [
        table("triage_decisions", lang, "triage_decisions", where + [
            ("kind", "decision", "text"), ("severity", "severity", "text"), ("reason", "reason", "text"),
            ("by", "decided_by", "text"), ("approved_by", "approved_by", "text"), ("until", "until", "date")],
            decisions),
        table("triage_overdue", lang, "overdue", where + [("severity", "severity", "text"), ("due", "due", "date")],
              late),
        table("triage_within_deadline", lang, "within_deadline", [
            ("agency", "agency", "text"), ("met", "met", "int"), ("late", "late", "int"),
            ("overdue", "still_open", "int"), ("accepted", "documented", "int"), ("pct", "within_deadline", "pct")],
            share)])
