"""Read models shared by the command and the console: the same rows, the same order, the same figures.

Each function takes the application context (:class:`citysec.app.App`) and plain filters, and returns
plain data. Agency filtering is a list of agency ids (the console passes the account's scope).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from findings.model import utcnow

SEVERITIES = ("info", "low", "medium", "high", "critical")
SEV_RANK = {s: i for i, s in enumerate(SEVERITIES)}
STATUSES = {"active": ("open", "reopened"), "open": ("open",), "reopened": ("reopened",),
            "closed": ("closed",), "all": None}


def deadlines_of(app):
    from citysec.jobs.triage import deadlines_of as of
    return of(app)


def findings(app, *, agencies: Iterable[str] | None = None, status: str = "active", severity: str | None = None,
             since: datetime | None = None, check: str | None = None, triage_: str | None = None,
             overdue_only: bool = False, limit: int | None = None) -> list[dict[str, Any]]:
    """The current findings, most severe first, each with its triage decision and deadline.
    ``agencies=None`` means every agency; an empty list means none."""
    from findings import triage
    from findings.deadlines import overdue

    wanted = None if agencies is None else set(agencies)
    if wanted is not None and not wanted:
        return []
    rows = app.store.current(agency=next(iter(wanted)) if wanted and len(wanted) == 1 else None,
                             status=STATUSES[status], since=since, check=check)
    if wanted is not None:
        rows = [r for r in rows if r["agency"] in wanted]
    if severity:
        rows = [r for r in rows if SEV_RANK[r["severity"]] >= SEV_RANK[severity]]
    rows.sort(key=lambda r: (-SEV_RANK[r["severity"]], r["agency"], r["check_id"], r["host"] or ""))
    active = triage.active(app.store)
    late = {r["fingerprint"]: r["due"] for r in overdue(app.store, deadlines_of(app))}
    out = []
    for r in rows:
        t = active.get(r["fingerprint"])
        kind = t["kind"].replace("_", "-") if t else None
        if triage_ and (kind or "none") != triage_:
            continue
        if overdue_only and r["fingerprint"] not in late:
            continue
        doc = json.loads(r["doc"])
        out.append({k: r[k] for k in ("fingerprint", "agency", "check_id", "host", "port", "verdict", "severity",
                                      "status", "first_seen", "last_seen")}
                   | {"message": doc.get("message", ""), "host_name": (doc.get("host") or {}).get("name"),
                      "check_name": (doc.get("rule") or {}).get("name"),
                      "triage": kind, "triage_until": t["until"] if t else None,
                      "overdue_since": late.get(r["fingerprint"])})
        if limit and len(out) >= limit:
            break
    return out


def current_period(app):
    """The half-year the dashboard shows (the one a 6-monthly report of today would cover)."""
    from reports.period import parse_period
    now = app.store.clock() if app.store else utcnow()
    return parse_period(f"{now.year}-H{1 if now.month <= 6 else 2}")


def figures(app, period, *, agency: str | None = None, source: str = "sqlite") -> dict[str, Any]:
    """The periodic report's figures (city and agencies) for a period, triage included."""
    from reports.summary import period_figures

    from citysec.report_inputs import add_triage, open_query, orgs_of
    q = open_query(app, source)
    return add_triage(app, period_figures(q, period, orgs_of(app), agency=agency), period)


def ranking(app, period, *, trend: int = 3, source: str = "sqlite") -> dict[str, Any]:
    """The readiness ranking of the period with ``trend`` periods of history (as `report ranking`)."""
    from reports import ranking as rk
    from reports.summary import period_figures

    from citysec.report_inputs import add_triage, open_query, orgs_of
    q, orgs = open_query(app, source), orgs_of(app)
    per = [(pp.label, add_triage(app, period_figures(q, pp, orgs, compare=False), pp)["agencies"])
           for pp in period.history(trend)]
    return rk.rank(per, app.city.reports.weights)
