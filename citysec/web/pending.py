"""Risk acceptances asked for in the console, waiting for a second account's approval.

An accepted risk needs two people: the account that asks (an officer or the SOC) and a different
``soc`` account that approves. The request waits here; the approval writes the decision to the triage
log (:func:`findings.triage.decide`) with both names, and the request goes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from findings.model import iso

SCHEMA = """
CREATE TABLE IF NOT EXISTS web_accept_requests (
    fingerprint TEXT PRIMARY KEY,
    agency      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    until       TEXT NOT NULL,
    by          TEXT NOT NULL,
    at          TEXT NOT NULL
)
"""


def ensure_schema(store) -> None:
    with store.write() as c:
        c.execute(SCHEMA)


def request(store, fp: str, agency: str, *, reason: str, until: datetime | None, by: str) -> None:
    from findings.errors import UsageError
    now = store.clock()
    if until is None:
        raise UsageError("until: an accepted risk needs the date it ends")
    if until <= now:
        raise UsageError(f"until: {iso(until)} is in the past")
    with store.write() as c:
        c.execute("INSERT OR REPLACE INTO web_accept_requests VALUES (?,?,?,?,?,?)",
                  (fp, agency, reason, iso(until), by, iso(now)))


def get(store, fp: str) -> dict[str, Any] | None:
    rows = store.query("SELECT * FROM web_accept_requests WHERE fingerprint=?", (fp,))
    return dict(rows[0]) if rows else None


def clear(store, fp: str) -> None:
    with store.write() as c:
        c.execute("DELETE FROM web_accept_requests WHERE fingerprint=?", (fp,))
