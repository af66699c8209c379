"""The append-only, hash-chained audit log of a case.

Each entry's hash is SHA-256 over the previous hash and the entry's canonical JSON (case, seq,
time, actor, what, data). SQLite triggers refuse UPDATE and DELETE on the table; the case row
keeps the head hash and the count, and every entry also goes to Elasticsearch as an event, so a
rewrite of the file is caught by :func:`verify_chain` (and by comparing with the shipped copy).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from findings.chain import GENESIS, link_hash
from findings.chain import verify as verify_links


def entry_hash(prev: str, case_id: str, seq: int, ts: str, actor: str, what: str, data: str) -> str:
    return link_hash(prev, case_id, seq, ts, actor, what, data)


def append(c: sqlite3.Connection, case_id: str, ts: str, actor: str, what: str, data: dict[str, Any]) -> dict:
    """Append one entry inside the caller's write transaction. Returns the entry."""
    row = c.execute("SELECT audit_head, audit_count FROM cases WHERE id=?", (case_id,)).fetchone()
    prev, count = (row[0] or GENESIS, row[1]) if row else (GENESIS, 0)
    seq = count + 1
    body = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    h = entry_hash(prev, case_id, seq, ts, actor, what, body)
    c.execute("INSERT INTO case_audit (case_id, seq, ts, actor, what, data, prev, hash) VALUES (?,?,?,?,?,?,?,?)",
              (case_id, seq, ts, actor, what, body, prev, h))
    c.execute("UPDATE cases SET audit_head=?, audit_count=? WHERE id=?", (h, seq, case_id))
    return {"case_id": case_id, "seq": seq, "ts": ts, "actor": actor, "what": what, "data": data, "hash": h}


def verify_chain(rows: list[dict], head: str | None, count: int) -> list[str]:
    """Problems with a case's audit entries (ordered by seq); empty when the chain holds (pure)."""
    problems = verify_links(rows, lambda r: (r["case_id"], r["seq"], r["ts"], r["actor"], r["what"], r["data"]))
    if len(rows) != count:
        problems.append(f"the case records {count} entries, the log holds {len(rows)}")
    if rows and head != rows[-1]["hash"]:
        problems.append("the case's head hash does not match the last entry")
    return problems
