"""Read models shared by the command and the console: the same rows, the same order, the same figures.

Each function takes the application context (:class:`citysec.app.App`) and plain filters, and returns
plain data. Agency filtering is a list of agency ids (the console passes the account's scope).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from findings.model import iso, parse_ts, utcnow

SEVERITIES = ("info", "low", "medium", "high", "critical")
SEV_RANK = {s: i for i, s in enumerate(SEVERITIES)}
STATUSES = {"active": ("open", "reopened"), "open": ("open",), "reopened": ("reopened",),
            "closed": ("closed",), "all": None}


def deadlines_of(app):
    from citysec.jobs.triage import deadlines_of as of
    return of(app)


def findings(app, *, agencies: Iterable[str] | None = None, status: str = "active", severity: str | None = None,
             since: datetime | None = None, check: str | None = None, triage_: str | None = None,
             overdue_only: bool = False, start: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
    """The current findings, most severe first, each with its triage decision in force and its
    deadline (``overdue_since``). ``agencies=None`` means every agency; an empty list, none. Filters,
    order and paging run in SQL (a city has hundreds of thousands of findings)."""
    return _findings(app, agencies, status, severity, since, check, triage_, overdue_only, start, limit)[0]


def findings_count(app, **filters: Any) -> int:
    """How many findings :func:`findings` would give without paging."""
    return _findings(app, filters.pop("agencies", None), count_only=True, **filters)[1]


def _findings(app, agencies, status="active", severity=None, since=None, check=None, triage_=None,
              overdue_only=False, start=0, limit=None, count_only=False) -> tuple[list[dict[str, Any]], int]:
    from findings.deadlines import ACTIVE
    from findings.store import SEVERITY_ORDER

    if agencies is not None:
        agencies = list(agencies)
        if not agencies:
            return [], 0
    now = iso(app.store.clock())
    days, dparams = deadlines_of(app).sql()
    decision = "(SELECT kind FROM triage t WHERE t.fingerprint=current.fingerprint AND (t.until IS NULL OR t.until > ?))"
    where, params = ["kind='state'"], []
    if agencies is not None:
        where.append(f"agency IN ({','.join('?' * len(agencies))})"), params.extend(agencies)
    statuses = STATUSES[status]
    if statuses:
        where.append(f"status IN ({','.join('?' * len(statuses))})"), params.extend(statuses)
    if severity:
        where.append(f"{SEVERITY_ORDER} >= ?"), params.append(SEV_RANK[severity])
    if check:
        where.append("(check_id=? OR check_id LIKE ?)"), params.extend([check, check.replace("%", "") + ".%"])
    if since:
        where.append("last_checked>=?"), params.append(iso(since))
    if triage_ == "none":
        where.append(f"{decision} IS NULL"), params.append(now)
    elif triage_:
        where.append(f"{decision} = ?"), params.extend([now, triage_.replace("-", "_")])
    late = f"({ACTIVE} AND opened_at IS NOT NULL AND {decision} IS NULL AND julianday(?) - julianday(opened_at) > {days})"
    if overdue_only:
        where.append(late), params.extend([now, now, *dparams])
    sql_where = " AND ".join(where)
    total = app.store.query(f"SELECT count(*) FROM current WHERE {sql_where}", params)[0][0]
    if count_only:
        return [], total
    rows = app.store.query(
        f"SELECT *, {decision} AS t_kind, (SELECT until FROM triage t WHERE t.fingerprint=current.fingerprint) AS t_until,"
        f" {late} AS is_late, {days} AS days FROM current WHERE {sql_where}"
        f" ORDER BY {SEVERITY_ORDER} DESC, agency, check_id, host LIMIT ? OFFSET ?",
        [now, now, now, *dparams, *dparams, *params, -1 if limit is None else int(limit), max(0, int(start))])
    out = []
    for r in rows:
        doc = json.loads(r["doc"])
        due = (parse_ts(r["opened_at"]) + timedelta(days=r["days"])) if r["is_late"] else None
        out.append({k: r[k] for k in ("fingerprint", "agency", "check_id", "host", "port", "verdict", "severity",
                                      "status", "first_seen", "last_seen")}
                   | {"message": doc.get("message", ""), "host_name": (doc.get("host") or {}).get("name"),
                      "check_name": (doc.get("rule") or {}).get("name"),
                      "triage": r["t_kind"].replace("_", "-") if r["t_kind"] else None,
                      "triage_until": r["t_until"] if r["t_kind"] else None,
                      "overdue_since": iso(due) if due else None})
    return out, total


def current_period(app):
    """The half-year the dashboard shows (the one a 6-monthly report of today would cover)."""
    from reports.period import parse_period
    now = app.store.clock() if app.store else utcnow()
    return parse_period(f"{now.year}-H{1 if now.month <= 6 else 2}")


def figures(app, period, *, agency: str | None = None, source: str = "sqlite") -> dict[str, Any]:
    """The periodic report's figures (city and agencies) for a period, triage included."""
    from citysec.report_inputs import add_triage, false_positives, labels_of, open_query, orgs_of
    from reports.summary import period_figures
    q = open_query(app, source)
    figs = period_figures(q, period, orgs_of(app, source), agency=agency, false_positives=false_positives(app))
    return add_triage(app, figs, period) | labels_of(app)


def ranking(app, period, *, trend: int = 3, source: str = "sqlite") -> dict[str, Any]:
    """The readiness ranking of the period with ``trend`` periods of history (as `report ranking`)."""
    from citysec.report_inputs import add_triage, false_positives, open_query, orgs_of
    from reports import ranking as rk
    from reports.summary import period_figures
    q, orgs, fps = open_query(app, source), orgs_of(app, source), false_positives(app)
    per = [(pp.label, add_triage(app, period_figures(q, pp, orgs, compare=False, false_positives=fps),
                                 pp)["agencies"]) for pp in period.history(trend)]
    return rk.rank(per, app.city.reports.weights)
