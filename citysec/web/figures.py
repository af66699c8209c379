"""The dashboards' figures, computed once per change of the store.

The city dashboard shows the periodic report's figures, the ranking with its trend, the open
incidents with their deadlines and the most severe findings: over a million documents that is
seconds of SQL (the same as `citysec report … --format json`). They change only when something is
recorded (a history row, an event, a triage decision, a case's audit entry) or when the hour turns
(the period's end, findings' deadlines), so they are computed once for that state, in one thread at
a time, and every page of every account reads them; an officer's dashboard takes its agencies' part.
Time left before a case's deadline is counted at rendering, from the deadline itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from citysec import queries

# the newest row of each table whose rows change the figures (rowids only grow: O(1) each)
VERSION_SQL = ("SELECT (SELECT max(rowid) FROM history), (SELECT max(rowid) FROM events),"
               " (SELECT max(seq) FROM triage_log), (SELECT count(*) FROM triage),"
               " (SELECT max(rowid) FROM case_audit), (SELECT count(*) FROM cases)")
TOP_FINDINGS = 10


def case_rows(ctx, engine, status: str | None, agencies: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The cases (``status`` "active", "closed" or None for all) of ``agencies`` (None: every
    agency), each with its next deadline not met and its phase's title."""
    from playbooks import views
    from playbooks.casedb import case_row
    from playbooks.operations import case_deadlines
    wanted = None if agencies is None else set(agencies)
    now = ctx.store.clock()
    phases: dict[str, dict] = {}
    out = []
    one = next(iter(wanted)) if wanted is not None and len(wanted) == 1 else None
    for r in views.list_cases(engine, status=status, agency=one):
        if wanted is not None and r["agency"] not in wanted:
            continue
        dl = [d.as_dict() for d in case_deadlines(engine, case_row(ctx.store, r["id"]), now)]
        due = [d for d in dl if d["due"] and not d["met_at"]]
        if r["playbook"] not in phases:
            phases[r["playbook"]] = {p.id: p.title.model_dump() for p in engine.playbook(r["playbook"]).playbook.phases}
        out.append(r | {"next_deadline": min(due, key=lambda d: d["due"]) if due else None,
                        "phase_title": phases[r["playbook"]].get(r["phase"], {}), "dry_run": bool(r["dry_run"])})
    return out


class DashboardFigures:
    def __init__(self, ctx, engine: Callable[[], Any]):
        self.ctx = ctx
        self.engine = engine
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._value: dict[str, Any] | None = None

    def version(self) -> tuple:
        now = self.ctx.store.clock()
        return (*tuple(self.ctx.store.query(VERSION_SQL)[0]), now.strftime("%Y%m%d%H"))

    def get(self) -> dict[str, Any]:
        """{"period", "figures" (city and every agency, with the change since the previous period),
        "ranking"} of the current half-year, "cases" (every agency's open cases) and "todo" (the
        city's most severe findings)."""
        key = self.version()
        if self._key == key and self._value is not None:
            return self._value
        with self._lock:
            if self._key == key and self._value is not None:   # computed by another request meanwhile
                return self._value
            period = queries.current_period(self.ctx)
            value = {"period": period.label, "figures": queries.figures(self.ctx, period),
                     "ranking": queries.ranking(self.ctx, period),
                     "cases": case_rows(self.ctx, self.engine(), "active"),
                     "todo": queries.findings(self.ctx, agencies=[a.id for a in self.ctx.city.agencies],
                                              limit=TOP_FINDINGS)}
            self._key, self._value = key, value
            return value

    def warm(self) -> threading.Thread:
        """Compute in the background (at start), so the first page does not wait."""
        t = threading.Thread(target=self.get, name="citysec-dashboard-warm", daemon=True)
        t.start()
        return t
