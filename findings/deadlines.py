"""Remediation deadlines per severity (and per agency): overdue findings, and the share of
findings fixed within their deadline. The days come from the regulatory profile (``config/``
passes them as plain values); this module counts in SQL, never by reading documents.

A finding's deadline runs from its opening (``opened_at``: first seen failing, or reopened). A
finding under a triage decision in force (false positive, accepted risk) is never overdue; an
accepted risk is counted as *documented*, apart from fixed and late (docs/reports.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from findings.model import iso, parse_ts
from findings.triage import queue

ACTIVE = "status IN ('open','reopened')"
IN_FORCE = "(SELECT fingerprint FROM triage WHERE until IS NULL OR until > ?)"


@dataclass(frozen=True)
class Deadlines:
    days: Mapping[str, int]                                              # severity → days
    agencies: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # agency → severity → days

    def days_for(self, agency: str, severity: str) -> int | None:
        return self.agencies.get(agency, {}).get(severity, self.days.get(severity))

    def sql(self) -> tuple[str, list[Any]]:
        """A CASE expression of the deadline in days of a `current` row (NULL: no deadline)."""
        parts, params = [], []
        for agency, days in sorted(self.agencies.items()):
            for sev, n in sorted(days.items()):
                parts.append("WHEN agency=? AND severity=? THEN ?")
                params += [agency, sev, n]
        for sev, n in sorted(self.days.items()):
            parts.append("WHEN severity=? THEN ?")
            params += [sev, n]
        return ("CASE " + " ".join(parts) + " ELSE NULL END" if parts else "NULL"), params


def overdue(store, d: Deadlines, *, agency: str | None = None) -> list[dict[str, Any]]:
    """Active findings past their deadline, without a triage decision in force."""
    now = iso(store.clock())
    days, params = d.sql()
    sql = (f"SELECT fingerprint, agency, check_id, host, port, severity, status, opened_at, {days} AS days"
           f" FROM current WHERE kind='state' AND {ACTIVE} AND opened_at IS NOT NULL"
           f" AND fingerprint NOT IN {IN_FORCE} AND julianday(?) - julianday(opened_at) > {days}"
           + (" AND agency=?" if agency else "") + " ORDER BY agency, opened_at")
    rows = store.query(sql, [*params, now, now, *params, *([agency] if agency else [])])
    return [dict(r) | {"due": iso(parse_ts(r["opened_at"]) + timedelta(days=r["days"]))} for r in rows]


def overdue_counts(store, d: Deadlines) -> dict[str, int]:
    return {a: len(rows) for a, rows in _by_agency(overdue(store, d)).items()}


def _by_agency(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(r["agency"], []).append(r)
    return out


def queue_overdue(store, d: Deadlines) -> int:
    """Queue each overdue finding for notification, once per opening."""
    rows = overdue(store, d)
    now = store.clock()
    with store.write() as c:
        for r in rows:
            queue(c, now, "overdue", r["fingerprint"], marker=r["opened_at"], extra={"due": r["due"]})
    return len(rows)


def within_deadline(store, d: Deadlines, start: datetime, end: datetime) -> dict[str, dict[str, Any]]:
    """Per agency, the findings whose deadline fell in [start, end) or that were fixed in it:
    ``met`` (fixed within the deadline), ``late`` (fixed after it), ``overdue`` (still open past
    it at ``end``), ``accepted`` (an accepted risk in force: documented, not fixed and not late;
    left out of the share), and ``pct`` = met / (met + late + overdue)."""
    days, params = d.sql()
    s, e = iso(start), iso(end)
    at = f"julianday(opened_at) + {days}"
    # a fixed finding's row holds the passing severity (info): its deadline is its last failing one's
    sql = (f"WITH f AS (SELECT fingerprint, agency, status, opened_at, closed_at, COALESCE((SELECT h.severity"
           f" FROM history h WHERE h.fingerprint=c.fingerprint AND h.verdict='fail' ORDER BY h.ts DESC LIMIT 1),"
           f" c.severity) AS severity FROM current c WHERE c.kind='state' AND c.opened_at IS NOT NULL)"
           f" SELECT agency,"
           f" SUM(CASE WHEN t.kind IS NULL AND status='closed' AND julianday(closed_at) <= {at} THEN 1 ELSE 0 END),"
           f" SUM(CASE WHEN t.kind IS NULL AND status='closed' AND julianday(closed_at) > {at} THEN 1 ELSE 0 END),"
           f" SUM(CASE WHEN t.kind IS NULL AND {ACTIVE} AND {at} < julianday(?) THEN 1 ELSE 0 END),"
           f" SUM(CASE WHEN t.kind='accepted' AND {ACTIVE} THEN 1 ELSE 0 END)"
           f" FROM f LEFT JOIN (SELECT fingerprint fp, kind FROM triage WHERE until IS NULL OR until > ?) t"
           f" ON t.fp=f.fingerprint WHERE {days} IS NOT NULL AND (t.kind IS NULL OR t.kind='accepted')"
           f" AND ((status='closed' AND closed_at >= ? AND closed_at < ?) OR ({ACTIVE} AND {at} < julianday(?)))"
           f" GROUP BY agency")
    args = [*params, *params, *params, e, e, *params, s, e, *params, e]
    out = {}
    for agency, met, late, over, accepted in store.query(sql, args):
        due = met + late + over
        out[agency] = {"met": met, "late": late, "overdue": over, "accepted": accepted,
                       "pct": round(100 * met / due, 1) if due else None}
    return out
