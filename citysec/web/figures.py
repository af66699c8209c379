"""The dashboards' figures, computed once per change of the store.

The city dashboard shows the periodic report's figures and the ranking with its trend: over a
million documents that is seconds of SQL (the same as `citysec report … --format json`). They change
only when something is recorded (a history row, an event, a triage decision) or when the hour turns
(deadlines, the period's end), so they are computed once for that state, in one thread at a time, and
every page of every account reads them; an officer's dashboard takes its agencies' part.
"""

from __future__ import annotations

import threading
from typing import Any

from citysec import queries

# the newest row of each table whose rows change the figures (rowids only grow: O(1) each)
VERSION_SQL = ("SELECT (SELECT max(rowid) FROM history), (SELECT max(rowid) FROM events),"
               " (SELECT max(seq) FROM triage_log), (SELECT count(*) FROM triage)")


class DashboardFigures:
    def __init__(self, ctx):
        self.ctx = ctx
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._value: dict[str, Any] | None = None

    def version(self) -> tuple:
        now = self.ctx.store.clock()
        return (*tuple(self.ctx.store.query(VERSION_SQL)[0]), now.strftime("%Y%m%d%H"))

    def get(self) -> dict[str, Any]:
        """{"period", "figures" (city and every agency, with the change since the previous period),
        "ranking"} of the current half-year."""
        key = self.version()
        if self._key == key and self._value is not None:
            return self._value
        with self._lock:
            if self._key == key and self._value is not None:   # computed by another request meanwhile
                return self._value
            period = queries.current_period(self.ctx)
            value = {"period": period.label, "figures": queries.figures(self.ctx, period),
                     "ranking": queries.ranking(self.ctx, period)}
            self._key, self._value = key, value
            return value

    def warm(self) -> threading.Thread:
        """Compute in the background (at start), so the first page does not wait."""
        t = threading.Thread(target=self.get, name="citysec-dashboard-warm", daemon=True)
        t.start()
        return t
