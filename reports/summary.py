"""The figures of one period for each agency and for the city, and the change between periods."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

from findings.query import Query

from . import cases as cs
from . import figures as fg
from .gather import Gathered, gather_many
from .period import Period


@dataclass(frozen=True)
class Org:
    """An agency as reports see it (plain values passed in by the command)."""

    id: str
    name: str
    name_en: str | None = None
    kind: str | None = None

    def label(self, lang: str) -> str:
        return self.name_en if lang == "en" and self.name_en else self.name


HEADLINE = ("hosts", "av_coverage_pct", "exposure_open", "backup_pct", "rogue_open", "detections",
            "incidents", "open_findings", "fixed")


_KEYS = ("state", "hosts", "detections", "case_times", "cases", "ratings", "actions")


def index(g: Gathered) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """The gathered rows split by agency, once (so a city of 300 agencies is not 300 scans)."""
    idx: dict[str, dict[str, list]] = defaultdict(lambda: {k: [] for k in _KEYS})
    for k in _KEYS:
        for r in getattr(g, k):
            idx[r["agency"]][k].append(r)
    return idx


def _subset(g: Gathered, agency: str | None, idx: dict | None) -> dict[str, Any]:
    if agency is None:
        return {k: getattr(g, k) for k in _KEYS}
    idx = idx if idx is not None else index(g)
    return idx[agency] if agency in idx else {k: [] for k in _KEYS}


def judge(g: Gathered, agency: str | None, idx: dict | None = None) -> dict[str, Any]:
    """The figures of one agency (or the city, ``agency=None``) from gathered rows."""
    s = _subset(g, agency, idx)
    hosts = {r["host"] for r in s["hosts"]}
    names = {r["host"]: r["host_name"] for r in s["state"] if r.get("host") and r.get("host_name")}
    case_items = cs.case_list(s["case_times"], s["cases"], g.period)
    has_data = bool(s["hosts"] or s["detections"] or case_items or s["ratings"])
    f = {
        "antivirus": fg.antivirus(s["state"], hosts, names),
        "exposure": fg.exposure(s["state"], g.period.start),
        "backups": fg.backups(s["state"]),
        "rogue": fg.rogue(s["state"], g.failed),
        "detections": fg.detections(s["detections"]),
        "incidents": cs.incidents(case_items),
        "drills": cs.drills(s["ratings"], s["actions"]),
        "open_by_age": fg.open_by_age(s["state"], g.period.end),
        "time_to_fix": fg.time_to_fix(s["state"], g.failed),
        "remedies": fg.remedies(s["state"], g.remediation),
    }
    f["no_data"] = not has_data
    f["headline"] = headline(f)
    return f


def headline(f: dict[str, Any]) -> dict[str, Any]:
    """The figures of the overview; all None ("no data", never zeros) for a period without any
    observation of the scope."""
    if f.get("no_data"):
        return {k: None for k in HEADLINE}
    return {"hosts": f["antivirus"]["hosts"], "av_coverage_pct": f["antivirus"]["coverage_pct"],
            "exposure_open": f["exposure"]["open"], "backup_pct": f["backups"]["pct"],
            "rogue_open": f["rogue"]["open"], "detections": f["detections"]["total"],
            "incidents": f["incidents"]["total"], "open_findings": sum(f["open_by_age"].values()),
            "fixed": f["time_to_fix"]["fixed"]}


def change(now: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """Per headline figure: now, before and the difference (None where either is missing)."""
    out = {}
    for k in HEADLINE:
        a, b = now.get(k), before.get(k)
        out[k] = {"now": a, "before": b, "delta": None if a is None or b is None else round(a - b, 1)}
    return out


def without(g: Gathered, false_positives: frozenset[tuple] | set[tuple]) -> Gathered:
    """The gathered rows without the findings declared false positives, keyed (agency, check,
    host, port): a false positive leaves every figure (exposure, remedies, open findings, ages,
    time to fix, the ranking), not only some."""
    if not false_positives:
        return g
    return replace(g, state=[r for r in g.state
                             if (r["agency"], r["check"], r.get("host"), r.get("port")) not in false_positives])


def period_figures(q: Query, period: Period, orgs: list[Org], *, agency: str | None = None,
                   compare: bool = True, false_positives: frozenset[tuple] = frozenset()) -> dict[str, Any]:
    """Everything the periodic report shows: per agency, the city, and the change since the
    previous period."""
    scope = (agency,) if agency else ()
    both = [without(g, false_positives)
            for g in gather_many(q, [period, period.previous()] if compare else [period], scope)]
    g, prev = both[0], (both[1] if compare else None)
    ids = [o.id for o in orgs if agency is None or o.id == agency]
    idx, pidx = index(g), (index(prev) if prev is not None else None)
    agencies = {}
    for aid in ids:
        fig = judge(g, aid, idx)
        if prev is not None:
            fig["change"] = change(fig["headline"], judge(prev, aid, pidx)["headline"])
        agencies[aid] = fig
    city = judge(g, agency)
    prev_city = judge(prev, agency) if prev is not None else None
    if prev_city is not None:
        city["change"] = change(city["headline"], prev_city["headline"])
    return {"period": {"label": period.label, "start": period.start.isoformat(), "end": period.end.isoformat()},
            "agencies": agencies, "city": city, "unknown_agencies": _unknown(g, ids),
            "exercise_names": g.exercise_names,
            "previous_no_data": prev_city is not None and prev_city["no_data"]}


def _unknown(g: Gathered, ids: list[str]) -> list[str]:
    """Agencies in the data that the configuration does not list (shown, never dropped silently)."""
    seen: dict[str, int] = defaultdict(int)
    for r in g.state:
        seen[r["agency"]] += 1
    return sorted(a for a in seen if a not in ids)
