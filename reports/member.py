"""The network-member report (Form 05 of Circular 20/2017/TT-BTTTT) from a period's incidents:
incidents per type; self-handled, with outside help, with foreign help, national help
requested; estimated damage; supporting organisations."""

from __future__ import annotations

from typing import Any

from . import i18n
from .cases import HELP
from .document import Document, Section, table
from .period import Period

TYPES = tuple(i18n.TYPES)


def form05(incidents: dict[str, Any]) -> dict[str, Any]:
    """Form 05 figures from the city's incident figures of the period. The total row is the sum
    of the rows (each incident is in exactly one type and one help column)."""
    rows = []
    for t in TYPES:
        items = [c for c in incidents["items"] if c["type"] == t]
        rows.append({"type": t, "total": len(items), **{h: sum(1 for c in items if c["help"] == h) for h in HELP},
                     "damage_vnd": sum(c["damage_vnd"] for c in items)})
    total = {"type": "total", **{k: sum(r[k] for r in rows) for k in ("total", *HELP, "damage_vnd")}}
    return {"by_type": rows, "total": total, "supporters": incidents["supporters"]}


def build(figures: dict[str, Any], period: Period, lang: str, meta: list[tuple[str, str]]) -> Document:
    f = form05(figures["city"]["incidents"])
    rows = [r | {"type": i18n.incident_type(r["type"], lang)} for r in f["by_type"]]
    rows.append(f["total"] | {"type": i18n.tr("total_row", lang), "_total": True})
    cols = [("type", "type", "text"), ("total", "incidents", "int"), ("self", "self", "int"),
            ("outside", "outside", "int"), ("foreign", "foreign", "int"), ("national", "national", "int"),
            ("damage_vnd", "damage", "int")]
    sup = [{"name": s} for s in f["supporters"]]
    notices = [i18n.tr("no_data_period", lang)] if figures["city"].get("no_data") else []
    sections = [Section("form05", i18n.tr("incidents_by_type", lang), [i18n.tr("form05_intro", lang)],
                        [table("form05", lang, "incidents_by_type", cols, rows)]),
                Section("supporters", i18n.tr("supporters", lang), [],
                        [table("supporters", lang, "supporters", [("name", "supporters", "text")], sup)])]
    return Document("member", i18n.tr("member", lang), i18n.period_name(period.label, lang).capitalize(), lang,
                    meta, sections, {"period": figures["period"], "form05": f}, notices=notices)
