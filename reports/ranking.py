"""The readiness ranking of agencies: a documented, reproducible score with what made it.

Each component is a number from 0 to 100, from the agency's figures of the period:
- coverage: antivirus coverage in percent;
- exposure: percent of the agency's hosts with no open forbidden service;
- backups: percent of backup checks passing;
- time_to_fix: the share of findings fixed within their remediation deadline (the profile's
  days per severity), when triage figures are given and some deadline fell in the period; an
  accepted risk is documented, neither fixed nor late, and left out of that share (see
  reports.triage). Otherwise: 100 at a median of 7 days or less, 0 at 90 days or more, linear
  between (100 when nothing had to be fixed);
- incidents: percent of incidents whose reporting deadlines were met (100 with no incident);
- drills: the mean drill rating (P 100, S 70, M 30, U 0).
A component without data scores 0 and is marked "no data". The score is the weighted mean of
the components with the weights of ``reports.weights`` (config): sum(w * c) / sum(w).
"""

from __future__ import annotations

from typing import Any

from findings.errors import UsageError

COMPONENTS = ("coverage", "exposure", "backups", "time_to_fix", "incidents", "drills")
FAST, SLOW = 7.0, 90.0


def _ttf(fig: dict) -> float | None:
    share = fig.get("triage", {}).get("deadlines", {}).get("pct")
    if share is not None:
        return share
    median = fig["time_to_fix"]["median_days"]
    if median is None:
        return 100.0 if not sum(fig["open_by_age"].values()) else None
    return round(max(0.0, min(100.0, 100 * (SLOW - median) / (SLOW - FAST))), 1)


def components(fig: dict[str, Any]) -> dict[str, float | None]:
    hosts = fig["antivirus"]["hosts"]
    exposed = len({i["host"] for i in fig["exposure"]["items"]})
    inc = fig["incidents"]
    return {
        "coverage": fig["antivirus"]["coverage_pct"],
        "exposure": round(100 * (hosts - exposed) / hosts, 1) if hosts else None,
        "backups": fig["backups"]["pct"],
        "time_to_fix": _ttf(fig),
        "incidents": round(100 * inc["deadline_met"] / inc["total"], 1) if inc["total"] else 100.0,
        "drills": fig["drills"]["score"],
    }


def weight_problems(weights: dict[str, float]) -> list[tuple[str | None, str]]:
    """What is wrong with ranking weights, as (weight name or None for all of them, message)."""
    out: list[tuple[str | None, str]] = []
    for name, w in weights.items():
        if name not in COMPONENTS:
            out.append((name, f"unknown ranking component {name!r}; the components: {', '.join(COMPONENTS)}"))
        elif w < 0:
            out.append((name, f"a weight is never negative ({w})"))
    if not out and (not weights or sum(weights.values()) <= 0):
        out.append((None, f"give positive weights of {', '.join(COMPONENTS)} (their sum is 0)"))
    return out


def check_weights(weights: dict[str, float]) -> dict[str, float]:
    problems = weight_problems(weights)
    if problems:
        raise UsageError("reports.weights: " + "; ".join(f"{name}: {msg}" if name else msg
                                                         for name, msg in problems))
    return {c: float(weights.get(c, 0.0)) for c in COMPONENTS}


def score(fig: dict[str, Any], weights: dict[str, float]) -> dict[str, Any]:
    """The score and its parts: each component's value, weight and points."""
    comp = components(fig)
    total_w = sum(weights.values())
    parts = {c: {"value": v, "weight": weights[c], "points": round((v or 0.0) * weights[c] / total_w, 2),
                 "no_data": v is None} for c, v in comp.items()}
    return {"score": round(sum(p["points"] for p in parts.values()), 1), "parts": parts}


def rank(per_period: list[tuple[str, dict[str, dict]]], weights: dict[str, float]) -> dict[str, Any]:
    """``per_period``: (label, {agency: figures}) oldest first; the last is the ranked period.
    Ties share a rank; order within a tie is by agency id (reproducible)."""
    weights = check_weights(weights)
    label, current = per_period[-1]
    scored = {aid: score(fig, weights) for aid, fig in current.items()}
    trend = {aid: [{"period": lbl, "score": score(figs[aid], weights)["score"] if aid in figs else None}
                   for lbl, figs in per_period] for aid in current}
    order = sorted(scored, key=lambda a: (-scored[a]["score"], a))
    rows, last, last_rank = [], None, 0
    for i, aid in enumerate(order, 1):
        if scored[aid]["score"] != last:
            last, last_rank = scored[aid]["score"], i
        rows.append({"rank": last_rank, "agency": aid, **scored[aid], "trend": trend[aid]})
    return {"period": label, "weights": weights, "ranking": rows}


def build(result: dict[str, Any], names: dict[str, str], lang: str, meta: list[tuple[str, str]]):
    """The ranking as a document: the ranking with its trend, each score's parts, the method."""
    from . import fmt, i18n
    from .document import Bars, Document, Section, table
    label = {"exposure": "exposure_open", "incidents": "incident_handling", "backups": "backups"}
    comp_cols = [(c, label.get(c, c), "num") for c in COMPONENTS]
    rows, parts = [], []
    for r in result["ranking"]:
        name = names.get(r["agency"], r["agency"])
        trend = " → ".join(fmt.number(t["score"], lang, 1) for t in r["trend"])
        rows.append({"rank": r["rank"], "agency": name, "score": r["score"], "trend": trend})
        parts.append({"agency": name, **{c: r["parts"][c]["points"] for c in COMPONENTS},
                      "score": r["score"], "no_data": [i18n.tr(label.get(c, c), lang) for c in COMPONENTS
                                                       if r["parts"][c]["no_data"]]})
    w = result["weights"]
    method = i18n.tr("method", lang) + ": " + " + ".join(
        f"{fmt.number(w[c], lang, 2)} × {i18n.tr(label.get(c, c), lang)}" for c in COMPONENTS)
    chart = Bars(i18n.tr("score", lang), [(r["agency"], r["score"]) for r in rows][:40], "int", 100)
    sections = [
        Section("ranking", i18n.tr("ranking", lang), [method], [table(
            "ranking", lang, "ranking", [("rank", "rank", "int"), ("agency", "agency", "text"),
                                         ("score", "score", "num"), ("trend", "trend", "text")], rows)], [chart]),
        Section("components", i18n.tr("components", lang), [], [table(
            "components", lang, "components", [("agency", "agency", "text")] + comp_cols
            + [("score", "score", "num"), ("no_data", "no_data", "text")], parts)])]
    return Document("ranking", i18n.tr("ranking", lang), result["period"], lang, meta, sections, result)
