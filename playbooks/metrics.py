"""Time to acknowledge, contain and close, per case and per playbook, aggregated in SQL (for the
reports: ``case_metrics(store, since, until)``). Times are seconds from detection."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from findings.model import iso
from findings.store import Store

from .casedb import ensure_tables

_SPAN = "(julianday({col}) - julianday(detected_at)) * 86400.0"


def case_metrics(store: Store, since: datetime, until: datetime) -> dict[str, Any]:
    """Cases detected in [since, until): per playbook count, open, closed and the average and
    maximum seconds to acknowledge / contain / close; and the same per case. A dry run is no
    incident: dry-run cases are left out of every figure."""
    ensure_tables(store)
    cols = {"acknowledge": "acknowledged_at", "contain": "contained_at", "close": "closed_at"}
    agg = ", ".join(f"AVG({_SPAN.format(col=c)}) AS avg_to_{k}, MAX({_SPAN.format(col=c)}) AS max_to_{k}"
                    for k, c in cols.items())
    params = (iso(since), iso(until))
    per_playbook = [dict(r) for r in store.query(
        f"SELECT playbook, COUNT(*) AS cases, SUM(status='closed') AS closed, SUM(status!='closed') AS open, {agg}"
        " FROM cases WHERE dry_run=0 AND detected_at>=? AND detected_at<? GROUP BY playbook ORDER BY playbook", params)]
    spans = ", ".join(f"{_SPAN.format(col=c)} AS to_{k}" for k, c in cols.items())
    per_case = [dict(r) for r in store.query(
        f"SELECT id, playbook, agency, severity, incident_type, status, detected_at, {spans}"
        " FROM cases WHERE dry_run=0 AND detected_at>=? AND detected_at<? ORDER BY detected_at", params)]
    by_type = [dict(r) for r in store.query(
        "SELECT incident_type, agency, COUNT(*) AS cases FROM cases WHERE dry_run=0 AND detected_at>=? AND detected_at<?"
        " GROUP BY incident_type, agency ORDER BY incident_type, agency", params)]
    return {"since": iso(since), "until": iso(until), "per_playbook": per_playbook, "per_case": per_case,
            "by_type_and_agency": by_type}
