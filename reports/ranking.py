"""The readiness ranking of agencies: a documented, reproducible score with what made it.

Each component is a number from 0 to 100, from the agency's figures of the period:
- coverage: antivirus coverage in percent (no data: no host was seen in the period);
- exposure: percent of the agency's hosts with no open forbidden service (false positives left
  out; no data: no host was seen);
- backups: percent of backup checks passing (no data: no backup was checked);
- time_to_fix: the share of findings fixed within their remediation deadline (the profile's
  days per severity), when triage figures are given and some deadline fell in the period; an
  accepted risk is documented, neither fixed nor late, and left out of that share (see
  reports.triage). Otherwise: 100 at a median of 7 days or less, 0 at 90 days or more, linear
  between (no data: nothing was fixed and nothing is open);
- incidents: percent of the incidents' reporting deadlines that were decided and met (a case
  whose deadlines have not come yet counts neither way; no data: no incident with a decided
  deadline — an agency without incidents is not given full marks over one still in time);
- drills: the mean drill rating (P 100, S 70, M 30, U 0; no data: no rating in the period).
A component without data is left out: the score is the weighted mean of the components that
have data, sum(w * c) / sum(w), with the weights of ``reports.weights`` (config). An agency
without any data in the period has no score and is listed last.
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
        return None
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
        "incidents": (round(100 * inc["deadline_met"] / decided, 1)
                      if (decided := inc["deadline_met"] + inc["deadline_missed"]) else None),
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
    """The score and its parts: each component's value, weight and points. Components without
    data are left out of the mean; no component with data (or no data at all): no score."""
    comp = {c: None for c in COMPONENTS} if fig.get("no_data") else components(fig)
    total_w = sum(w for c, w in weights.items() if comp[c] is not None)
    parts = {c: {"value": v, "weight": weights[c], "no_data": v is None,
                 "points": round(v * weights[c] / total_w, 2) if v is not None and total_w else None}
             for c, v in comp.items()}
    if not total_w:
        return {"score": None, "parts": parts}
    return {"score": round(sum(p["points"] for p in parts.values() if p["points"] is not None), 1), "parts": parts}


def rank(per_period: list[tuple[str, dict[str, dict]]], weights: dict[str, float]) -> dict[str, Any]:
    """``per_period``: (label, {agency: figures}) oldest first; the last is the ranked period.
    Ties share a rank; order within a tie is by agency id (reproducible)."""
    weights = check_weights(weights)
    label, current = per_period[-1]
    scored = {aid: score(fig, weights) for aid, fig in current.items()}
    trend = {aid: [{"period": lbl, "score": score(figs[aid], weights)["score"] if aid in figs else None}
                   for lbl, figs in per_period] for aid in current}
    order = sorted(scored, key=lambda a: (scored[a]["score"] is None, -(scored[a]["score"] or 0), a))
    rows, last, last_rank = [], None, 0
    for i, aid in enumerate(order, 1):
        if scored[aid]["score"] != last:
            last, last_rank = scored[aid]["score"], i
        rows.append({"rank": last_rank, "agency": aid, **scored[aid], "trend": trend[aid]})
    return {"period": label, "weights": weights, "ranking": rows}


LABEL = {"exposure": "exposure_score", "incidents": "incident_handling"}


def build(result: dict[str, Any], names: dict[str, str], lang: str, meta: list[tuple[str, str]]):
    """The ranking as a document: the ranking with its trend (one column per period), each
    score's parts, and how each component is computed, with its weight and its "no data" rule."""
    from . import fmt, i18n
    from .document import Bars, Document, Section, table
    nodata = i18n.tr("no_data", lang)

    def val(v):
        return nodata if v is None else fmt.number(v, lang, 1)
    periods = [t["period"] for t in result["ranking"][0]["trend"]] if result["ranking"] else []
    rows, parts = [], []
    for r in result["ranking"]:
        name = names.get(r["agency"], r["agency"])
        rows.append({"rank": r["rank"] if r["score"] is not None else "—", "agency": name, "score": val(r["score"]),
                     **{f"p{i}": val(t["score"]) for i, t in enumerate(r["trend"][:-1])}})
        parts.append({"agency": name, **{c: val(r["parts"][c]["value"]) for c in COMPONENTS},
                      "score": val(r["score"])})
    w = result["weights"]
    trend_cols = [(f"p{i}", i18n.period_name(p, lang), "text") for i, p in enumerate(periods[:-1])]
    method = [{"component": i18n.tr(LABEL.get(c, c), lang), "weight": fmt.number(w[c], lang, 2),
               "formula": i18n.tr(f"f_{c}", lang), "no_data": i18n.tr(f"nd_{c}", lang)} for c in COMPONENTS]
    chart = Bars(i18n.tr("score_axis", lang), [(names.get(r["agency"], r["agency"]), r["score"])
                                               for r in result["ranking"] if r["score"] is not None][:40], "num", 100)
    rank_cols = [("rank", "rank", "int"), ("agency", "agency", "text"), ("score", "score_now", "text")]
    sections = [
        Section("ranking", i18n.tr("rank_table", lang), [i18n.tr("rank_intro", lang, period=i18n.period_name(
            result["period"], lang))], [table("ranking", lang, "rank_table", rank_cols + trend_cols, rows)], [chart]),
        Section("components", i18n.tr("components", lang), [i18n.tr("components_intro", lang)], [table(
            "components", lang, "components", [("agency", "agency", "text")]
            + [(c, LABEL.get(c, c), "text") for c in COMPONENTS] + [("score", "score", "text")], parts)]),
        Section("method", i18n.tr("method", lang), [i18n.tr("method_intro", lang)], [table(
            "method", lang, "method", [("component", "component", "text"), ("weight", "weight", "text"),
                                       ("formula", "formula", "text"), ("no_data", "when_no_data", "text")], method)])]
    return Document("ranking", i18n.tr("ranking", lang), i18n.period_name(result["period"], lang), lang, meta,
                    sections, result)
