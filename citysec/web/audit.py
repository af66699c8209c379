"""The console's own append-only, hash-chained log: logins, failed and throttled logins, logouts,
account changes. Decisions taken in the console go to the logs of what they decide (the triage log,
the case audit, the drill's events) with the logged-in account as the actor; this log holds the rest.
"""

from __future__ import annotations

import json
from typing import Any

from findings import chain

SCHEMA = """
CREATE TABLE IF NOT EXISTS web_audit (
    seq    INTEGER PRIMARY KEY,
    ts     TEXT NOT NULL,
    actor  TEXT NOT NULL,
    what   TEXT NOT NULL,
    data   TEXT NOT NULL,
    prev   TEXT NOT NULL,
    hash   TEXT NOT NULL
)
"""


def ensure_schema(store) -> None:
    with store.write() as c:
        c.execute(SCHEMA)


def _fields(r: dict[str, Any]) -> tuple:
    return (r["seq"], r["ts"], r["actor"], r["what"], r["data"])


def append(c, ts: str, actor: str, what: str, data: dict[str, Any]) -> None:
    """One entry, inside the caller's write transaction."""
    last = c.execute("SELECT seq, hash FROM web_audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (last[0] + 1, last[1]) if last else (1, chain.GENESIS)
    body = json.dumps(data, ensure_ascii=False, sort_keys=True)
    row = {"seq": seq, "ts": ts, "actor": actor, "what": what, "data": body}
    c.execute("INSERT INTO web_audit VALUES (?,?,?,?,?,?,?)",
              (seq, ts, actor, what, body, prev, chain.link_hash(prev, *_fields(row))))


def entries(store, limit: int = 200) -> list[dict[str, Any]]:
    return [dict(r) | {"data": json.loads(r["data"])}
            for r in store.query("SELECT * FROM web_audit ORDER BY seq DESC LIMIT ?", (limit,))]


def verify(store) -> list[str]:
    rows = [dict(r) for r in store.query("SELECT * FROM web_audit ORDER BY seq")]
    return chain.verify(rows, _fields, prefix="console log: ")
